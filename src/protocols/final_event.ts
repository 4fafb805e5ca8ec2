/**
 * When a stream is complete: decided from its last event alone, the same way for passthrough (which does not
 * parse the events in between) and conversion.
 *
 * - OpenAI: `[DONE]`; or, for servers that leave `[DONE]` out, a chunk with a `finish_reason` or the usage chunk
 *   (`choices: []` with `usage`) that follows it; or an error (the stream ended explicitly).
 * - Anthropic: `message_stop`, or an `error` event.
 *
 * @module
 */

import { createParser } from "eventsource-parser";
import { isJsonObject } from "./json_object.ts";
import type { SseEvent } from "./sse.ts";

/** Whether `event`, the last event of an OpenAI Chat stream, ends it as complete (or as an explicit error). */
export function isOpenAIFinalEvent(event: SseEvent): boolean {
  const data = event.data.trim();
  if (data === "[DONE]") return true;
  const value = eventObject(event, data);
  if (value === true || value === undefined) return value === true;
  if (value.error !== undefined && value.error !== null) return true;
  const choices = value.choices;
  if (!Array.isArray(choices)) return false;
  if (choices.length === 0) return value.usage !== undefined && value.usage !== null;
  return choices.some((choice) => typeof choice?.finish_reason === "string");
}

/** Whether `event`, the last event of an Anthropic Messages stream, ends it: `message_stop` or an error. */
export function isAnthropicFinalEvent(event: SseEvent): boolean {
  const value = eventObject(event, event.data.trim());
  if (value === true || value === undefined) return value === true;
  return value.type === "message_stop" || value.type === "error";
}

/** `true` for an `event: error`, else the event's data as a JSON object, or `undefined` when it is none. */
function eventObject(event: SseEvent, data: string): Record<string, unknown> | true | undefined {
  if (event.event === "error") return true;
  try {
    const value: unknown = JSON.parse(data);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The last event of raw SSE text, an unterminated one included; comments and empty events are skipped. */
export function lastSseEvent(text: string): SseEvent | undefined {
  let last: SseEvent | undefined;
  const parser = createParser({ onEvent: (event) => last = event });
  parser.feed(text);
  parser.feed("\n\n");
  return last;
}
