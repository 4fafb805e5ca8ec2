/**
 * Masks secrets before text reaches a log line or a dump file.
 *
 * Covered: `Authorization`/`Proxy-Authorization` credentials (any scheme: `Bearer`, `Basic`, …), `x-api-key`,
 * `api-key`, `x-goog-api-key` and `api_key`/`apikey` values in headers, JSON or `key=value` text, `key`, `api_key`,
 * `apikey`, `access_token` and `token` query parameters, and provider keys shaped like `sk-…`, `sk-ant-…`,
 * `sk-proj-…`. Masking keeps the name and the scheme (`Bearer [REDACTED]`) so logs stay readable.
 *
 * @module
 */

/** What a secret is replaced with. */
export const REDACTED = "[REDACTED]";

// `Authorization: Bearer abc`, `"authorization": "Basic abc"`, `authorization=Bearer abc`: keep name and scheme.
const AUTHORIZATION =
  /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token|digest|apikey)\s+)?[^\s"',;&}]+/gi;
// A bare `Bearer abc` anywhere else (e.g. a curl command line).
const BEARER = /\b(bearer\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{8,}/gi;
// `x-api-key: abc`, `"api-key": "abc"`, `api_key=abc`, `x-goog-api-key: abc`.
const API_KEY = /\b((?:x-(?:goog-)?)?api[-_]?key["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;&}]+/gi;
// `?key=abc`, `&api_key=abc`, `&access_token=abc`.
const QUERY_KEY = /([?&](?:key|api[-_]?key|access_token|token)=)[^&\s#"']+/gi;
// Provider keys: `sk-…`, `sk-ant-…`, `sk-proj-…` with at least 16 key characters.
const PROVIDER_KEY = /\bsk-(ant-|proj-)?[A-Za-z0-9_-]{16,}/g;

/**
 * Returns `text` with every secret it recognises replaced by {@link REDACTED}.
 *
 * @example Redact a header line and a URL
 * ```ts
 * import { redactSecrets } from "./redact.ts";
 * redactSecrets("Authorization: Bearer abc.def.ghi"); // "Authorization: Bearer [REDACTED]"
 * redactSecrets("https://host/v1/models?key=AIza123"); // "https://host/v1/models?key=[REDACTED]"
 * ```
 */
export function redactSecrets(text: string): string {
  return text
    .replace(
      AUTHORIZATION,
      (_match, prefix: string, scheme: string | undefined) => `${prefix}${scheme ? `${scheme} ` : ""}${REDACTED}`,
    )
    .replace(BEARER, `$1${REDACTED}`)
    .replace(API_KEY, `$1${REDACTED}`)
    .replace(QUERY_KEY, `$1${REDACTED}`)
    .replace(PROVIDER_KEY, (_match, prefix: string | undefined) => `sk-${prefix ?? ""}${REDACTED}`);
}

/** Headers whose whole value is a credential. */
const SECRET_HEADERS = new Set([
  "api-key",
  "x-api-key",
  "x-goog-api-key",
  "cookie",
  "set-cookie",
  "proxy-authorization",
  "authorization",
]);

/**
 * Returns a plain object of `headers` that is safe to log: names lower-cased, credential headers masked (the
 * authorization scheme is kept: `Bearer [REDACTED]`), and every other value passed through {@link redactSecrets}.
 *
 * @example Redact request headers
 * ```ts
 * import { redactHeaders } from "./redact.ts";
 * redactHeaders(new Headers({ "x-api-key": "sk-ant-abc", accept: "text/event-stream" }));
 * // { accept: "text/event-stream", "x-api-key": "[REDACTED]" }
 * ```
 */
export function redactHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers] : Object.entries(headers);
  const safe: Record<string, string> = {};
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    safe[name] = SECRET_HEADERS.has(name) ? maskCredential(name, value) : redactSecrets(value);
  }
  return safe;
}

function maskCredential(name: string, value: string): string {
  if (name !== "authorization" && name !== "proxy-authorization") return REDACTED;
  const scheme = /^\s*([A-Za-z]+)\s+\S/.exec(value);
  return scheme ? `${scheme[1]} ${REDACTED}` : REDACTED;
}
