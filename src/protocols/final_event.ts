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
import type { Protocol } from "../http/errors.ts";
import { isJsonObject } from "./json_object.ts";
import type { SseEvent } from "./sse.ts";

/** Whether `event`, the last event of a `protocol` stream, ends it as complete (or as an explicit error). */
export function isFinalEvent(protocol: Protocol, event: SseEvent): boolean {
  const data = event.data.trim();
  if (protocol === "openai" && data === "[DONE]") return true;
  if (event.event === "error") return true;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return false;
  }
  if (!isJsonObject(value)) return false;
  if (protocol === "anthropic") return value.type === "message_stop" || value.type === "error";
  if (value.error !== undefined && value.error !== null) return true;
  const choices = value.choices;
  if (!Array.isArray(choices)) return false;
  if (choices.length === 0) return value.usage !== undefined && value.usage !== null;
  return choices.some((choice) => typeof choice?.finish_reason === "string");
}

/** The last event of raw SSE text, an unterminated one included; comments and empty events are skipped. */
export function lastSseEvent(text: string): SseEvent | undefined {
  let last: SseEvent | undefined;
  const parser = createParser({ onEvent: (event) => last = event });
  parser.feed(text);
  parser.feed("\n\n");
  return last;
}
