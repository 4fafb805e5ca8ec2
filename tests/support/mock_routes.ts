/**
 * The route table of the mock upstream: which method and path it serves, in which protocol's error shape, and how
 * each route renders a reply plan (JSON body or SSE pieces).
 *
 * @module
 */

import { isRecord, type JsonObject } from "./json_guards.ts";
import {
  anthropicErrorBody,
  anthropicMessageBody,
  anthropicMessageStream,
  anthropicStreamErrorEvent,
} from "./mock_anthropic.ts";
import { openAIChatBody, openAIChatStream, openAIErrorBody, openAIStreamErrorEvent } from "./mock_openai.ts";
import type { ReplyPlan } from "./mock_reply_plan.ts";
import type { Scenario } from "./mock_scenario.ts";
import { sglangGenerateBody, sglangGenerateStream } from "./mock_sglang.ts";
import {
  completionsBody,
  countTokensBody,
  embeddingsBody,
  modelsBody,
  responsesBody,
  tokenizeBody,
} from "./mock_simple_bodies.ts";

/** The wire protocol of a route, which decides the shape of its errors. */
export type RouteProtocol = "openai" | "anthropic";

/** What a route renders from. */
export interface RenderContext {
  /** The reply plan of the scenario. */
  plan: ReplyPlan;
  /** The scenario itself, for protocol quirk flags. */
  scenario: Scenario;
  /** The request body parsed as JSON, or `undefined`. */
  json: unknown;
}

/** A rendered reply: its content type and the body pieces, one chunk each. */
export interface RouteReply {
  /** The `content-type` header. */
  contentType: string;
  /** Body pieces, written one chunk per piece. */
  pieces: Iterable<string | Uint8Array>;
}

/** One route of the mock upstream. */
export interface MockRoute {
  /** HTTP method. */
  method: "GET" | "POST";
  /** Exact path. */
  path: string;
  /** Error shape of the route. */
  protocol: RouteProtocol;
  /** Renders the reply. */
  render: (context: RenderContext) => RouteReply;
}

/** Which routes the mock serves. */
export interface RouteTableOptions {
  /** Model ids listed by `GET /v1/models`. */
  models: readonly string[];
  /** Serve the OpenAI generation routes (chat, completions, embeddings, responses). */
  openai: boolean;
  /** Serve the Anthropic routes (messages, count_tokens). */
  anthropic: boolean;
  /** Serve llama.cpp's `POST /tokenize`. */
  tokenize: boolean;
  /** Serve SGLang's native `POST /generate` (at the root). */
  sglang: boolean;
}

/** The fallback message of a mid-stream error event. */
const STREAM_ERROR_MESSAGE = "Mock upstream failed mid-stream";

/** Renders a JSON body as a single chunk. */
export function jsonReply(body: JsonObject): RouteReply {
  return { contentType: "application/json", pieces: [JSON.stringify(body)] };
}

/** Yields the first `count` pieces, then `last` (closing the source early). */
function* cutWith(pieces: Iterable<string>, count: number, last: string): Generator<string> {
  let taken = 0;
  for (const piece of pieces) {
    if (taken++ >= count) break;
    yield piece;
  }
  yield last;
}

/** Renders SSE pieces, cut short by the protocol's error event when the scenario asks for a mid-stream error. */
function sseReply(pieces: Iterable<string>, scenario: Scenario, errorEvent: (message: string) => string): RouteReply {
  const { streamError } = scenario;
  const cut = streamError === undefined
    ? pieces
    : cutWith(pieces, streamError.afterChunks, errorEvent(streamError.message ?? STREAM_ERROR_MESSAGE));
  return { contentType: "text/event-stream", pieces: cut };
}

/** Tells whether the request asked for a stream. */
function wantsStream(json: unknown): boolean {
  return isRecord(json) && json.stream === true;
}

/** Renders an error in the route's protocol shape, or the scenario's raw error body. */
export function errorReply(protocol: RouteProtocol, status: number, errorBody?: Scenario["errorBody"]): RouteReply {
  if (typeof errorBody === "string") return { contentType: "text/plain; charset=utf-8", pieces: [errorBody] };
  const message = `Mock upstream error ${status}`;
  const fallback = protocol === "anthropic" ? anthropicErrorBody(status, message) : openAIErrorBody(status, message);
  return jsonReply(errorBody ?? fallback);
}

/** OpenAI `POST /v1/chat/completions`: a chunk stream when `stream` is true, else a `chat.completion`. */
function renderChat({ plan, scenario, json }: RenderContext): RouteReply {
  if (!wantsStream(json)) return jsonReply(openAIChatBody(plan, scenario));
  const includeUsage = isRecord(json) && isRecord(json.stream_options) && json.stream_options.include_usage === true;
  return sseReply(openAIChatStream(plan, { ...scenario, includeUsage }), scenario, openAIStreamErrorEvent);
}

/** Anthropic `POST /v1/messages`: an event stream when `stream` is true, else a `message`. */
function renderMessages({ plan, scenario, json }: RenderContext): RouteReply {
  if (!wantsStream(json)) return jsonReply(anthropicMessageBody(plan));
  return sseReply(anthropicMessageStream(plan), scenario, anthropicStreamErrorEvent);
}

/** SGLang `POST /generate`: `data:` lines ending with `data: [DONE]` when `stream` is true, else `{text, meta_info}`. */
function renderGenerate({ plan, scenario, json }: RenderContext): RouteReply {
  if (!wantsStream(json)) return jsonReply(sglangGenerateBody(plan));
  return sseReply(sglangGenerateStream(plan), scenario, openAIStreamErrorEvent);
}

/** Builds the routes the mock serves; anything else is a 404. */
export function routeTable(options: RouteTableOptions): MockRoute[] {
  const routes: (MockRoute & { enabled: boolean })[] = [
    {
      enabled: true,
      method: "GET",
      path: "/v1/models",
      protocol: "openai",
      render: () => jsonReply(modelsBody(options.models)),
    },
    { enabled: options.openai, method: "POST", path: "/v1/chat/completions", protocol: "openai", render: renderChat },
    {
      enabled: options.openai,
      method: "POST",
      path: "/v1/completions",
      protocol: "openai",
      render: ({ plan }) => jsonReply(completionsBody(plan)),
    },
    {
      enabled: options.openai,
      method: "POST",
      path: "/v1/responses",
      protocol: "openai",
      render: ({ plan }) => jsonReply(responsesBody(plan)),
    },
    {
      enabled: options.openai,
      method: "POST",
      path: "/v1/embeddings",
      protocol: "openai",
      render: ({ plan, json }) => jsonReply(embeddingsBody(plan, json)),
    },
    { enabled: options.anthropic, method: "POST", path: "/v1/messages", protocol: "anthropic", render: renderMessages },
    {
      enabled: options.anthropic,
      method: "POST",
      path: "/v1/messages/count_tokens",
      protocol: "anthropic",
      render: ({ json }) => jsonReply(countTokensBody(json)),
    },
    {
      enabled: options.tokenize,
      method: "POST",
      path: "/tokenize",
      protocol: "openai",
      render: ({ json }) => jsonReply(tokenizeBody(json)),
    },
    { enabled: options.sglang, method: "POST", path: "/generate", protocol: "openai", render: renderGenerate },
  ];
  return routes.filter((route) => route.enabled);
}
