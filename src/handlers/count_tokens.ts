/**
 * `POST /v1/messages/count_tokens`: passthrough to an Anthropic-capable upstream.
 *
 * For other upstreams the conversion issue fills this seam; until then the answer is 501 in Anthropic shape, which
 * Claude Code treats as "counting not supported" and falls back on its own estimate.
 *
 * @module
 */

import type { ProxyContext } from "../context.ts";
import { readJsonBody } from "../http/body.ts";
import { errorResponse, ProxyError } from "../http/errors.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "../http/headers.ts";
import { callUpstream } from "../http/upstream_call.ts";
import { upstreamUrl } from "../routing/upstream_url.ts";

/** Handles a count_tokens request. */
export async function handleCountTokens(ctx: ProxyContext, request: Request): Promise<Response> {
  try {
    const body = await readJsonBody(request, ctx.config.listen.maxBodyBytes);
    const model = body.json.model;
    if (typeof model !== "string" || model === "") {
      throw new ProxyError(400, "invalid_request", 'Request body needs a "model" string');
    }
    const { upstream } = ctx.router.route(model);
    if (!upstream.supportsAnthropic) {
      throw new ProxyError(501, "not_implemented", `Upstream "${upstream.name}" cannot count Anthropic tokens`);
    }
    const response = await callUpstream(upstreamUrl(upstream.baseUrl, "messages/count_tokens"), {
      method: "POST",
      headers: upstreamRequestHeaders(request.headers, {
        clientProtocol: "anthropic",
        upstreamProtocol: "anthropic",
        apiKey: upstream.apiKey,
        extra: upstream.headers,
      }),
      body: body.text,
      signal: request.signal,
      connectTimeoutMs: upstream.connectTimeoutMs,
      responseTimeoutMs: upstream.responseTimeoutMs,
      idleTimeoutMs: upstream.idleTimeoutMs,
      fetch: ctx.fetch,
    });
    const text = response.body ? await new Response(response.body).text() : "";
    return new Response(text, { status: response.status, headers: clientResponseHeaders(response.headers) });
  } catch (error) {
    if (error instanceof ProxyError) return errorResponse("anthropic", error);
    throw error;
  }
}
