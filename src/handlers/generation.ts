/**
 * POST generation requests (chat completions, messages, SGLang's `/generate`, other `/v1/*` endpoints): the
 * request path of the proxy.
 *
 * 1. Read and validate the body (size cap, JSON object, `model`; optional on SGLang's `/generate`).
 * 2. Route the model to an upstream (a body without `model` by the `*` binding); refuse a path that upstream does
 *    not forward (`routing/forward_paths.ts`).
 * 3. Plan: passthrough when the upstream speaks the client's dialect, else the registered converter
 *    (`protocols/registry.ts`) to a dialect it speaks.
 * 4. Policy: sampling defaults / forced / stripped keys, rename, clamp — on the upstream's body (inside
 *    `sampling_params` for SGLang's `/generate`).
 * 5. Admit: a concurrency slot (bounded queue), then the throttle's pause; both abort with the client.
 * 6. Call the upstream with the client's abort signal and the upstream's timeouts. With garbage detection on, a
 *    chat completions or messages answer goes through the guard (`src/guard/`): streams are held back, cut, and
 *    retried or continued within the one client stream; whole answers are checked and retried before step 7.
 * 7. Answer: errors in the client's shape; passthrough bytes untouched; converted bodies and streams (streams
 *    assembled by `pipeline/response_pipeline.ts`).
 * 8. Finish once, when the body ends (complete, failed or cancelled): release the slot, record the end for the
 *    throttle, emit `finished` (the request's log line is its subscriber).
 *
 * Each step reports to the request's lifecycle (`observability/lifecycle.ts`): received, routed, admitted,
 * upstream headers, attempts, usage (read from each upstream answer by `observability/usage_tap.ts`), first byte,
 * finished.
 *
 * @module
 */

import { AdmissionError } from "../admission/errors.ts";
import type { UpstreamConfig } from "../config/config.ts";
import type { ProxyContext } from "../context.ts";
import type { Converter } from "../convert/converter.ts";
import { dropProxyThinkingFromRequest } from "../convert/proxy_thinking.ts";
import { readJsonBody } from "../http/body.ts";
import { errorResponse, ProxyError, upstreamErrorMessage } from "../http/errors.ts";
import { clientResponseHeaders } from "../http/headers.ts";
import type { StreamOutcome } from "../http/stream_end.ts";
import type { ExchangeOptions } from "../guard/exchange.ts";
import { vetAnswer } from "../guard/guarded_answer.ts";
import { guardedStreamResponse } from "../guard/guarded_stream.ts";
import { readBody, type UpstreamResponse } from "../http/upstream_call.ts";
import { applyNestedPolicy, UNNAMED_MODEL } from "../policy/nested_sampling.ts";
import type { PolicyChange } from "../policy/sampling.ts";
import {
  decodeEvents,
  eventStream,
  eventStreamHeaders,
  isEventStream,
  passthroughStream,
  type StreamEnd,
} from "../pipeline/response_pipeline.ts";
import type { Dialect } from "../protocols/dialect.ts";
import { OPENAI_CHAT } from "../protocols/openai_chat.ts";
import { canServe, converterFor, wireProtocol } from "../protocols/registry.ts";
import { isForwarded, notForwarded } from "../routing/forward_paths.ts";
import { readUpstreamText } from "../upstream/client.ts";
import type { RequestLifecycle } from "../observability/lifecycle.ts";
import { tapUsage } from "../observability/usage_tap.ts";

/** What kind of generation endpoint the client called. */
export interface GenerationEndpoint {
  /** The dialect the client speaks on this endpoint. */
  dialect: Dialect;
  /** The endpoint relative to the API root, e.g. `chat/completions`, `messages`, `embeddings`. */
  endpoint: string;
  /** Chat completions or messages: the endpoints that can be converted. */
  convertible: boolean;
  /**
   * Served at the upstream server's root rather than under its API root (SGLang's `/generate`, llama.cpp's
   * `/tokenize`).
   */
  serverRoot?: boolean;
  /** The nested object that holds the sampling keys (SGLang's `sampling_params`); the top level when unset. */
  samplingParamsKey?: string;
  /** A body without `model` is valid and goes to the `*` binding (SGLang's `/generate`, llama.cpp's `/tokenize`). */
  modelOptional?: boolean;
}

/** SGLang's native `POST /generate`: at the server root, sampling keys in `sampling_params`, `model` optional. */
export const SGLANG_GENERATE: GenerationEndpoint = {
  dialect: OPENAI_CHAT,
  endpoint: "generate",
  convertible: false,
  serverRoot: true,
  samplingParamsKey: "sampling_params",
  modelOptional: true,
};

/** Handles one POST generation request. */
export async function handleGeneration(
  ctx: ProxyContext,
  request: Request,
  endpoint: GenerationEndpoint,
): Promise<Response> {
  const record = ctx.lifecycle.begin(ctx.nextRequestId(), {
    kind: "generation",
    dialect: wireProtocol(endpoint.dialect),
  });
  try {
    const response = await proxyRequest(ctx, request, endpoint, record);
    record.responded();
    return response;
  } catch (error) {
    const proxyError = asProxyError(ctx, error, request.signal);
    record.status = proxyError.status;
    record.responded();
    if (proxyError.status >= 500 && !(error instanceof ProxyError)) {
      ctx.logger.log("error", `Unexpected failure: ${error instanceof Error ? error.stack : String(error)}`, record.id);
    }
    record.finish(request.signal.aborted ? "cancelled" : "error", proxyError.message);
    return errorResponse(endpoint.dialect, proxyError);
  }
}

async function proxyRequest(
  ctx: ProxyContext,
  request: Request,
  endpoint: GenerationEndpoint,
  record: RequestLifecycle,
): Promise<Response> {
  // (1) Body and model.
  const body = await readJsonBody(request, ctx.bodyLimits);
  const named = typeof body.json.model === "string" && body.json.model.trim() !== "" ? body.json.model : undefined;
  if (named === undefined && !(endpoint.modelOptional && body.json.model === undefined)) {
    throw new ProxyError(400, "invalid_request", 'Request body needs a "model" string');
  }
  const model = named ?? UNNAMED_MODEL;
  record.model = model;
  // (2) Route.
  const { upstream } = named === undefined ? ctx.router.catchAll() : ctx.router.route(named);
  record.upstream = upstream.name;
  const path = `/v1/${endpoint.endpoint}`;
  if (!isForwarded(path, upstream.forwardPaths)) throw notForwarded(path);
  // (3) Plan.
  const { converter, upstreamDialect } = plan(ctx, upstream, endpoint, model);
  record.emit({
    type: "routed",
    model,
    upstream: upstream.name,
    mode: converter ? "converted" : "passthrough",
    dialect: wireProtocol(endpoint.dialect),
    upstreamDialect: wireProtocol(upstreamDialect),
  });
  const converted = converter ? converter.request(body.json) : body.json;
  // Thinking blocks the proxy signed for an OpenAI upstream's reasoning would be rejected by an Anthropic upstream.
  const droppedThinking = upstreamDialect.name === "anthropic_messages" && endpoint.convertible &&
    dropProxyThinkingFromRequest(body.text, converted);
  // (4) Policy.
  const upstreamProtocol = wireProtocol(upstreamDialect);
  const policyContext = { clientProtocol: wireProtocol(endpoint.dialect), upstreamProtocol };
  const policy = endpoint.samplingParamsKey === undefined
    ? ctx.policy.apply(converted, policyContext)
    : applyNestedPolicy(ctx.policy, converted, { key: endpoint.samplingParamsKey, context: policyContext });
  logChanges(ctx, record, policy.changes);
  const upstreamModel = typeof policy.body.model === "string" ? policy.body.model : model;
  record.upstreamModel = upstreamModel;
  if (upstreamDialect.name === "anthropic_messages") keepThinkingBudgetBelowMaxTokens(policy.body);
  // An untouched passthrough body is forwarded as the client's exact bytes.
  const touched = droppedThinking || policy.changes.some((change) => change.action !== "skip");
  const upstreamBody = !converter && !touched ? body.text : JSON.stringify(policy.body);
  const target = ctx.upstreamClient.prepare(upstream, {
    endpoint: converter?.endpoint ?? endpoint.endpoint,
    serverRoot: endpoint.serverRoot,
    // A converted request's query string belongs to the client's protocol (Claude Code's `?beta=true`).
    clientUrl: converter ? undefined : request.url,
    incoming: request.headers,
    protocols: { client: endpoint.dialect, upstream: upstreamDialect },
  });
  // (5) Admit. A stop that begins while the request is queued answers it with a 503 at once.
  await admit(ctx, upstreamModel, AbortSignal.any([request.signal, ctx.drain.admission]), record);
  // (6) Upstream call. A guarded request may call again: each retry waits for the throttle's turn too.
  const { url } = target;
  const call = async (text: string, signal: AbortSignal) => {
    const response = await target.send(text, signal);
    record.emit({ type: "upstream_headers", status: response.status, headersMs: response.headersMs });
    if (!endpoint.convertible || !record.listening) return response;
    // Usage is read from the upstream's answer (in its protocol) as the body goes by; the finish reports a body
    // that did not end first.
    const tap = tapUsage(response, upstreamDialect.usage, (usage) => record.emit({ type: "usage", usage }));
    record.onFinish(tap.flush);
    return tap.response;
  };
  record.url = url;
  // The call and the answer's stream end when the client goes away, or when a stop's grace period ran out: a 503
  // before the answer started, an error event after.
  const ended = AbortSignal.any([request.signal, ctx.drain.streams]);
  let upstreamResponse = await call(upstreamBody, ended);
  record.status = upstreamResponse.status;
  if (upstreamResponse.status === 404) throw await upstreamNotFound(upstreamResponse, upstream, url);
  // A body that failed because the client went away (its abort reached the upstream first) was cancelled.
  const onEnd = (outcome: StreamOutcome, error?: unknown) =>
    record.finish(
      outcome === "error" && request.signal.aborted ? "cancelled" : outcome,
      error === undefined ? undefined : String(error),
    );
  // (6b) Garbage guard: streams are held back, cut and retried or continued by the guard; whole answers are
  // checked (and retried) here, then answered like any other.
  if (ctx.garbage.settings.enabled && endpoint.convertible && upstreamResponse.status < 300) {
    const exchange: ExchangeOptions = {
      guard: ctx.garbage,
      requestId: record.id,
      model,
      upstream: upstream.name,
      clientDialect: endpoint.dialect,
      upstreamDialect,
      converter,
      body: policy.body,
      retrySampling: ctx.retrySampling(model, upstreamProtocol),
      send: async (text, signal) => {
        await ctx.throttle.wait(upstreamModel, { signal, log: requestLog(ctx, record) });
        return await call(text, signal);
      },
      signal: request.signal,
      stop: ended,
      onEnd,
      maxEventBytes: upstream.maxEventBytes,
      lifecycle: record,
    };
    if (isEventStream(upstreamResponse.headers)) return guardedStreamResponse(upstreamResponse, exchange);
    upstreamResponse = await vetAnswer(upstreamResponse, { ...exchange, readBody });
    record.status = upstreamResponse.status;
  }
  // (7) Answer.
  const end: StreamEnd = { onEnd, stop: ended, maxEventBytes: upstream.maxEventBytes, onSent: record.sent };
  return converter
    ? await convertedResponse(upstreamResponse, converter, endpoint.dialect, end)
    : await passthroughResponse(upstreamResponse, endpoint, end);
}

/**
 * (3) Passthrough (no converter) when the upstream speaks the client's dialect, else the registered converter to
 * the first dialect it speaks that has one.
 */
function plan(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  endpoint: GenerationEndpoint,
  model: string,
): { converter: Converter | undefined; upstreamDialect: Dialect } {
  const client = endpoint.dialect;
  if (upstream.protocols.includes(client.name)) return { converter: undefined, upstreamDialect: client };
  if (!endpoint.convertible) {
    throw new ProxyError(
      400,
      "invalid_request",
      `Upstream "${upstream.name}" does not serve ${client.name} endpoints such as /v1/${endpoint.endpoint}`,
    );
  }
  const servedElsewhere = ctx.config.upstreams.some((other) => other !== upstream && canServe(client, other.protocols));
  const { dialect, create } = converterFor(client, upstream.protocols, { upstream: upstream.name, servedElsewhere });
  return { converter: create(upstream, { model }), upstreamDialect: dialect };
}

/** (4) Debug lines for what the policy did, and from which rule; info lines with `enable_override_logs`. */
function logChanges(ctx: ProxyContext, record: RequestLifecycle, changes: PolicyChange[]): void {
  const level = ctx.config.logging.overrides ? "info" : "debug";
  if (changes.length === 0 || (level === "debug" && !ctx.logger.debugEnabled)) return;
  for (const c of changes) {
    const from = "from" in c ? ` from ${JSON.stringify(c.from)}` : "";
    const to = "to" in c ? ` to ${JSON.stringify(c.to)}` : "";
    ctx.logger.log(level, `Policy: ${c.action} '${c.key}'${from}${to} (${c.source})`, record.id);
  }
}

/**
 * Anthropic rejects `thinking.budget_tokens >= max_tokens`; a clamp by the policy can create that, so the budget
 * follows the clamp (and thinking is dropped when no useful budget fits).
 */
function keepThinkingBudgetBelowMaxTokens(body: Record<string, unknown>): void {
  const thinking = body.thinking as { type?: unknown; budget_tokens?: unknown } | undefined;
  const maxTokens = body.max_tokens;
  if (thinking?.type !== "enabled" || typeof maxTokens !== "number") return;
  if (typeof thinking.budget_tokens !== "number" || thinking.budget_tokens < maxTokens) return;
  const MIN_BUDGET = 1024; // Anthropic's smallest accepted budget.
  if (maxTokens - 1 >= MIN_BUDGET) body.thinking = { ...thinking, budget_tokens: maxTokens - 1 };
  else delete body.thinking;
}

/** A log function for the seed's queue, slot and throttle lines, tagged with the request's id. */
function requestLog(ctx: ProxyContext, record: RequestLifecycle) {
  return (level: "debug" | "info" | "warn", message: string) => ctx.logger.log(level, message, record.id);
}

/** (5) A concurrency slot, then the throttle's turn; both are undone at the finish. */
async function admit(ctx: ProxyContext, model: string, signal: AbortSignal, record: RequestLifecycle): Promise<void> {
  const log = requestLog(ctx, record);
  const waitFrom = performance.now();
  const slot = await ctx.limiter.acquire(model, { signal, log });
  record.onFinish(() => slot.release());
  await ctx.throttle.wait(model, { signal, log });
  record.onFinish(() => ctx.throttle.finished(model));
  record.emit({ type: "admitted", upstreamModel: model, waitMs: performance.now() - waitFrom });
}

/**
 * (7) Passthrough: the upstream's bytes, unparsed, with an error event appended if the stream fails. Only chat
 * completions and messages streams are checked for their final event; others (Responses, completions) have their
 * own endings.
 */
async function passthroughResponse(
  upstream: UpstreamResponse,
  endpoint: GenerationEndpoint,
  end: StreamEnd,
): Promise<Response> {
  const { onEnd } = end;
  const headers = clientResponseHeaders(upstream.headers);
  const reader = upstream.reader();
  const stream = upstream.status < 300 && isEventStream(upstream.headers);
  if (!reader || !stream) {
    // A non-streamed body is complete upstream before its headers are sent: read it whole, so that a failure
    // mid-body is still a proper error response rather than a truncated body.
    const bytes = reader ? await readBody(reader) : null;
    end.onSent?.(bytes?.length ?? 0);
    onEnd("complete");
    return new Response(bytes, { status: upstream.status, headers });
  }
  headers.set("cache-control", "no-cache");
  const sse = endpoint.convertible;
  return new Response(passthroughStream(reader, endpoint.dialect, { ...end, sse }), {
    status: upstream.status,
    headers,
  });
}

/** (7) Converted: errors and bodies rewritten in the client's protocol, streams converted event by event. */
async function convertedResponse(
  upstream: UpstreamResponse,
  converter: Converter,
  client: Dialect,
  end: StreamEnd,
): Promise<Response> {
  const stream = upstream.status < 300 && isEventStream(upstream.headers) ? upstream.body : null;
  if (stream) {
    const body = eventStream(decodeEvents(stream, end.maxEventBytes), { client, converter, end });
    return new Response(body, { status: upstream.status, headers: eventStreamHeaders(upstream.headers) });
  }
  const headers = clientResponseHeaders(upstream.headers);
  headers.delete("content-type");
  const reader = upstream.reader();
  const text = reader ? new TextDecoder().decode(await readBody(reader)) : "";
  if (upstream.status >= 300 || reader === null) {
    return jsonAnswer(converter.error(upstream.status, text), { status: upstream.status, headers }, end);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProxyError(502, "api_error", "Upstream answered with a body that is not JSON");
  }
  return jsonAnswer(converter.response(parsed), { status: upstream.status, headers }, end);
}

/** A converted JSON answer; its size is reported and the request completes. */
function jsonAnswer(body: unknown, init: { status: number; headers: Headers }, end: StreamEnd): Response {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  init.headers.set("content-type", "application/json");
  end.onSent?.(bytes.length);
  end.onEnd("complete");
  return new Response(bytes, init);
}

/**
 * An upstream 404 on a generation endpoint: usually a wrong `base_url` (the log line has the URL), else an unknown
 * model. The client learns which upstream and endpoint answered, and the upstream's own message, not the host.
 */
async function upstreamNotFound(
  response: UpstreamResponse,
  upstream: UpstreamConfig,
  url: string,
): Promise<ProxyError> {
  const message = upstreamErrorMessage(await readUpstreamText(response), 404).slice(0, 300);
  // Below the API root for /v1 endpoints; the path at the server root for /generate, /tokenize and /detokenize.
  const endpoint = url.startsWith(upstream.api.root)
    ? url.slice(upstream.api.root.length).replace(/\?.*$/, "")
    : new URL(url).pathname;
  return new ProxyError(
    404,
    "not_found",
    `Upstream "${upstream.name}" answered 404 for ${endpoint}: ${message} ` +
      "(an unknown model, or the upstream's base_url does not point at its API root)",
  );
}

/** Any failure as the error the client gets. */
function asProxyError(ctx: ProxyContext, error: unknown, clientSignal: AbortSignal): ProxyError {
  // A client that went away is the reason, whatever the upstream read it cut short failed with.
  if (clientSignal.aborted) return new ProxyError(499, "invalid_request", "Client closed the request");
  if (error instanceof ProxyError) return error;
  if (error instanceof AdmissionError) {
    const status = ctx.config.queue.status;
    return new ProxyError(status, status === 429 ? "rate_limit" : "overloaded", error.message, {
      headers: { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))) },
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ProxyError(500, "api_error", `Internal error: ${detail}`, { cause: error });
}
