/**
 * Builders of upstream OpenAI stream events for the stream converter tests, and a runner that converts them.
 *
 * @module
 */

import type { OpenAIToolCallDelta, OpenAIUsage } from "../../../src/protocols/openai.ts";
import type { SseEvent } from "../../../src/protocols/sse.ts";
import {
  OpenAIToAnthropicStream,
  type OpenAIToAnthropicStreamContext,
} from "../../../src/convert/anthropic_openai/stream.ts";

/** The id every test chunk carries; the converted message id is derived from it. */
export const CHUNK_ID = "chatcmpl-7f3a";

/** Options of {@link chunk}. */
export interface ChunkOptions {
  finish?: string | null;
  usage?: OpenAIUsage | null;
  /** Extra fields of the choice, e.g. vLLM's `stop_reason`. */
  choice?: Record<string, unknown>;
}

/** One upstream chunk event with a single choice. */
export function chunk(delta: Record<string, unknown>, options: ChunkOptions = {}): SseEvent {
  const { finish = null, usage, choice = {} } = options;
  const body: Record<string, unknown> = {
    id: CHUNK_ID,
    object: "chat.completion.chunk",
    created: 1760000000,
    model: "glm-4.6",
    choices: [{ index: 0, delta, finish_reason: finish, ...choice }],
  };
  if (usage !== undefined) body.usage = usage;
  return { data: JSON.stringify(body) };
}

/** A tool-call delta chunk. */
export function toolChunk(...fragments: OpenAIToolCallDelta[]): SseEvent {
  return chunk({ tool_calls: fragments });
}

/** The usage-only chunk llama.cpp and vLLM send last when `include_usage` is set. */
export function usageChunk(usage: OpenAIUsage): SseEvent {
  return {
    data: JSON.stringify({
      id: CHUNK_ID,
      object: "chat.completion.chunk",
      created: 1,
      model: "glm-4.6",
      choices: [],
      usage,
    }),
  };
}

/** The end-of-stream marker. */
export const DONE: SseEvent = { data: "[DONE]" };

/** Converts upstream events with pings off unless `ctx` turns them on, and returns every output event. */
export function convert(
  events: readonly SseEvent[],
  ctx: Partial<OpenAIToAnthropicStreamContext> = {},
): Promise<SseEvent[]> {
  const stream = new OpenAIToAnthropicStream({ model: "claude-sonnet-4-5", pingIntervalMs: 0, ...ctx });
  return Array.fromAsync(ReadableStream.from(events).pipeThrough(stream));
}

/** The parsed data of each event. */
export function payloads(events: readonly SseEvent[]): Array<Record<string, unknown>> {
  return events.map((event) => JSON.parse(event.data));
}

/** A compact trace of the events: type, plus block or delta type, e.g. `delta:0:text_delta`. */
export function trace(events: readonly SseEvent[]): string[] {
  return payloads(events).map((event) => {
    if (event.type === "content_block_start") {
      return `start:${event.index}:${(event.content_block as { type: string }).type}`;
    }
    if (event.type === "content_block_delta") return `delta:${event.index}:${(event.delta as { type: string }).type}`;
    if (event.type === "content_block_stop") return `stop:${event.index}`;
    return String(event.type);
  });
}
