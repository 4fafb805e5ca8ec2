/**
 * POST generation requests (chat completions, messages, other `/v1/*` endpoints): the request path of the proxy.
 *
 * 1. Read and validate the body (size cap, JSON object, `model`).
 * 2. Route the model to an upstream.
 * 3. Plan: passthrough when the upstream speaks the client's protocol, else convert.
 * 4. Call the upstream with the client's abort signal and the upstream's timeouts.
 * 5. Answer: errors in the client's shape; passthrough bytes untouched; converted bodies and streams.
 * 6. When the body ends (complete, failed or cancelled), write the request's log line.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import type { UpstreamConfig } from "../config/config.ts";
import type { ProxyContext } from "../context.ts";
import { type Converter, createConverter } from "../convert/converter.ts";
import { readJsonBody } from "../http/body.ts";
import { errorResponse, type Protocol, ProxyError } from "../http/errors.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "../http/headers.ts";
import { guardStream, type StreamOutcome } from "../http/stream_end.ts";
import { callUpstream, type UpstreamResponse } from "../http/upstream_call.ts";
import { SseEncoderStream, type SseEvent } from "../protocols/sse.ts";
import { upstreamUrl } from "../routing/upstream_url.ts";

/** What kind of generation endpoint the client called. */
export interface GenerationEndpoint {
  /** The protocol the client speaks on this endpoint. */
  protocol: Protocol;
  /** The endpoint relative to the API root, e.g. `chat/completions`, `messages`, `embeddings`. */
  endpoint: string;
  /** Chat completions or messages: the endpoints that can be converted. */
  convertible: boolean;
}

/** Facts about one request, gathered for its log line. */
interface RequestRecord {
  id: string;
  started: number;
  protocol: Protocol;
  model?: string;
  upstream?: string;
  mode?: "passthrough" | "convert";
  status?: number;
  firstByteMs?: number;
}

/** Handles one POST generation request. */
export async function handleGeneration(
  ctx: ProxyContext,
  request: Request,
  endpoint: GenerationEndpoint,
): Promise<Response> {
  const record: RequestRecord = { id: ctx.nextRequestId(), started: performance.now(), protocol: endpoint.protocol };
  try {
    const response = await proxyRequest(ctx, request, endpoint, record);
    record.firstByteMs = performance.now() - record.started;
    return response;
  } catch (error) {
    const proxyError = asProxyError(error, request.signal);
    record.status = proxyError.status;
    record.firstByteMs = performance.now() - record.started;
    if (proxyError.status >= 500 && !(error instanceof ProxyError)) {
      ctx.logger.log("error", `Unexpected failure: ${error instanceof Error ? error.stack : String(error)}`, record.id);
    }
    logEnd(ctx, record, request.signal.aborted ? "cancelled" : "error", proxyError.message);
    return errorResponse(endpoint.protocol, proxyError);
  }
}

async function proxyRequest(
  ctx: ProxyContext,
  request: Request,
  endpoint: GenerationEndpoint,
  record: RequestRecord,
): Promise<Response> {
  // (1) Body and model.
  const body = await readJsonBody(request, ctx.config.listen.maxBodyBytes);
  const model = body.json.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw new ProxyError(400, "invalid_request", 'Request body needs a "model" string');
  }
  record.model = model;
  // (2) Route.
  const { upstream } = ctx.router.route(model);
  record.upstream = upstream.name;
  // (3) Plan.
  const converter = plan(upstream, endpoint, model, body.json);
  record.mode = converter ? "convert" : "passthrough";
  const upstreamProtocol = converter?.upstreamProtocol ?? endpoint.protocol;
  const upstreamBody = converter ? JSON.stringify(converter.request(body.json)) : body.text;
  // (4) Upstream call.
  const upstreamResponse = await callUpstream(
    upstreamUrl(upstream.baseUrl, converter?.endpoint ?? endpoint.endpoint, new URL(request.url).search),
    {
      method: "POST",
      headers: upstreamRequestHeaders(request.headers, {
        clientProtocol: endpoint.protocol,
        upstreamProtocol,
        apiKey: upstream.apiKey,
        extra: upstream.headers,
      }),
      body: upstreamBody,
      signal: request.signal,
      connectTimeoutMs: upstream.connectTimeoutMs,
      responseTimeoutMs: upstream.responseTimeoutMs,
      idleTimeoutMs: upstream.idleTimeoutMs,
      fetch: ctx.fetch,
    },
  );
  record.status = upstreamResponse.status;
  // (5) Answer.
  const onEnd = (outcome: StreamOutcome, error?: unknown) =>
    logEnd(ctx, record, outcome, error === undefined ? undefined : String(error));
  return converter
    ? await convertedResponse(upstreamResponse, converter, endpoint.protocol, onEnd)
    : passthroughResponse(upstreamResponse, endpoint.protocol, onEnd);
}

/** (3) Passthrough (undefined) when the upstream speaks the client's protocol, else the converter. */
function plan(
  upstream: UpstreamConfig,
  endpoint: GenerationEndpoint,
  model: string,
  body: Record<string, unknown>,
): Converter | undefined {
  const speaks = endpoint.protocol === "openai" ? upstream.supportsOpenAI : upstream.supportsAnthropic;
  if (speaks) return undefined;
  if (!endpoint.convertible) {
    throw new ProxyError(
      400,
      "invalid_request",
      `Upstream "${upstream.name}" does not serve OpenAI endpoints such as /v1/${endpoint.endpoint}`,
    );
  }
  const converter = createConverter(endpoint.protocol, upstream, { model, stream: body.stream === true });
  if (!converter) {
    const other = endpoint.protocol === "openai" ? "Anthropic" : "OpenAI";
    throw new ProxyError(
      501,
      "not_implemented",
      `Upstream "${upstream.name}" speaks only ${other}; converting ${endpoint.protocol} requests to it is not available`,
    );
  }
  return converter;
}

function isEventStream(headers: Headers): boolean {
  return (headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
}

/** (5) Passthrough: the upstream's bytes, unparsed, with an error event appended if the stream fails. */
function passthroughResponse(
  upstream: UpstreamResponse,
  protocol: Protocol,
  onEnd: (outcome: StreamOutcome, error?: unknown) => void,
): Response {
  const headers = clientResponseHeaders(upstream.headers);
  if (!upstream.body) {
    onEnd("complete");
    return new Response(null, { status: upstream.status, headers });
  }
  const sse = upstream.status < 300 && isEventStream(upstream.headers);
  if (sse) headers.set("cache-control", "no-cache");
  return new Response(guardStream(upstream.body, { protocol, onEnd, sse }), { status: upstream.status, headers });
}

/** (5) Converted: errors and bodies rewritten in the client's protocol, streams converted event by event. */
async function convertedResponse(
  upstream: UpstreamResponse,
  converter: Converter,
  protocol: Protocol,
  onEnd: (outcome: StreamOutcome, error?: unknown) => void,
): Promise<Response> {
  const headers = clientResponseHeaders(upstream.headers);
  headers.delete("content-type");
  if (upstream.status >= 300 || !upstream.body) {
    const text = upstream.body ? await readUpstreamText(upstream) : "";
    onEnd("complete");
    return Response.json(converter.error(upstream.status, text), { status: upstream.status, headers });
  }
  if (isEventStream(upstream.headers)) {
    const events = upstream.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream())
      .pipeThrough(new TransformStream<SseEvent, SseEvent>())
      .pipeThrough(converter.stream())
      .pipeThrough(new SseEncoderStream());
    headers.set("content-type", "text/event-stream; charset=utf-8");
    headers.set("cache-control", "no-cache");
    return new Response(guardStream(events, { protocol, onEnd }), { status: upstream.status, headers });
  }
  const text = await readUpstreamText(upstream);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    onEnd("error");
    throw new ProxyError(502, "api_error", "Upstream answered with a body that is not JSON");
  }
  onEnd("complete");
  return Response.json(converter.response(parsed), { status: upstream.status, headers });
}

async function readUpstreamText(upstream: UpstreamResponse): Promise<string> {
  try {
    return upstream.body ? await new Response(upstream.body).text() : "";
  } catch (error) {
    throw asProxyError(error, undefined);
  }
}

function asProxyError(error: unknown, clientSignal: AbortSignal | undefined): ProxyError {
  if (error instanceof ProxyError) return error;
  if (clientSignal?.aborted) return new ProxyError(499, "invalid_request", "Client closed the request");
  if (error instanceof Error && error.name === "UpstreamTimeoutError") {
    return new ProxyError(504, "timeout", error.message);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ProxyError(500, "api_error", `Internal error: ${detail}`, { cause: error });
}

/** (6) One log line per request. */
function logEnd(ctx: ProxyContext, record: RequestRecord, outcome: StreamOutcome, detail?: string): void {
  const total = performance.now() - record.started;
  const parts = [
    record.protocol,
    `model=${record.model ?? "-"}`,
    `upstream=${record.upstream ?? "-"}`,
    `mode=${record.mode ?? "-"}`,
    `status=${record.status ?? "-"}`,
    `ttfb=${record.firstByteMs === undefined ? "-" : `${record.firstByteMs.toFixed(1)}ms`}`,
    `duration=${total.toFixed(1)}ms`,
    `outcome=${outcome}`,
  ];
  if (detail && outcome !== "complete") parts.push(`reason=${JSON.stringify(detail.slice(0, 300))}`);
  ctx.logger.log(outcome === "complete" ? "info" : "warn", parts.join(" "), record.id);
}
