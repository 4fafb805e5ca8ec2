/**
 * Upstream URL building: base URL + canonical endpoint, whatever the base URL's form.
 *
 * A base URL whose path ends in a version segment (`/v1`, `/v4`, z.ai's `/api/paas/v4`) already names the API
 * root; any other (`http://host:8080`, `https://api.z.ai/api/anthropic`) gets `/v1` added. So `/v1/v1` and a
 * missing `/v1` cannot happen. Trailing slashes are ignored. A query string in the base URL (an API version or a
 * key) is kept on every URL built from it.
 *
 * @module
 */

import { isCredentialName } from "../observability/redact.ts";

const VERSION_SEGMENT = /\/v\d+(?:beta|alpha)?\d*$/;

/**
 * Joins an upstream base URL and an endpoint relative to the API root (e.g. `chat/completions`, `messages`);
 * `search` (the client's query string) follows the base URL's own query.
 *
 * @example
 * ```ts
 * upstreamUrl("http://127.0.0.1:8080", "chat/completions"); // "http://127.0.0.1:8080/v1/chat/completions"
 * upstreamUrl("http://127.0.0.1:8080/v1/", "chat/completions"); // "http://127.0.0.1:8080/v1/chat/completions"
 * ```
 */
export function upstreamUrl(baseUrl: string, endpoint: string, search = ""): string {
  return endpointUrl(apiRoot(baseUrl), endpoint, search);
}

/** A base URL split once into the API root endpoints go under and the base URL's own query. */
export interface ApiRoot {
  /** Scheme, authority and root path (with its version segment), no trailing slash, no query. */
  readonly root: string;
  /** The base URL's query without `?`, e.g. `api-version=2025-01-01`; `""` for none. */
  readonly query: string;
}

/** Parses a base URL into its {@link ApiRoot}; the config loader does this once per upstream. */
export function apiRoot(baseUrl: string): ApiRoot {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = VERSION_SEGMENT.test(path) ? path : `${path}/v1`;
  const query = url.search.replace(/^\?/, "");
  url.search = "";
  url.hash = "";
  return { root: url.toString().replace(/\/+$/, ""), query };
}

/** The URL of `endpoint` under `api`, with the base URL's query and then the client's `search`; no parsing. */
export function endpointUrl(api: ApiRoot, endpoint: string, search = ""): string {
  const query = [api.query, search.replace(/^\?/, "")].filter(Boolean).join("&");
  return `${api.root}/${endpoint.replace(/^\/+/, "")}${query === "" ? "" : `?${query}`}`;
}

/**
 * The URL of `endpoint` at the server's root, i.e. `api`'s root without its version segment (SGLang's
 * `/generate`, llama.cpp's `/tokenize`), with the base URL's query and then the client's `search`; no parsing.
 *
 * @example
 * ```ts
 * serverRootUrl(apiRoot("http://127.0.0.1:30000/v1"), "generate"); // "http://127.0.0.1:30000/generate"
 * ```
 */
export function serverRootUrl(api: ApiRoot, endpoint: string, search = ""): string {
  return endpointUrl({ root: api.root.replace(VERSION_SEGMENT, ""), query: api.query }, endpoint, search);
}

/** A base URL with any credentials removed, for display in health output and logs. */
export function displayUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.username = "";
  url.password = "";
  for (const key of [...url.searchParams.keys()]) {
    if (isCredentialName(key)) url.searchParams.set(key, "***");
  }
  return url.toString().replace(/\/$/, "");
}

/** Endpoint paths that end a base URL by mistake (`…/v1/chat/completions` instead of `…/v1`). */
const ENDPOINT_SUFFIX = /\/(chat\/completions|messages(\/count_tokens)?|completions|responses|embeddings|models)$/;

/**
 * What looks wrong in a base URL, or undefined: a path that ends in an endpoint (the proxy adds endpoints itself)
 * or a doubled version segment (`/v1/v1`). Either makes every request miss (404).
 */
export function baseUrlProblem(baseUrl: string): string | undefined {
  const path = new URL(baseUrl).pathname.replace(/\/+$/, "");
  const endpoint = ENDPOINT_SUFFIX.exec(path);
  if (endpoint) {
    return `ends in the endpoint path /${endpoint[1]}; give the API root (e.g. ${
      path.slice(0, endpoint.index) || "/v1"
    }), the proxy adds endpoints itself`;
  }
  if (/\/(v\d+)\/\1(\/|$)/.test(path)) return "has a doubled version segment (/v1/v1); give it once";
  return undefined;
}

/** The endpoints the proxy calls on an upstream, by name, as display URLs (credentials and query keys masked). */
export function upstreamEndpoints(
  upstream: { api: ApiRoot; supportsOpenAI: boolean; supportsAnthropic: boolean; tokenize: boolean },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (upstream.supportsOpenAI) out.chat = displayUrl(endpointUrl(upstream.api, "chat/completions"));
  if (upstream.supportsAnthropic) out.messages = displayUrl(endpointUrl(upstream.api, "messages"));
  out.models = displayUrl(endpointUrl(upstream.api, "models"));
  if (upstream.tokenize) out.tokenize = displayUrl(serverRootUrl(upstream.api, "tokenize"));
  return out;
}
