/**
 * The one upstream client: every call the proxy makes to an upstream (generation, count_tokens, model lists, health
 * probes, the garbage validator) is prepared and sent here, so the rules cannot drift apart.
 *
 * - URL: the endpoint under the upstream's API root, or at its server root (`routing/upstream_url.ts`); a client's
 *   query string passes on, without its credential parameters when the upstream has its own key.
 * - Credentials and headers: the client's headers after `http/headers.ts`'s hygiene; the upstream's key replaces the
 *   client's credentials (in the headers its dialect takes); an
 *   `api_key_env` variable that was not set is a 401 naming it; the upstream's extra `headers` win.
 * - Bounds: the upstream's connect, response, idle and total timeouts and `max_response_bytes`; a call with a
 *   deadline (model lists, probes) has each of them capped by it. `accept-encoding: identity`, decoding, the byte
 *   count and the abort on client disconnect are `http/upstream_call.ts`'s, which every call goes through.
 * - Failures: errors name the upstream, never its URL, address or port (`http/upstream_failure.ts`), and show no
 *   configured secret: a call's `ProxyError` is masked before it reaches the client, and
 *   {@link UpstreamClient.failureReason} gives the same for logs and `/health`.
 *
 * @module
 */

import type { UpstreamConfig } from "../config/config.ts";
import { ProxyError } from "../http/errors.ts";
import { upstreamRequestHeaders } from "../http/headers.ts";
import { ANTHROPIC_MESSAGES } from "../protocols/anthropic_messages.ts";
import type { Dialect } from "../protocols/dialect.ts";
import { OPENAI_CHAT } from "../protocols/openai_chat.ts";
import { callUpstream, readBody, type UpstreamResponse } from "../http/upstream_call.ts";
import { upstreamFailureReason } from "../http/upstream_failure.ts";
import { isCredentialName, Redactor } from "../observability/redact.ts";
import { endpointUrl, serverRootUrl } from "../routing/upstream_url.ts";

/** The protocols on both sides of a request. */
export interface RequestProtocols {
  /** The dialect the client spoke (the proxy's own calls: the upstream's). */
  client: Dialect;
  /** The dialect of the upstream request; its auth says which headers carry the upstream's key. */
  upstream: Dialect;
}

/** Options of {@link UpstreamClient}. */
export interface UpstreamClientOptions {
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Masks secrets in failure reasons; give it the configured keys. @default known secret shapes only */
  redactor?: Redactor;
}

/** What one call to an upstream asks for; see {@link UpstreamClient.prepare}. */
export interface UpstreamCallPlan {
  /** The endpoint below the API root (`chat/completions`), or below the server root with {@link serverRoot}. */
  endpoint: string;
  /** The endpoint is at the server's root (SGLang's `/generate`, llama.cpp's `/tokenize`). */
  serverRoot?: boolean;
  /** The client's request URL, whose query string is passed on; none: only the base URL's query. */
  clientUrl?: string;
  /** @default "POST" */
  method?: "GET" | "POST";
  /** The client's headers; none for the proxy's own calls. */
  incoming?: Headers;
  /** @default the upstream's own protocol on both sides (OpenAI when it speaks both) */
  protocols?: RequestProtocols;
  /** Longest time for the whole call, capping each of the upstream's timeouts (model lists, probes). */
  deadlineMs?: number;
}

/** A call with its URL and headers settled; it may be sent more than once (retries). */
export interface PreparedCall {
  /** The URL called, query included: log it through `displayUrl`. */
  readonly url: string;
  /** Sends the call (`body` null for a GET) and waits for the response headers; `signal`: the client went away. */
  send(body: string | null, signal?: AbortSignal): Promise<UpstreamResponse>;
}

/** Calls upstreams; one per proxy context, shared by every handler and the validator. */
export class UpstreamClient {
  #fetch: typeof fetch | undefined;
  #redactor: Redactor;

  constructor(options: UpstreamClientOptions = {}) {
    this.#fetch = options.fetch;
    this.#redactor = options.redactor ?? new Redactor();
  }

  /**
   * Settles the URL and headers of a call to `upstream`.
   *
   * @throws {ProxyError} 401 when the upstream's `api_key_env` variable was not set at start
   */
  prepare(upstream: UpstreamConfig, plan: UpstreamCallPlan): PreparedCall {
    if (upstream.missingKeyEnv !== undefined) {
      throw new ProxyError(
        401,
        "authentication",
        `Upstream "${upstream.name}" has no API key: environment variable ${upstream.missingKeyEnv} is not set ` +
          "where the proxy runs; set it and restart the proxy",
      );
    }
    const url = this.url(upstream, plan);
    const own = upstream.supportsOpenAI ? OPENAI_CHAT : ANTHROPIC_MESSAGES;
    const protocols = plan.protocols ?? { client: own, upstream: own };
    const method = plan.method ?? "POST";
    const headers = upstreamRequestHeaders(plan.incoming ?? new Headers(), {
      client: protocols.client,
      upstream: protocols.upstream,
      apiKey: upstream.apiKey,
      extra: upstream.headers,
    });
    if (method === "GET") headers.delete("content-type");
    const { deadlineMs = Infinity } = plan;
    return {
      url,
      send: (body, signal) => {
        const signals = signal ? [signal] : [];
        if (deadlineMs !== Infinity) signals.push(AbortSignal.timeout(deadlineMs));
        return callUpstream(url, {
          upstream: upstream.name,
          method,
          headers,
          body: method === "GET" ? null : body,
          signal: AbortSignal.any(signals),
          connectTimeoutMs: Math.min(upstream.connectTimeoutMs, deadlineMs),
          responseTimeoutMs: Math.min(upstream.responseTimeoutMs, deadlineMs),
          idleTimeoutMs: Math.min(upstream.idleTimeoutMs, deadlineMs),
          maxDurationMs: upstream.maxDurationMs,
          maxResponseBytes: upstream.maxResponseBytes,
          fetch: this.#fetch,
        }).catch((error) => {
          throw this.#masked(error);
        });
      },
    };
  }

  /** The URL a call of `plan` goes to, query included (for display: `displayUrl`). */
  url(upstream: UpstreamConfig, plan: Pick<UpstreamCallPlan, "endpoint" | "serverRoot" | "clientUrl">): string {
    const search = plan.clientUrl === undefined ? "" : upstreamQuery(upstream, plan.clientUrl);
    return (plan.serverRoot ? serverRootUrl : endpointUrl)(upstream.api, plan.endpoint, search);
  }

  /** Why a call failed, safe to log and to show: no URL, address or port, no configured secret. */
  failureReason(error: unknown): string {
    return this.#redactor.redact(upstreamFailureReason(error));
  }

  /** `error`, with any secret in a {@link ProxyError}'s message masked: it goes to the client. */
  #masked(error: unknown): unknown {
    if (!(error instanceof ProxyError)) return error;
    const message = this.#redactor.redact(error.message);
    if (message === error.message) return error;
    return new ProxyError(error.status, error.kind, message, {
      cause: error.cause,
      headers: error.headers,
      code: error.code,
    });
  }
}

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
  for (const name of new Set(params.keys())) if (isCredentialName(name)) params.delete(name);
  const kept = params.toString();
  return kept === "" ? "" : `?${kept}`;
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
