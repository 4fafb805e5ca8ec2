/**
 * The Anthropic Messages dialect (`anthropic_messages`): `POST /v1/messages`, `{"type":"error","error":{…}}` errors
 * (in a stream's `error` event a neutral error's `code`, e.g. `garbage_detected`, rides along as `error.code`: the
 * Anthropic SDKs ignore it and the Anthropic → OpenAI converter makes it the OpenAI `code`), streams ending with `message_stop`, `x-api-key`
 * credentials with `anthropic-version`, `ping` keep-alives. Clients that send `anthropic-version` get this
 * dialect's errors on paths no dialect owns.
 *
 * @module
 */

import { anthropicErrorBody } from "../http/errors.ts";
import { AnthropicAttemptSplicer, anthropicCanPrefill } from "../guard/continuation.ts";
import { anthropicAnswerText, anthropicEventFacts } from "../guard/event_text.ts";
import { anthropicLengthCutEvents, cutAnthropicAnswer } from "../guard/length_cut.ts";
import { AnthropicToolCalls } from "../guard/streamed_tool_calls.ts";
import { anthropicMessagesUsage, anthropicStreamUsage } from "../observability/usage.ts";
import type { Dialect, DialectError } from "./dialect.ts";
import { isAnthropicFinalEvent } from "./final_event.ts";
import { SSE_KEEPALIVE_COMMENT } from "./sse.ts";

const PING = new TextEncoder().encode('event: ping\ndata: {"type":"ping"}\n\n');

/** The data of an `error` event: the Anthropic error body, with the neutral error's code as `error.code`. */
function errorEventData({ kind, message, code }: DialectError): string {
  const body = anthropicErrorBody(kind, message);
  return JSON.stringify(code === undefined ? body : { ...body, error: { ...body.error, code } });
}

/** The Anthropic Messages dialect. */
export const ANTHROPIC_MESSAGES: Dialect = {
  name: "anthropic_messages",
  label: "anthropic",
  endpoint: "messages",
  ownsPath: (path) => /(^|\/)messages(\/|$)/.test(path),
  ownsHeaders: (headers) => headers.has("anthropic-version"),
  errorBody: ({ kind, message }) => anthropicErrorBody(kind, message),
  errorEvent: (error) => ({ event: "error", data: errorEventData(error) }),
  isFinalEvent: isAnthropicFinalEvent,
  // A `ping` before `message_start` would break the event grammar: a comment until the stream has begun.
  keepAlive: (begun) => begun ? PING : SSE_KEEPALIVE_COMMENT,
  usage: { body: anthropicMessagesUsage, event: anthropicStreamUsage },
  auth: {
    adoptCredentials(headers) {
      const auth = headers.get("authorization");
      if (auth !== null && !headers.has("x-api-key")) {
        headers.delete("authorization");
        headers.set("x-api-key", auth.replace(/^Bearer\s+/i, ""));
      }
    },
    setCredentials(headers, apiKey) {
      if (apiKey !== undefined) headers.set("x-api-key", apiKey);
      if (!headers.has("anthropic-version")) headers.set("anthropic-version", "2023-06-01");
    },
  },
  guard: {
    eventFacts: anthropicEventFacts,
    answerText: anthropicAnswerText,
    cutAnswer: cutAnthropicAnswer,
    lengthCutEvents: anthropicLengthCutEvents,
    canPrefill: anthropicCanPrefill,
    prefill: (text) => text.trimEnd(),
    delivery: { textInBlocks: true, chunkHead: false },
    toolCalls: () => new AnthropicToolCalls(),
    splicer: (options) => new AnthropicAttemptSplicer(options),
  },
};
