/**
 * Parsing an upstream's server-sent events within a size limit per event.
 *
 * Every place that parses upstream SSE (converted streams, the guard, the validator) uses
 * {@link SseParserStream}, so an upstream that sends one endless line cannot make the proxy buffer without bound:
 * past `maxEventBytes` the stream errors with an {@link UpstreamLimitError}, which ends the client's stream with
 * its protocol's error event. Parsing itself is `eventsource-parser`'s.
 *
 * @module
 */

import { createParser, type EventSourceParser } from "eventsource-parser";
import type { SseEvent } from "../protocols/sse.ts";
import { UpstreamLimitError } from "./upstream_call.ts";

/** The error of an upstream event past `maxEventBytes`. */
export function eventTooLarge(maxEventBytes: number): UpstreamLimitError {
  return new UpstreamLimitError(`Upstream sent an SSE event over ${maxEventBytes} bytes`);
}

/** Parses SSE text into events; errors with {@link eventTooLarge} once one event outgrows `maxEventBytes`. */
export class SseParserStream extends TransformStream<string, SseEvent> {
  /** Creates a parser that holds at most `maxEventBytes` of one event. */
  constructor(maxEventBytes: number) {
    let parser: EventSourceParser;
    super({
      start(controller) {
        parser = createParser({
          maxBufferSize: maxEventBytes,
          onEvent: (event) => controller.enqueue(event),
          onError: (error) => {
            if (error.type === "max-buffer-size-exceeded") controller.error(eventTooLarge(maxEventBytes));
          },
        });
      },
      transform(chunk) {
        parser.feed(chunk);
      },
    });
  }
}
