/**
 * `POST /v1/messages/count_tokens`, never a 404:
 * 1. an upstream that speaks Anthropic counts itself (passthrough, without the proxy's own thinking blocks, as
 *    generation does), unless it has no count_tokens endpoint (404, 405 or 501: some Anthropic-compatible servers
 *    serve only `/v1/messages`);
 * 2. an upstream with a llama.cpp-style `/tokenize` endpoint tokenizes the rendered request (plus a fixed cost
 *    per image, which cannot be tokenized as text);
 * 3. otherwise, or when tokenizing fails, a local estimate that counts system, tools and messages.
 *
 * @module
 */

import { ANTHROPIC_MESSAGES } from "../protocols/anthropic_messages.ts";
import { OPENAI_CHAT } from "../protocols/openai_chat.ts";
import type { UpstreamConfig } from "../config/config.ts";
import type { ProxyContext } from "../context.ts";
import { estimateAnthropicInputTokens, imageTokenEstimate, toTokenizeText } from "../convert/count_tokens.ts";
import { dropProxyThinkingFromRequest } from "../convert/proxy_thinking.ts";
import { readJsonBody } from "../http/body.ts";
import type { RequestLifecycle } from "../observability/lifecycle.ts";
import { errorResponse, ProxyError } from "../http/errors.ts";
import { clientResponseHeaders } from "../http/headers.ts";
import type { AnthropicCountTokensRequest } from "../protocols/anthropic.ts";
import { displayUrl } from "../routing/upstream_url.ts";
import { readUpstreamText } from "../upstream/client.ts";

/**
 * Handles a count_tokens request; `lifecycle` learns the route (passthrough when the upstream counts, converted when
 * it tokenizes or the proxy estimates).
 */
export async function handleCountTokens(
  ctx: ProxyContext,
  request: Request,
  lifecycle?: RequestLifecycle,
): Promise<Response> {
  try {
    const body = await readJsonBody(request, ctx.bodyLimits);
    const model = body.json.model;
    if (typeof model !== "string" || model === "") {
      throw new ProxyError(400, "invalid_request", 'Request body needs a "model" string');
    }
    if (!Array.isArray(body.json.messages)) {
      throw new ProxyError(400, "invalid_request", 'Request body needs a "messages" array');
    }
    const { upstream } = ctx.router.route(model);
    const mode = upstream.supportsAnthropic ? "passthrough" : "converted";
    const upstreamDialect = upstream.supportsAnthropic ? "anthropic" : "openai";
    lifecycle?.emit({ type: "routed", model, upstream: upstream.name, mode, dialect: "anthropic", upstreamDialect });
    // (1) The upstream counts.
    if (upstream.supportsAnthropic) {
      // Anthropic rejects thinking blocks the proxy signed, here as in generation.
      const text = dropProxyThinkingFromRequest(body.text, body.json) ? JSON.stringify(body.json) : body.text;
      const counted = await passthrough(ctx, request, upstream, text);
      if (counted !== undefined) return counted;
    }
    const req = body.json as AnthropicCountTokensRequest;
    // (2) The upstream tokenizes.
    if (upstream.tokenize) {
      const tokens = await tokenize(ctx, upstream, req, request);
      if (tokens !== undefined) return Response.json({ input_tokens: tokens + imageTokenEstimate(req) });
    }
    // (3) Local estimate.
    return Response.json({ input_tokens: estimateAnthropicInputTokens(req) });
  } catch (error) {
    if (error instanceof ProxyError) return errorResponse(ANTHROPIC_MESSAGES, error);
    throw error;
  }
}

/** Statuses that say the upstream has no count_tokens endpoint, rather than that the request failed. */
const NO_COUNT_TOKENS = new Set([404, 405, 501]);

/** The upstream's own count, or undefined (logged) when it has no count_tokens endpoint. */
async function passthrough(
  ctx: ProxyContext,
  request: Request,
  upstream: UpstreamConfig,
  text: string,
): Promise<Response | undefined> {
  const { url, send } = ctx.upstreamClient.prepare(upstream, {
    endpoint: "messages/count_tokens",
    incoming: request.headers,
    protocols: { client: ANTHROPIC_MESSAGES, upstream: ANTHROPIC_MESSAGES },
  });
  const response = await send(text, request.signal);
  const answer = await readUpstreamText(response);
  if (NO_COUNT_TOKENS.has(response.status)) {
    ctx.logger.log(
      "warn",
      `Upstream "${upstream.name}" has no count_tokens (status ${response.status} from ${displayUrl(url)}); ` +
        "counting locally",
    );
    return undefined;
  }
  return new Response(answer, { status: response.status, headers: clientResponseHeaders(response.headers) });
}

/** Asks the upstream's `/tokenize`; undefined (logged) when that fails. */
async function tokenize(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  req: AnthropicCountTokensRequest,
  request: Request,
): Promise<number | undefined> {
  const call = ctx.upstreamClient.prepare(upstream, {
    endpoint: "tokenize",
    serverRoot: true,
    incoming: request.headers,
    protocols: { client: ANTHROPIC_MESSAGES, upstream: OPENAI_CHAT },
  });
  try {
    const response = await call.send(JSON.stringify({ content: toTokenizeText(req) }), request.signal);
    const answer = JSON.parse(await readUpstreamText(response)) as { tokens?: unknown };
    if (response.status >= 300 || !Array.isArray(answer?.tokens)) throw new Error(`status ${response.status}`);
    return answer.tokens.length;
  } catch (error) {
    const reason = ctx.upstreamClient.failureReason(error);
    ctx.logger.log(
      "warn",
      `Tokenize on upstream "${upstream.name}" failed (${reason}); using the local estimate; ` +
        `url=${displayUrl(call.url)}`,
    );
    return undefined;
  }
}
