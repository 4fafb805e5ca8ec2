/**
 * Why an upstream call failed, in a few words that are safe to show and to log.
 *
 * Deno's `fetch` errors read like `error sending request for url (http://10.0.0.5:8080/v1/models?key=…): client
 * error (Connect): tcp connect error: Connection refused (os error 111)`: the full URL (query keys included), the
 * address and port. They are reduced to the reason (`connection refused`, `host name not found`, …); other
 * errors keep their own first line.
 *
 * @module
 */

const NETWORK_REASONS: Array<[RegExp, string]> = [
  [/connection refused/i, "connection refused"],
  [/connection reset|broken pipe|connection closed/i, "connection reset"],
  [/dns error|lookup address|name or service not known|nodename nor servname|no such host/i, "host name not found"],
  [/certificate|tls|ssl|handshake/i, "TLS handshake failed"],
  [/timed out/i, "connection timed out"],
  [/unreachable/i, "network unreachable"],
];

/**
 * The reason of an upstream call's failure: a network failure (fetch's `TypeError`) as a short phrase without URL,
 * host or port (`connection failed` when it names an address but no known reason); a timeout as `timed out`; any
 * other error as the first line of its message.
 */
export function upstreamFailureReason(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "timed out";
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TypeError) {
    const text = `${message} ${error.cause instanceof Error ? error.cause.message : ""}`;
    const known = NETWORK_REASONS.find(([pattern]) => pattern.test(text))?.[1];
    if (known) return known;
    if (/:\/\/|\burl\b|\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\]/i.test(text)) return "connection failed";
  }
  return message.split("\n")[0];
}
