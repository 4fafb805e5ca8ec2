/**
 * The dialects of the direction matrix (`tests/e2e/direction_matrix_test.ts`): what a client of each protocol sends
 * and how its wire shape is checked (status, error body, SSE error event, final event, the official SDK's error
 * classes), and how an upstream of each protocol misbehaves (its native errors, a stream cut before its end, an
 * event that never ends, an error body sent with status 200).
 *
 * The matrix crosses every client dialect with every upstream dialect: a third protocol joins by adding one
 * {@linkcode ClientDialect} to {@linkcode CLIENT_DIALECTS} and one {@linkcode UpstreamDialect} to
 * {@linkcode UPSTREAM_DIALECTS}. Everything here is public behaviour (HTTP in, HTTP out), never the proxy's modules.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assertValidAnthropicStream, assertValidOpenAIStream } from "./anthropic_stream_grammar.ts";
import { isRecord, type JsonObject } from "./json_guards.ts";
import { anthropicErrorBody } from "./mock_anthropic.ts";
import { openAIErrorBody } from "./mock_openai.ts";
import { rawChatChunk } from "./raw_upstream.ts";
import { Anthropic, OpenAI } from "./sdk.ts";
import { formatSse, type SseEvent } from "./sse.ts";

/** The model every matrix request names. */
export const MATRIX_MODEL = "mock-model";

/** An error class of an official SDK. */
export type SdkErrorClass = new (...args: never[]) => Error & { status?: number; headers?: Headers };

/** What a client learns from a stream: its text and how it finished (the dialect's own finish word). */
export interface ClientAnswer {
  /** The text content. */
  text: string;
  /** `finish_reason` or `stop_reason`. */
  finish: string | undefined;
}

/** What a proxy-made error means, independent of any dialect. */
export type ErrorMeaning = "upstream" | "timeout";

/** A client protocol: its request, its wire shapes, and its official SDK. */
export interface ClientDialect {
  /** The dialect's name, e.g. `openai_chat`. */
  readonly name: string;
  /** The generation path the client posts to. */
  readonly path: string;
  /** The finish word of a clean end and of a length cut. */
  readonly finishes: { readonly stop: string; readonly length: string };
  /** A generation request for {@linkcode MATRIX_MODEL} with `extra` keys. */
  request(extra?: JsonObject): JsonObject;
  /** The error object (inside its envelope) of an upstream error of `status` converted into this dialect. */
  convertedError(status: number, message: string): JsonObject;
  /** The error `type` of an error the proxy makes. */
  errorType(meaning: ErrorMeaning): string;
  /** The SDK error class of an HTTP error status. */
  errorClass(status: number): SdkErrorClass;
  /** Checks an error body's envelope and returns the error object inside it. */
  errorOf(body: unknown): JsonObject;
  /**
   * Checks a stream that failed: valid grammar, the last event the dialect's SSE error event, no final event before
   * it. Returns the error object.
   */
  failedStream(events: readonly SseEvent[]): JsonObject;
  /** Checks a clean stream (valid grammar, its final event, one start) and returns what it said. */
  cleanStream(events: readonly SseEvent[]): ClientAnswer;
  /** Checks a whole (non-streamed) answer body and returns what it said. */
  answer(body: unknown): ClientAnswer;
  /** Creates the answer with the SDK (no retries) through `fetch`; rejects with the SDK's error. */
  sdkCreate(baseUrl: string, fetch?: typeof globalThis.fetch): Promise<unknown>;
  /** Streams the answer with the SDK's stream helper up to its final message; rejects with the SDK's error. */
  sdkStream(baseUrl: string, fetch?: typeof globalThis.fetch): Promise<unknown>;
  /** Streams with the SDK and stops reading after the first text delta (a client that goes away). */
  sdkStreamFirstDelta(baseUrl: string): Promise<void>;
}

/** An upstream protocol as the mock upstream speaks it, with its faults. */
export interface UpstreamDialect {
  /** The dialect's name, matching the {@linkcode ClientDialect} of the same protocol. */
  readonly name: string;
  /** The mock's protocol switch and the proxy's upstream keys that make it the only protocol spoken. */
  readonly mock: "openai" | "anthropic";
  /** The proxy's upstream entry keys saying which protocols the upstream speaks. */
  readonly upstreamConfig: JsonObject;
  /** The upstream's generation path as the mock records it. */
  readonly path: string;
  /** How many mock chunks of `"a b c d e f"` put a stream past its first text delta. */
  readonly midStreamChunks: number;
  /** The mock's native error body of `status` (what passthrough forwards untouched). */
  nativeError(status: number, message: string): JsonObject;
  /** The status whose converted error matches the type of {@linkcode errorAnswer} and the mock's error event. */
  readonly streamErrorStatus: number;
  /** The error object of the mock's mid-stream error event (`streamError` of a scenario). */
  nativeStreamError(message: string): JsonObject;
  /** A stream that starts and stops without its final event. */
  readonly truncatedStream: readonly string[];
  /** A complete first event, then the start of one that never ends. */
  readonly endlessEventStart: readonly string[];
  /** A whole error body the upstream sends with status 200. */
  errorAnswer(message: string): JsonObject;
  /** An error body sent as an event stream. */
  sseErrorBody(message: string): string;
}

/** One direction: a client dialect through the proxy to an upstream dialect. */
export interface Direction {
  /** `client → upstream`. */
  readonly name: string;
  /** The client's dialect. */
  readonly client: ClientDialect;
  /** The upstream's dialect. */
  readonly upstream: UpstreamDialect;
  /** Whether both speak the same protocol, so the proxy passes bytes through instead of converting. */
  readonly passthrough: boolean;
}

/** The error object inside `{ error }`, failing when the envelope is wrong. */
function innerError(body: unknown): JsonObject {
  assert.ok(isRecord(body) && isRecord(body.error), `not an error envelope: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error.message, "string", JSON.stringify(body));
  return body.error;
}

/** Parses an event's data as JSON. */
function dataOf(event: SseEvent | undefined): unknown {
  return JSON.parse(event?.data ?? "null");
}

/** The OpenAI Chat Completions dialect (`openai_chat`). */
export const OPENAI_CHAT_CLIENT: ClientDialect = {
  name: "openai_chat",
  path: "/v1/chat/completions",
  finishes: { stop: "stop", length: "length" },
  request: (extra = {}) => ({ model: MATRIX_MODEL, messages: [{ role: "user", content: "Hello" }], ...extra }),
  convertedError(status, message) {
    const types: Record<number, string> = {
      400: "invalid_request_error",
      401: "authentication_error",
      429: "rate_limit_error",
    };
    return { message, type: types[status] ?? "server_error", param: null, code: status === 529 ? "overloaded" : null };
  },
  errorType: (meaning) => meaning === "timeout" ? "timeout_error" : "server_error",
  errorClass(status) {
    const classes: Record<number, SdkErrorClass> = {
      400: OpenAI.BadRequestError,
      401: OpenAI.AuthenticationError,
      422: OpenAI.UnprocessableEntityError,
      429: OpenAI.RateLimitError,
    };
    return classes[status] ?? (status >= 500 ? OpenAI.InternalServerError : OpenAI.APIError);
  },
  errorOf: innerError,
  failedStream(events) {
    assert.ok(!events.some((event) => event.data === "[DONE]"), "never a clean end");
    const summary = assertValidOpenAIStream(events);
    assert.ok(summary.error !== undefined, "the stream ends with an error chunk");
    return innerError(dataOf(events.at(-1)));
  },
  cleanStream(events) {
    const summary = assertValidOpenAIStream(events);
    assert.equal(summary.error, undefined);
    assert.notEqual(summary.finishReason, undefined, "the stream ends with a finish_reason");
    return { text: summary.text, finish: summary.finishReason };
  },
  answer(body) {
    assert.ok(isRecord(body) && body.object === "chat.completion", JSON.stringify(body));
    const choice = (body.choices as JsonObject[])[0];
    const message = choice.message as JsonObject;
    return { text: String(message.content), finish: String(choice.finish_reason) };
  },
  sdkCreate: (baseUrl, fetch) => openAIClient(baseUrl, fetch).chat.completions.create(openAIParams()),
  sdkStream: (baseUrl, fetch) =>
    openAIClient(baseUrl, fetch).chat.completions.stream(openAIParams()).finalChatCompletion(),
  async sdkStreamFirstDelta(baseUrl) {
    const stream = await openAIClient(baseUrl).chat.completions.create({ ...openAIParams(), stream: true });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) break;
    }
  },
};

/** An OpenAI SDK client of the proxy that never retries. */
function openAIClient(baseUrl: string, fetch?: typeof globalThis.fetch): OpenAI {
  return new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "client-key", maxRetries: 0, fetch });
}

/** The SDK's parameters of {@linkcode OPENAI_CHAT_CLIENT}'s request. */
function openAIParams(): { model: string; messages: OpenAI.ChatCompletionMessageParam[] } {
  return { model: MATRIX_MODEL, messages: [{ role: "user", content: "Hello" }] };
}

/** The Anthropic Messages dialect (`anthropic_messages`). */
export const ANTHROPIC_MESSAGES_CLIENT: ClientDialect = {
  name: "anthropic_messages",
  path: "/v1/messages",
  finishes: { stop: "end_turn", length: "max_tokens" },
  request: (extra = {}) => ({
    model: MATRIX_MODEL,
    max_tokens: 256,
    messages: [{ role: "user", content: "Hello" }],
    ...extra,
  }),
  convertedError(status, message) {
    const types: Record<number, string> = {
      400: "invalid_request_error",
      401: "authentication_error",
      429: "rate_limit_error",
      503: "overloaded_error",
      529: "overloaded_error",
    };
    return { type: types[status] ?? "api_error", message };
  },
  errorType: (meaning) => meaning === "timeout" ? "timeout_error" : "api_error",
  errorClass(status) {
    const classes: Record<number, SdkErrorClass> = {
      400: Anthropic.BadRequestError,
      401: Anthropic.AuthenticationError,
      422: Anthropic.UnprocessableEntityError,
      429: Anthropic.RateLimitError,
      503: Anthropic.ServiceUnavailableError,
      529: Anthropic.OverloadedError,
    };
    return classes[status] ?? (status >= 500 ? Anthropic.InternalServerError : Anthropic.APIError);
  },
  errorOf(body) {
    assert.ok(isRecord(body) && body.type === "error", `not an Anthropic error: ${JSON.stringify(body)}`);
    const error = innerError(body);
    assert.equal(typeof error.type, "string");
    return error;
  },
  failedStream(events) {
    assert.equal(events.at(-1)?.event, "error");
    assert.ok(!events.some((event) => event.event === "message_stop"), "never a clean end");
    const summary = assertValidAnthropicStream(events);
    assert.ok(summary.error !== undefined);
    return this.errorOf(dataOf(events.at(-1)));
  },
  cleanStream(events) {
    const summary = assertValidAnthropicStream(events);
    assert.equal(summary.error, undefined);
    assert.equal(events.filter((event) => event.event === "message_start").length, 1, "one message_start");
    return { text: summary.text, finish: summary.stopReason };
  },
  answer(body) {
    assert.ok(isRecord(body) && body.type === "message", JSON.stringify(body));
    const blocks = body.content as JsonObject[];
    const text = blocks.filter((block) => block.type === "text").map((block) => block.text).join("");
    return { text, finish: String(body.stop_reason) };
  },
  sdkCreate: (baseUrl, fetch) => anthropicClient(baseUrl, fetch).messages.create(anthropicParams()),
  sdkStream: (baseUrl, fetch) => anthropicClient(baseUrl, fetch).messages.stream(anthropicParams()).finalMessage(),
  async sdkStreamFirstDelta(baseUrl) {
    for await (const event of anthropicClient(baseUrl).messages.stream(anthropicParams())) {
      if (event.type === "content_block_delta") break;
    }
  },
};

/** An Anthropic SDK client of the proxy that never retries. */
function anthropicClient(baseUrl: string, fetch?: typeof globalThis.fetch): Anthropic {
  return new Anthropic({ baseURL: baseUrl, apiKey: "client-key", maxRetries: 0, fetch });
}

/** The SDK's parameters of {@linkcode ANTHROPIC_MESSAGES_CLIENT}'s request. */
function anthropicParams(): { model: string; max_tokens: number; messages: Anthropic.MessageParam[] } {
  return { model: MATRIX_MODEL, max_tokens: 256, messages: [{ role: "user", content: "Hello" }] };
}

/** An OpenAI Chat upstream (llama.cpp, vLLM, OpenAI). */
export const OPENAI_CHAT_UPSTREAM: UpstreamDialect = {
  name: "openai_chat",
  mock: "openai",
  upstreamConfig: { supports_openai: true, supports_anthropic: false },
  path: "/v1/chat/completions",
  midStreamChunks: 3,
  nativeError: openAIErrorBody,
  streamErrorStatus: 500,
  nativeStreamError: (message) => innerError(openAIErrorBody(500, message)),
  truncatedStream: [rawChatChunk({ role: "assistant", content: "" }), rawChatChunk({ content: "Half an ans" })],
  endlessEventStart: [rawChatChunk({ role: "assistant", content: "a" }), 'data: "'],
  errorAnswer: (message) => ({ error: { message, type: "server_error", code: 500 } }),
  sseErrorBody: (message) => formatSse({ data: JSON.stringify({ error: { message, code: 503 } }) }),
};

/** An Anthropic Messages upstream (Anthropic, z.ai). */
export const ANTHROPIC_MESSAGES_UPSTREAM: UpstreamDialect = {
  name: "anthropic_messages",
  mock: "anthropic",
  upstreamConfig: { supports_openai: false, supports_anthropic: true },
  path: "/v1/messages",
  midStreamChunks: 5,
  nativeError: anthropicErrorBody,
  streamErrorStatus: 529,
  nativeStreamError: (message) => innerError(anthropicErrorBody(529, message)),
  truncatedStream: [
    anthropicEvent({ type: "message_start", message: startedMessage() }),
    anthropicEvent({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    anthropicEvent({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Half an ans" } }),
  ],
  endlessEventStart: [anthropicEvent({ type: "message_start", message: startedMessage() }), 'data: "'],
  errorAnswer: (message) => ({ type: "error", error: { type: "overloaded_error", message } }),
  sseErrorBody: (message) => formatSse({ event: "error", data: JSON.stringify(anthropicErrorBody(503, message)) }),
};

/** The `message` of a `message_start` event. */
function startedMessage(): JsonObject {
  return {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: MATRIX_MODEL,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  };
}

/** One Anthropic event, its SSE event named after its data's `type`. */
function anthropicEvent(data: JsonObject & { type: string }): string {
  return formatSse({ event: data.type, data: JSON.stringify(data) });
}

/** Every client dialect. */
export const CLIENT_DIALECTS: readonly ClientDialect[] = [OPENAI_CHAT_CLIENT, ANTHROPIC_MESSAGES_CLIENT];

/** Every upstream dialect. */
export const UPSTREAM_DIALECTS: readonly UpstreamDialect[] = [OPENAI_CHAT_UPSTREAM, ANTHROPIC_MESSAGES_UPSTREAM];

/** Every direction: each client dialect crossed with each upstream dialect. */
export const DIRECTIONS: readonly Direction[] = CLIENT_DIALECTS.flatMap((client) =>
  UPSTREAM_DIALECTS.map((upstream) => ({
    name: `${client.name} → ${upstream.name}`,
    client,
    upstream,
    passthrough: client.name === upstream.name,
  }))
);
