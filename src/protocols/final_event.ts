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
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const body = value as Record<string, unknown>;
  if (protocol === "anthropic") return body.type === "message_stop" || body.type === "error";
  if (body.error !== undefined && body.error !== null) return true;
  const choices = body.choices;
  if (!Array.isArray(choices)) return false;
  if (choices.length === 0) return body.usage !== undefined && body.usage !== null;
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
