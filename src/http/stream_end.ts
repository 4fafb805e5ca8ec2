/**
 * The end of a response stream, made explicit: the client always learns how it ended.
 *
 * {@link endGuard} (the last stage of every response pipeline, `pipeline/response_pipeline.ts`; not to be confused
 * with the garbage guard of `guard/`) re-emits a stream of bytes and, when the source errors (dropped connection, idle timeout)
 * or ends without its dialect's final event, appends an SSE error event in the client's dialect instead of
 * ending cleanly. It calls `onEnd` exactly once, when the body completed, failed or was cancelled by the client,
 * which is where concurrency slots are released and the request's log line is written.
 *
 * In SSE mode (passthrough) the bytes are not parsed: the stream tracks event boundaries only, holding back an
 * unterminated trailing event (so an error event never lands in the middle of one, and so that one event can be
 * capped at `maxEventBytes`) and keeping the bytes of the last event that is not a comment. At the end, that event
 * alone decides whether the stream is complete ({@link isFinalEvent}). Work and memory are linear in the bytes.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import { ProxyError } from "./errors.ts";
import { eventTooLarge } from "./sse_parser.ts";
import { type ChunkReader, UpstreamLimitError } from "./upstream_call.ts";
import type { Dialect, DialectError } from "../protocols/dialect.ts";
import { lastSseEvent } from "../protocols/final_event.ts";
import { formatSse } from "../protocols/sse.ts";
import { upstreamFailureReason } from "./upstream_failure.ts";

/** How a response body ended. */
export type StreamOutcome = "complete" | "error" | "cancelled";

/** Options of {@link endGuard}. */
export interface EndGuardOptions {
  /** The client's dialect, for the error event's shape and (SSE) the final-event test. */
  dialect: Dialect;
  /** Called once when the body ends. */
  onEnd: (outcome: StreamOutcome, error?: unknown) => void;
  /**
   * Bytes are SSE to be checked without parsing: hold back an unterminated trailing event and require the
   * dialect's final event as the last one (see `protocols/final_event.ts`).
   * @default false
   */
  sse?: boolean;
  /** SSE only: the largest event held back; a longer one ends the stream with an error event. @default no limit */
  maxEventBytes?: number;
  /**
   * Aborting it ends the stream at once with an error event built from its reason (a {@link ProxyError} gives
   * the kind and message): the proxy stops after its grace period, or the client went away.
   */
  stop?: AbortSignal;
  /** Called with the size of each piece handed to the client (the request's byte count). */
  onSent?: (bytes: number) => void;
}

const encoder = new TextEncoder();

/** Encodes the SSE error event of `dialect` (Anthropic `event: error`, OpenAI `data: {"error":…}`). */
export function sseErrorEvent(dialect: Dialect, error: DialectError): Uint8Array {
  return encoder.encode(formatSse(dialect.errorEvent(error)));
}

/**
 * The error for a stream that failed with `error`: a {@link ProxyError} as it is (a stage such as the garbage guard
 * ended the stream with a neutral error for the client's dialect to render), else a timeout, a size limit or the
 * upstream's failure.
 */
export function streamFailure(error: unknown): DialectError {
  if (error instanceof ProxyError) return error;
  if (error instanceof Error && error.name === "UpstreamTimeoutError") {
    return { kind: "timeout", message: error.message };
  }
  if (error instanceof UpstreamLimitError) return { kind: "api_error", message: error.message };
  return { kind: "api_error", message: `Upstream stream failed: ${upstreamFailureReason(error)}` };
}

/** Re-emits `source`, ending it with an error event on failure; see the module doc. */
export function endGuard(
  source: ReadableStream<Uint8Array> | ChunkReader,
  options: EndGuardOptions,
): ReadableStream<Uint8Array> {
  const reader = source instanceof ReadableStream ? source.getReader() : source;
  const events = options.sse ? new EventTracker(options.maxEventBytes ?? Infinity) : undefined;
  let finished = false;
  const { stop } = options;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let reading = false;
  /** Ends the stream for `stop`; the partial event held back (if any) is dropped, not run into the error event. */
  const endStopped = (out: ReadableStreamDefaultController<Uint8Array>) => {
    const reason: unknown = stop?.reason;
    fail(
      out,
      reason instanceof ProxyError ? reason : { kind: "api_error", message: "The request was aborted" },
      reason,
    );
  };
  // A pending read ends with the cancel and its pull ends the stream; with none (the client is not reading), end now.
  const onStop = () => {
    reader.cancel(stop?.reason).catch(() => {});
    if (!reading && !finished && controller) endStopped(controller);
  };
  const finish = (outcome: StreamOutcome, error?: unknown) => {
    if (finished) return;
    finished = true;
    stop?.removeEventListener("abort", onStop);
    options.onEnd(outcome, error);
  };
  const send = (out: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    options.onSent?.(bytes.length);
    out.enqueue(bytes);
  };
  /** Ends the stream with the error event of `failure`; `onEnd` gets `error`. */
  const fail = (out: ReadableStreamDefaultController<Uint8Array>, failure: DialectError, error: unknown) => {
    send(out, sseErrorEvent(options.dialect, failure));
    out.close();
    finish("error", error);
  };
  stop?.addEventListener("abort", onStop, { once: true });
  return new ReadableStream<Uint8Array>({
    start(out) {
      controller = out;
    },
    async pull(out) {
      // Per the Streams spec a pull that enqueues nothing is not called again, so read until there is output.
      while (true) {
        let chunk: ReadableStreamReadResult<Uint8Array> | undefined;
        try {
          if (!stop?.aborted) {
            reading = true;
            chunk = await reader.read();
          }
        } catch (error) {
          if (finished) return;
          if (!stop?.aborted) return fail(out, streamFailure(error), error);
        } finally {
          reading = false;
        }
        if (finished) return;
        if (stop?.aborted || chunk === undefined) {
          endStopped(out);
          return;
        }
        if (chunk.done) {
          if (events && !events.complete(options.dialect)) {
            // The unterminated event is dropped, as an SSE parser drops it at the end of the stream, so that it
            // cannot run into the error event.
            const message = "Upstream stream ended before the response was complete";
            return fail(out, { kind: "api_error", message }, new Error(message));
          }
          for (const piece of events?.takePending() ?? []) send(out, piece);
          out.close();
          finish("complete");
          return;
        }
        if (!events) {
          send(out, chunk.value);
          return;
        }
        const ready = events.push(chunk.value);
        if (ready === undefined) {
          const error = eventTooLarge(events.maxEventBytes);
          reader.cancel(error).catch(() => {});
          return fail(out, { kind: "api_error", message: error.message }, error);
        }
        if (ready.length > 0) {
          send(out, ready);
          return;
        }
      }
    },
    cancel(reason) {
      finish("cancelled", reason);
      return reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}

const EMPTY = new Uint8Array(0);
const LF = 10;
const CR = 13;
const COLON = 58;

/**
 * Event boundaries of an SSE byte stream, found without parsing: the unterminated trailing event (held back, in
 * pieces, never re-copied) and the last complete event that is not a comment.
 */
class EventTracker {
  readonly maxEventBytes: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Up to 3 bytes before the current chunk, for a blank line split across chunks. */
  #before: number[] = [];
  #last: Uint8Array | undefined;

  constructor(maxEventBytes: number) {
    this.maxEventBytes = maxEventBytes;
  }

  /**
   * Takes one chunk; returns the bytes that end at an event boundary (empty while an event is unterminated), or
   * undefined when the unterminated event outgrew the limit.
   */
  push(chunk: Uint8Array): Uint8Array | undefined {
    const cut = this.#boundary(chunk);
    if (cut > 0) this.#last = this.#lastEvent(chunk, cut) ?? this.#last;
    this.#remember(chunk);
    if (cut === 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      return this.#pendingBytes > this.maxEventBytes ? undefined : EMPTY;
    }
    // The held-back pieces are joined once, when their event is complete: each byte is copied at most once.
    const head = cut === chunk.length ? chunk : chunk.subarray(0, cut);
    const ready = this.#pending.length === 0 ? head : concatBytes([...this.takePending(), head]);
    if (cut < chunk.length) {
      this.#pending.push(chunk.subarray(cut));
      this.#pendingBytes = chunk.length - cut;
      if (this.#pendingBytes > this.maxEventBytes) return undefined;
    }
    return ready;
  }

  /** Hands over (and forgets) the unterminated trailing event. */
  takePending(): Uint8Array[] {
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return pending;
  }

  /** Whether the stream so far ends with its dialect's final event (an unterminated last event counts). */
  complete(dialect: Dialect): boolean {
    const pending = concatBytes(this.#pending);
    const last = isComment(pending, 0, pending.length) ? this.#last : pending;
    const event = last && lastSseEvent(decoder.decode(last));
    return event !== undefined && dialect.isFinalEvent(event);
  }

  /** The byte at `index` of `chunk`, where negative indices reach back before the chunk. */
  #at(chunk: Uint8Array, index: number): number {
    return index >= 0 ? chunk[index] : this.#before[this.#before.length + index] ?? 0;
  }

  /** Whether a blank line (`\n\n`, `\r\n\r\n` or `\r\r`) ends at `index` of `chunk`. */
  #blankLineAt(chunk: Uint8Array, i: number): boolean {
    const byte = this.#at(chunk, i);
    const prev = this.#at(chunk, i - 1);
    if (byte === LF) {
      return prev === LF || (prev === CR && this.#at(chunk, i - 2) === LF && this.#at(chunk, i - 3) === CR);
    }
    return byte === CR && prev === CR;
  }

  /** Index just past the last blank line that ends in `chunk`, or 0. */
  #boundary(chunk: Uint8Array): number {
    for (let i = chunk.length - 1; i >= 0; i--) if (this.#blankLineAt(chunk, i)) return i + 1;
    return 0;
  }

  #remember(chunk: Uint8Array): void {
    const keep = Array.from(chunk.subarray(Math.max(0, chunk.length - 3)));
    this.#before = [...this.#before, ...keep].slice(-3);
  }

  /**
   * The last complete event that is not a comment among the bytes before `end` (an event boundary) of `chunk`,
   * with the held-back start of an event that began in an earlier chunk; undefined when there is none.
   */
  #lastEvent(chunk: Uint8Array, end: number): Uint8Array | undefined {
    let stop = end;
    for (let i = end - 2; i >= 0; i--) {
      if (!this.#blankLineAt(chunk, i)) continue;
      if (!isComment(chunk, i + 1, stop)) return chunk.slice(i + 1, stop);
      stop = i + 1;
    }
    // The event began at the start of the chunk, or in the held-back bytes.
    const event = this.#pending.length === 0
      ? chunk.slice(0, stop)
      : concatBytes([...this.#pending, chunk.subarray(0, stop)]);
    return isComment(event, 0, event.length) ? undefined : event;
  }
}

/** Whether `bytes[start, end)` has only comment lines (`:…`) and line breaks: no field of an event. */
function isComment(bytes: Uint8Array, start: number, end: number): boolean {
  let lineStart = true;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte === LF || byte === CR) lineStart = true;
    else if (lineStart) {
      if (byte !== COLON) return false;
      lineStart = false;
    }
  }
  return true;
}

const decoder = new TextDecoder();
