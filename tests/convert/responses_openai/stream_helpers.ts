/**
 * Helpers for the Responses stream tests: build chat completion chunks, run them through
 * {@link ChatToResponsesStream}, and compare outputs whose ids and times are random.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import { ChatToResponsesStream } from "../../../src/convert/responses_openai/stream.ts";
import type { ResponsesContext } from "../../../src/convert/responses_openai/response.ts";
import { formatSse, type SseEvent } from "../../../src/protocols/sse.ts";

/** The context most tests use. */
export const CTX: ResponsesContext = { request: { model: "qwen-local", input: "Hi", stream: true } };

/** One chat completion chunk event carrying `fields` (its choices, its usage). */
function chunkEvent(fields: Record<string, unknown>): SseEvent {
  return {
    data: JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "qwen", ...fields }),
  };
}

/** One chat completion chunk event with one choice. */
export function chunk(delta: Record<string, unknown>, finishReason: string | null = null): SseEvent {
  return chunkEvent({ choices: [{ index: 0, delta, finish_reason: finishReason }] });
}

/** The usage chunk a server sends for `stream_options.include_usage`. */
export function usageChunk(usage: Record<string, unknown>): SseEvent {
  return chunkEvent({ choices: [], usage });
}

/** The end of a chat stream. */
export const DONE: SseEvent = { data: "[DONE]" };

/** A tool-call delta: the opening one when `id` and `name` are given, else an argument piece. */
export function toolDelta(index: number, args: string, id?: string, name?: string): Record<string, unknown> {
  const fn = name === undefined ? { arguments: args } : { name, arguments: args };
  return { tool_calls: [id === undefined ? { index, function: fn } : { index, id, type: "function", function: fn }] };
}

/** Converts already parsed events. */
export function convertEvents(events: SseEvent[], ctx: ResponsesContext = CTX): Promise<SseEvent[]> {
  return Array.fromAsync(ReadableStream.from(events).pipeThrough(new ChatToResponsesStream(ctx)));
}

/** Feeds byte chunks through the real decoding pipeline and the converter. */
export function convertBytes(chunks: Uint8Array[], ctx: ResponsesContext = CTX): Promise<SseEvent[]> {
  const source = ReadableStream.from(chunks)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(new ChatToResponsesStream(ctx));
  return Array.fromAsync(source);
}

/** The wire text of events. */
export function sseText(events: SseEvent[]): string {
  return events.map(formatSse).join("");
}

/** The parsed payloads of output events. */
export function payloads(events: SseEvent[]): Array<Record<string, unknown> & { type: string }> {
  return events.map((event) => JSON.parse(event.data));
}

/**
 * Replaces the random parts of converted events (ids with a `resp_`, `msg_`, `rs_`, `fc_` prefix, `created_at`) by
 * stable ones in order of first appearance, so two conversions of the same input compare equal.
 */
export function normalised(events: SseEvent[]): SseEvent[] {
  const ids = new Map<string, string>();
  return events.map((event) => ({
    ...event,
    data: event.data
      .replace(/"(resp|msg|rs|fc)_[0-9a-f]{32}"/g, (id, prefix) => {
        if (!ids.has(id)) ids.set(id, `"${prefix}_${ids.size}"`);
        return ids.get(id)!;
      })
      .replace(/"created_at":\d+/g, '"created_at":0'),
  }));
}
