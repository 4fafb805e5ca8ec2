/**
 * Server-sent events for tests: parse a response body or a literal text into events, and format events as wire
 * text. Parsing uses `eventsource-parser`, so the rules (CRLF, split lines, comments, multi-line data) are the spec's.
 *
 * @module
 */

import { createParser, type EventSourceMessage } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";

/** One server-sent event: its `event:` name when the server sent one, and its (joined) `data:` text. */
export interface SseEvent {
  /** The `event:` field, absent when the server sent none. */
  event?: string;
  /** The `data:` field; several `data:` lines are joined with `\n`. */
  data: string;
}

/** Drops the fields tests do not compare (`id`) and leaves `event` out when absent, so `deepEqual` works. */
function toSseEvent(message: EventSourceMessage): SseEvent {
  return message.event === undefined ? { data: message.data } : { event: message.event, data: message.data };
}

/**
 * Reads a whole SSE response body into its events. A body that errors mid-way (a dropped connection) rejects.
 *
 * @example
 * ```ts
 * const events = await readSse(await fetch(url, { method: "POST", body }));
 * assert.equal(events.at(-1)?.data, "[DONE]");
 * ```
 */
export async function readSse(response: Response): Promise<SseEvent[]> {
  if (response.body === null) return [];
  const messages = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  return (await Array.fromAsync(messages)).map(toSseEvent);
}

/**
 * Parses literal SSE text into its events. Per spec, a trailing event without its blank line is not dispatched.
 *
 * @example
 * ```ts
 * parseSseText("event: ping\ndata: {}\n\n"); // [{ event: "ping", data: "{}" }]
 * ```
 */
export function parseSseText(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (message) => events.push(toSseEvent(message)) });
  parser.feed(text);
  return events;
}

/** Formats one event as wire text ending with its blank line; the inverse of {@linkcode parseSseText}. */
export { formatSse } from "../../src/protocols/sse.ts";
