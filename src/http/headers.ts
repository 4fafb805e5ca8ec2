/**
 * Header hygiene for both directions.
 *
 * Request: everything the client sent, minus hop-by-hop headers (RFC 9110 §7.6.1 and any named in `Connection`),
 * `proxy-*`, `cookie`, `host`, `content-length`, `content-encoding` (the body forwarded is always the decoded
 * one) and the client's `accept-encoding` (`http/upstream_call.ts` asks every upstream for identity). When the
 * upstream has its own key,
 * the client's credentials (`authorization`, `x-api-key`, `api-key`, `x-goog-api-key`, `openai-organization`,
 * `openai-project`) and its forwarding headers (`forwarded`, `x-forwarded-*`, `x-real-ip`) are dropped and only the
 * proxy's key is sent; without one the client's own key passes. `anthropic-*` headers are dropped when the request
 * is converted to OpenAI, since they mean nothing there and break strict servers.
 *
 * Response: status, `content-type`, request ids, the retry hints the SDKs read (`retry-after`, `retry-after-ms`,
 * `x-should-retry`) and rate-limit headers pass back; framing headers do not (the runtime sets them).
 *
 * @module
 */

import type { Protocol } from "./errors.ts";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "content-length",
  "cookie",
  "accept-encoding",
  "content-encoding",
]);

/** Client headers that carry or qualify a credential, or claim a hop, dropped when the upstream has its own key. */
const CREDENTIAL_HEADERS = new Set([
  "authorization",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
  "openai-organization",
  "openai-project",
  "forwarded",
  "x-real-ip",
]);

/** Options of {@link upstreamRequestHeaders}. */
export interface UpstreamHeaderOptions {
  /** The protocol of the upstream request body. */
  upstreamProtocol: Protocol;
  /** The protocol the client spoke. */
  clientProtocol: Protocol;
  /** The upstream's own key; replaces the client's credentials. */
  apiKey?: string;
  /** Extra headers configured for the upstream; they win over the client's. */
  extra?: Readonly<Record<string, string>>;
  /** The headers that carry `apiKey` in the upstream's protocol. @default {@link protocolKeyHeaders} */
  keyHeaders?: KeyHeaders;
}

/** The headers that carry an upstream's own key in `protocol` (a dialect's auth headers). */
export type KeyHeaders = (protocol: Protocol, apiKey: string) => Readonly<Record<string, string>>;

/** The key as Anthropic servers (`x-api-key`) and OpenAI-compatible ones (`authorization: Bearer`) take it. */
export function protocolKeyHeaders(protocol: Protocol, apiKey: string): Readonly<Record<string, string>> {
  return protocol === "anthropic" ? { "x-api-key": apiKey } : { authorization: `Bearer ${apiKey}` };
}

/** Builds the headers of an upstream request from the client's. */
export function upstreamRequestHeaders(incoming: Headers, options: UpstreamHeaderOptions): Headers {
  const out = new Headers();
  const named = new Set(
    (incoming.get("connection") ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean),
  );
  const converting = options.clientProtocol !== options.upstreamProtocol;
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || named.has(name) || name.startsWith("proxy-")) continue;
    if (converting && name.startsWith("anthropic-")) continue;
    if (options.apiKey !== undefined && (CREDENTIAL_HEADERS.has(name) || name.startsWith("x-forwarded-"))) continue;
    out.set(name, value);
  }
  if (converting) moveCredentials(out, options.upstreamProtocol);
  if (options.apiKey !== undefined) {
    const keyHeaders = (options.keyHeaders ?? protocolKeyHeaders)(options.upstreamProtocol, options.apiKey);
    for (const [name, value] of Object.entries(keyHeaders)) out.set(name, value);
  }
  if (options.upstreamProtocol === "anthropic" && !out.has("anthropic-version")) {
    out.set("anthropic-version", "2023-06-01");
  }
  out.set("content-type", "application/json");
  for (const [name, value] of Object.entries(options.extra ?? {})) out.set(name, value);
  return out;
}

/** Carries the client's key over to the header the upstream's protocol expects. */
function moveCredentials(headers: Headers, upstream: Protocol): void {
  if (upstream === "openai") {
    const key = headers.get("x-api-key");
    headers.delete("x-api-key");
    if (key !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${key}`);
  } else {
    const auth = headers.get("authorization");
    if (auth !== null && !headers.has("x-api-key")) {
      headers.delete("authorization");
      headers.set("x-api-key", auth.replace(/^Bearer\s+/i, ""));
    }
  }
}

const PASSED_BACK =
  /^(content-type|retry-after(?:-ms)?|x-should-retry|x-request-id|request-id|openai-processing-ms|openai-version|anthropic-organization-id|x-ratelimit-.*|anthropic-ratelimit-.*|ratelimit-.*|cf-ray|x-sampling-proxy-garbage)$/;

/** Picks the upstream response headers the client should see. */
export function clientResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of upstream) if (PASSED_BACK.test(name)) out.set(name, value);
  return out;
}
