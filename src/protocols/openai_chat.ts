/**
 * The OpenAI Chat Completions dialect (`openai_chat`): `POST /v1/chat/completions`, `{"error":{…}}` errors, chunks
 * ending with `[DONE]`, `authorization: Bearer` credentials. The default dialect of paths no dialect owns.
 *
 * @module
 */

import { openaiErrorBody } from "../http/errors.ts";
import { OpenAIAttemptSplicer } from "../guard/continuation.ts";
import { openAIAnswerText, openAIEventFacts } from "../guard/event_text.ts";
import { cutOpenAIAnswer, openAILengthCutEvents } from "../guard/length_cut.ts";
import { OpenAIToolCalls } from "../guard/streamed_tool_calls.ts";
import { openaiChatUsage } from "../observability/usage.ts";
import type { Dialect } from "./dialect.ts";
import { isOpenAIFinalEvent } from "./final_event.ts";
import { SSE_KEEPALIVE_COMMENT } from "./sse.ts";

/** The OpenAI Chat Completions dialect. */
export const OPENAI_CHAT: Dialect = {
  name: "openai_chat",
  label: "openai",
  endpoint: "chat/completions",
  ownsPath: (path) => /(^|\/)chat\/completions$/.test(path),
  ownsHeaders: () => false,
  errorBody: ({ kind, message, code }) => openaiErrorBody(kind, message, code),
  // An error chunk: OpenAI streams have no `event:` lines.
  errorEvent: ({ kind, message, code }) => ({ data: JSON.stringify(openaiErrorBody(kind, message, code)) }),
  isFinalEvent: isOpenAIFinalEvent,
  keepAlive: () => SSE_KEEPALIVE_COMMENT,
  usage: {
    body: openaiChatUsage,
    event: (previous, data) => openaiChatUsage(data) ?? previous,
  },
  auth: {
    adoptCredentials(headers) {
      const key = headers.get("x-api-key");
      headers.delete("x-api-key");
      if (key !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${key}`);
    },
    setCredentials(headers, apiKey) {
      if (apiKey !== undefined) headers.set("authorization", `Bearer ${apiKey}`);
    },
  },
  guard: {
    eventFacts: openAIEventFacts,
    answerText: openAIAnswerText,
    cutAnswer: cutOpenAIAnswer,
    lengthCutEvents: openAILengthCutEvents,
    canPrefill: () => true,
    prefill: (text) => text,
    delivery: { textInBlocks: false, chunkHead: true },
    toolCalls: () => new OpenAIToolCalls(),
    splicer: (options) => new OpenAIAttemptSplicer(options),
  },
};
