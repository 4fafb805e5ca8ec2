/**
 * A request to a configured upstream: its credentials and extra headers, its timeouts, the context's `fetch`.
 * Every handler that calls an upstream builds the request here, so they cannot drift apart.
 *
 * @module
 */

import type { UpstreamConfig } from "../config/config.ts";
import type { ProxyContext } from "../context.ts";
import { ProxyError } from "../http/errors.ts";
import type { Dialect } from "../protocols/dialect.ts";
import { ANTHROPIC_MESSAGES } from "../protocols/anthropic_messages.ts";
import { OPENAI_CHAT } from "../protocols/openai_chat.ts";
import { upstreamRequestHeaders } from "../http/headers.ts";
import { callUpstream, readBody, type UpstreamResponse } from "../http/upstream_call.ts";

/** The protocols on both sides of a request. */
export interface RequestProtocols {
  /** The dialect the client spoke. */
  client: Dialect;
  /** The dialect of the upstream request. */
  upstream: Dialect;
}

/**
 * The headers of a request to `upstream`, from the client's (see `http/headers.ts` for the rules).
 *
 * @throws {ProxyError} 401 when the upstream's `api_key_env` variable was not set at start
 */
export function upstreamHeaders(upstream: UpstreamConfig, incoming: Headers, protocols: RequestProtocols): Headers {
  if (upstream.missingKeyEnv !== undefined) {
    throw new ProxyError(
      401,
      "authentication",
      `Upstream "${upstream.name}" has no API key: environment variable ${upstream.missingKeyEnv} is not set ` +
        "where the proxy runs; set it and restart the proxy",
    );
  }
  return upstreamRequestHeaders(incoming, {
    client: protocols.client,
    upstream: protocols.upstream,
    apiKey: upstream.apiKey,
    extra: upstream.headers,
  });
}

/**
 * The headers of a `GET /models` to `upstream` (model list, health probe): in the protocol it speaks, preferring
 * OpenAI, without a content type.
 *
 * @throws {ProxyError} 401 when the upstream's `api_key_env` variable was not set at start
 */
export function modelListHeaders(upstream: UpstreamConfig, incoming: Headers): Headers {
  const dialect = upstream.supportsOpenAI ? OPENAI_CHAT : ANTHROPIC_MESSAGES;
  const headers = upstreamHeaders(upstream, incoming, { client: dialect, upstream: dialect });
  headers.delete("content-type");
  return headers;
}

/** Query parameter names that may carry a credential (`?key=`, `?api_key=`, `?access_token=`…). */
const CREDENTIAL_PARAM = /key|token|secret|auth|password/i;

/**
 * The client's query string (`?…`, or `""`) to pass on to `upstream`: as sent, except that an upstream with its
 * own key gets none of the client's credential parameters (no `?key=OURS&key=THEIRS`).
 */
export function upstreamQuery(upstream: UpstreamConfig, requestUrl: string): string {
  const start = requestUrl.indexOf("?");
  if (start < 0) return "";
  const search = requestUrl.slice(start).replace(/#.*$/, "");
  if (upstream.apiKey === undefined) return search;
  const params = new URLSearchParams(search);
  for (const name of new Set(params.keys())) if (CREDENTIAL_PARAM.test(name)) params.delete(name);
  const kept = params.toString();
  return kept === "" ? "" : `?${kept}`;
}

/** What {@link postToUpstream} sends. */
export interface UpstreamPost {
  url: string;
  headers: Headers;
  body: string;
  /** Aborts the call: the client went away. */
  signal: AbortSignal;
}

/** POSTs to `upstream` with its connect, response, idle and total timeouts and its response size limit. */
export function postToUpstream(
  ctx: Pick<ProxyContext, "fetch">,
  upstream: UpstreamConfig,
  post: UpstreamPost,
): Promise<UpstreamResponse> {
  return callUpstream(post.url, {
    upstream: upstream.name,
    method: "POST",
    headers: post.headers,
    body: post.body,
    signal: post.signal,
    connectTimeoutMs: upstream.connectTimeoutMs,
    responseTimeoutMs: upstream.responseTimeoutMs,
    idleTimeoutMs: upstream.idleTimeoutMs,
    maxDurationMs: upstream.maxDurationMs,
    maxResponseBytes: upstream.maxResponseBytes,
    fetch: ctx.fetch,
  });
}

/**
 * The whole body of `response` as text, `""` without a body.
 *
 * @throws {ProxyError} 504 or 502 when the body fails before it is complete (see `readBody`)
 */
export async function readUpstreamText(response: UpstreamResponse): Promise<string> {
  const reader = response.reader();
  return reader ? new TextDecoder().decode(await readBody(reader)) : "";
}

/** What {@link getFromUpstream} asks. */
export interface UpstreamGet {
  url: string;
  headers: Headers;
  /** Aborts the call (the proxy stops). */
  signal?: AbortSignal;
  /** Longest time for the whole answer, shorter than a generation's timeouts (model lists, probes). */
  timeoutMs: number;
}

/** GETs from `upstream` (model list, health probe) with a short deadline for connect, headers and body. */
export function getFromUpstream(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  get: UpstreamGet,
): Promise<UpstreamResponse> {
  return callUpstream(get.url, {
    upstream: upstream.name,
    method: "GET",
    headers: get.headers,
    body: null,
    signal: get.signal
      ? AbortSignal.any([get.signal, AbortSignal.timeout(get.timeoutMs)])
      : AbortSignal.timeout(get.timeoutMs),
    connectTimeoutMs: Math.min(upstream.connectTimeoutMs, get.timeoutMs),
    responseTimeoutMs: get.timeoutMs,
    idleTimeoutMs: get.timeoutMs,
    fetch: ctx.fetch,
  });
}
