/**
 * Upstream answers the mock sends exactly as written (`rawSse`), for shapes it does not build itself: content given
 * as an array of parts, an error body with status 200, an OpenAI stream cut before its end.
 *
 * @module
 */

import type { JsonObject } from "./json_guards.ts";
import type { Scenario } from "./mock_upstream.ts";

/** A 200 JSON body sent exactly as given. */
export function rawJsonAnswer(body: unknown): Scenario {
  return { rawSse: [JSON.stringify(body)], headers: { "content-type": "application/json" } };
}

/** A whole OpenAI chat completion whose one message has `content` (finish `stop`), with `usage` when given. */
export function rawChatAnswer(content: unknown, usage?: JsonObject): Scenario {
  return rawJsonAnswer({
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    ...(usage && { usage }),
  });
}

/** One OpenAI chat chunk as an SSE event: a single choice with `delta` and `finish`. */
export function rawChatChunk(delta: JsonObject, finish: string | null = null): string {
  const body = {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** The events of an OpenAI chat stream: one chunk per delta, a finish chunk, then `[DONE]`. */
export function rawChatEvents(deltas: JsonObject[]): string[] {
  return [...deltas.map((delta) => rawChatChunk(delta)), rawChatChunk({}, "stop"), "data: [DONE]\n\n"];
}

/**
 * An OpenAI chat stream of {@link rawChatEvents} whose content comes as an array of parts, one part per chunk
 * (Mistral's reasoning models).
 */
export function rawPartsStream(parts: JsonObject[]): Scenario {
  return { rawSse: rawChatEvents(parts.map((part) => ({ content: [part] }))) };
}

/** `text` sent one byte per network chunk, so multi-byte characters and events arrive split. */
export function byteByByte(text: string): Scenario {
  const wire = new TextEncoder().encode(text);
  return { rawSse: Array.from(wire, (_, index) => wire.subarray(index, index + 1)) };
}
