/**
 * Server-sent events: the parsed event shape used between stream stages, and its encoder.
 *
 * Decoding uses `eventsource-parser`'s `EventSourceParserStream`, which handles CR/LF variants and chunk
 * boundaries; encoding is here so every stage writes the same wire form.
 *
 * @module
 */

/** One server-sent event. `data` is the raw text of the `data:` lines joined by newlines. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

const encoder = new TextEncoder();

/**
 * Serialises one event to its wire form, ending with a blank line.
 *
 * Per the SSE spec a newline inside `data` starts a new `data:` line; `event` and `id` cannot hold newlines.
 *
 * @example
 * ```ts
 * formatSse({ event: "ping", data: '{"type":"ping"}' }); // 'event: ping\ndata: {"type":"ping"}\n\n'
 * ```
 */
export function formatSse(event: SseEvent): string {
  let out = "";
  if (event.event !== undefined) {
    if (/[\r\n]/.test(event.event)) throw new TypeError("Cannot serialize event: `event` cannot contain a newline");
    out += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    if (/[\r\n]/.test(event.id)) throw new TypeError("Cannot serialize event: `id` cannot contain a newline");
    out += `id: ${event.id}\n`;
  }
  for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Builds an event whose data is `value` as JSON, with an optional `event:` line. */
export function jsonSse(value: unknown, event?: string): SseEvent {
  return event === undefined ? { data: JSON.stringify(value) } : { event, data: JSON.stringify(value) };
}

/** An SSE comment line: ignored by parsers, it keeps idle connections open. */
export const SSE_KEEPALIVE_COMMENT: Uint8Array = encoder.encode(": keep-alive\n\n");

/** A TransformStream that encodes parsed events back to UTF-8 bytes. */
export class SseEncoderStream extends TransformStream<SseEvent, Uint8Array> {
  constructor() {
    super({
      transform(event, controller) {
        controller.enqueue(encoder.encode(formatSse(event)));
      },
    });
  }
}
