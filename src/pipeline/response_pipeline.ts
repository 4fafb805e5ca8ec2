/**
 * The one response pipeline: every streamed answer the client gets is assembled here from dialect-supplied stages,
 * piped as `TransformStream`s in the Deno std streams style:
 *
 * ```
 * upstream bytes ─▶ decode (UTF-8, SSE, max_event_bytes) ─▶ [guard] ─▶ [convert] ─▶ encode ─▶ [keep-alive] ─▶ end guard
 * ```
 *
 * - **Passthrough** (no guard, no converter) skips every middle stage: the bytes go to the end guard unparsed, which
 *   tracks event boundaries only (`max_event_bytes` there) and checks the client dialect's final event.
 * - **Converted**: decode → the converter's stream → encode → end guard.
 * - **Guarded**: the guard (`guard/guarded_stream.ts`) decodes each attempt with {@link decodeEvents} and is the
 *   event source; then [convert] → encode → keep-alive (unless the converter keeps the stream alive itself) → end
 *   guard.
 *
 * The end guard (`http/stream_end.ts`) renders a failure, or a neutral `ProxyError` a stage failed with, as the
 * client dialect's SSE error event.
 *
 * @module
 */

import type { Converter } from "../convert/converter.ts";
import { clientResponseHeaders } from "../http/headers.ts";
import { SseParserStream } from "../http/sse_parser.ts";
import { endGuard, type EndGuardOptions } from "../http/stream_end.ts";
import type { ChunkReader } from "../http/upstream_call.ts";
import { KeepAliveStream } from "../guard/keep_alive.ts";
import type { Dialect } from "../protocols/dialect.ts";
import { SseEncoderStream, type SseEvent } from "../protocols/sse.ts";

/** How a response body reports its end, the signal that ends it early, and the event size cap. */
export type StreamEnd = Pick<EndGuardOptions, "onEnd" | "stop" | "onSent"> & {
  /** The largest single SSE event accepted from the upstream (`max_event_bytes`). */
  maxEventBytes: number;
};

/** Whether a response's headers announce a server-sent event stream. */
export function isEventStream(headers: Headers): boolean {
  return (headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
}

/** The client's headers for a stream the proxy re-encodes: the upstream's passed-back headers, as SSE. */
export function eventStreamHeaders(upstream: Headers): Headers {
  const headers = clientResponseHeaders(upstream);
  headers.set("content-type", "text/event-stream; charset=utf-8");
  headers.set("cache-control", "no-cache");
  return headers;
}

/** Decode: upstream bytes as parsed events, each at most `maxEventBytes`. */
export function decodeEvents(bytes: ReadableStream<Uint8Array>, maxEventBytes: number): ReadableStream<SseEvent> {
  return bytes.pipeThrough(new TextDecoderStream()).pipeThrough(new SseParserStream(maxEventBytes));
}

/**
 * Passthrough: the upstream's bytes, unparsed, to the end guard. With `sse`, the end guard holds back an
 * unterminated event (at most `maxEventBytes`) and requires `client`'s final event.
 */
export function passthroughStream(
  source: ReadableStream<Uint8Array> | ChunkReader,
  client: Dialect,
  options: StreamEnd & { sse: boolean },
): ReadableStream<Uint8Array> {
  return endGuard(source, { dialect: client, ...options });
}

/** Options of {@link eventStream}. */
export interface EventStreamOptions {
  /** The client's dialect: the error events' shape and the keep-alive bytes. */
  client: Dialect;
  /** Converts the upstream dialect's events into the client's, when they differ. */
  converter?: Converter;
  /** Keep-alive after this many idle milliseconds (unless the converter keeps the stream alive); none when unset. */
  keepAliveMs?: number;
  /** The end of the body. */
  end: Pick<StreamEnd, "onEnd" | "stop" | "onSent">;
}

/** Parsed events (decoded, or from the guard) → [convert] → encode → [keep-alive] → end guard. */
export function eventStream(events: ReadableStream<SseEvent>, options: EventStreamOptions): ReadableStream<Uint8Array> {
  const { converter, client, keepAliveMs } = options;
  const converted = converter === undefined ? events : events.pipeThrough(converter.stream());
  let bytes = converted.pipeThrough(new SseEncoderStream());
  if (keepAliveMs !== undefined && !converter?.keepsAlive) {
    bytes = bytes.pipeThrough(new KeepAliveStream(client, keepAliveMs));
  }
  return endGuard(bytes, { dialect: client, ...options.end });
}
