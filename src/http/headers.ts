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

import type { Dialect } from "../protocols/dialect.ts";

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
  /** The dialect of the upstream request body. */
  upstream: Dialect;
  /** The dialect the client spoke. */
  client: Dialect;
  /** The upstream's own key; replaces the client's credentials. */
  apiKey?: string;
  /** Extra headers configured for the upstream; they win over the client's. */
  extra?: Readonly<Record<string, string>>;
}

/** Builds the headers of an upstream request from the client's. */
export function upstreamRequestHeaders(incoming: Headers, options: UpstreamHeaderOptions): Headers {
  const out = new Headers();
  const named = new Set(
    (incoming.get("connection") ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean),
  );
  const converting = options.client !== options.upstream;
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || named.has(name) || name.startsWith("proxy-")) continue;
    if (converting && name.startsWith("anthropic-")) continue;
    if (options.apiKey !== undefined && (CREDENTIAL_HEADERS.has(name) || name.startsWith("x-forwarded-"))) continue;
    out.set(name, value);
  }
  if (converting) options.upstream.auth.adoptCredentials(out);
  options.upstream.auth.setCredentials(out, options.apiKey);
  out.set("content-type", "application/json");
  for (const [name, value] of Object.entries(options.extra ?? {})) out.set(name, value);
  return out;
}

const PASSED_BACK =
  /^(content-type|retry-after(?:-ms)?|x-should-retry|x-request-id|request-id|openai-processing-ms|openai-version|anthropic-organization-id|x-ratelimit-.*|anthropic-ratelimit-.*|ratelimit-.*|cf-ray|x-sampling-proxy-garbage)$/;

/** Picks the upstream response headers the client should see. */
export function clientResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of upstream) if (PASSED_BACK.test(name)) out.set(name, value);
  return out;
}
