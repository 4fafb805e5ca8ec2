/**
 * The end of a response stream, made explicit: the client always learns how it ended.
 *
 * {@link guardStream} re-emits a stream of bytes and, when the source errors (dropped connection, idle timeout)
 * or ends without its protocol's final event, appends an SSE error event in the client's protocol instead of
 * ending cleanly. It calls `onEnd` exactly once, when the body completed, failed or was cancelled by the client,
 * which is where concurrency slots are released and the request's log line is written.
 *
 * In passthrough mode the bytes are not parsed: the stream only keeps back an unterminated trailing event (so an
 * error event never lands in the middle of one) and the last few bytes (to check the final event).
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import { errorBody, type ErrorKind, type Protocol, ProxyError } from "./errors.ts";
import type { ChunkReader } from "./upstream_call.ts";
import { formatSse } from "../protocols/sse.ts";
import { upstreamFailureReason } from "./upstream_failure.ts";

/** How a response body ended. */
export type StreamOutcome = "complete" | "error" | "cancelled";

/** Options of {@link guardStream}. */
export interface GuardStreamOptions {
  /** The client's protocol, for the error event's shape. */
  protocol: Protocol;
  /** Called once when the body ends. */
  onEnd: (outcome: StreamOutcome, error?: unknown) => void;
  /**
   * Bytes are SSE to be checked without parsing: hold back an unterminated trailing event and require the
   * protocol's final event (`data: [DONE]` or `message_stop`).
   * @default false
   */
  sse?: boolean;
  /**
   * Aborting it ends the stream at once with an error event built from its reason (a {@link ProxyError} gives
   * the kind and message): the proxy stops after its grace period, or the client went away.
   */
  stop?: AbortSignal;
}

const encoder = new TextEncoder();
const TAIL_BYTES = 96;

/** Encodes an SSE error event for `protocol` (Anthropic `event: error`, OpenAI `data: {"error":…}`). */
export function sseErrorEvent(protocol: Protocol, kind: ErrorKind, message: string): Uint8Array {
  const data = JSON.stringify(errorBody(protocol, kind, message));
  return encoder.encode(formatSse(protocol === "anthropic" ? { event: "error", data } : { data }));
}

/** The error kind and message for a stream that failed with `error`. */
export function streamFailure(error: unknown): { kind: ErrorKind; message: string } {
  if (error instanceof Error && error.name === "UpstreamTimeoutError") {
    return { kind: "timeout", message: error.message };
  }
  return { kind: "api_error", message: `Upstream stream failed: ${upstreamFailureReason(error)}` };
}

/** Re-emits `source`, ending it with an error event on failure; see the module doc. */
export function guardStream(
  source: ReadableStream<Uint8Array> | ChunkReader,
  options: GuardStreamOptions,
): ReadableStream<Uint8Array> {
  const reader = source instanceof ReadableStream ? source.getReader() : source;
  const sse = options.sse ?? false;
  let pending: Uint8Array | undefined;
  let tail: Uint8Array = new Uint8Array(0);
  let finished = false;
  const { stop } = options;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let reading = false;
  /** Ends the stream for `stop`; the partial event held back (if any) is dropped, not run into the error event. */
  const endStopped = (out: ReadableStreamDefaultController<Uint8Array>) => {
    const reason: unknown = stop?.reason;
    const { kind, message } = reason instanceof ProxyError
      ? reason
      : { kind: "api_error" as const, message: "The request was aborted" };
    out.enqueue(sseErrorEvent(options.protocol, kind, message));
    out.close();
    finish("error", reason);
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
          if (!stop?.aborted) {
            const { kind, message } = streamFailure(error);
            out.enqueue(sseErrorEvent(options.protocol, kind, message));
            out.close();
            finish("error", error);
            return;
          }
        } finally {
          reading = false;
        }
        if (finished) return;
        if (stop?.aborted || chunk === undefined) {
          endStopped(out);
          return;
        }
        if (chunk.done) {
          if (sse && !endsWithFinalEvent(tail, options.protocol)) {
            // The unterminated event is dropped, as an SSE parser drops it at the end of the stream, so that it
            // cannot run into the error event.
            const message = "Upstream stream ended before the response was complete";
            out.enqueue(sseErrorEvent(options.protocol, "api_error", message));
            out.close();
            finish("error", new Error(message));
            return;
          }
          if (pending) out.enqueue(pending);
          out.close();
          finish("complete");
          return;
        }
        if (!sse) {
          out.enqueue(chunk.value);
          return;
        }
        const bytes = pending ? concatBytes([pending, chunk.value]) : chunk.value;
        tail = keepTail(tail, chunk.value);
        const cut = eventBoundary(bytes);
        pending = cut < bytes.length ? bytes.subarray(cut) : undefined;
        if (cut > 0) {
          out.enqueue(cut === bytes.length ? bytes : bytes.subarray(0, cut));
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

/** Index just past the last blank line (`\n\n`, `\r\n\r\n` or `\r\r`) in `bytes`, or 0. */
function eventBoundary(bytes: Uint8Array): number {
  const n = bytes.length;
  // Fast path: servers flush whole events, so a chunk nearly always ends with a blank line.
  if (n >= 2 && bytes[n - 1] === 10 && (bytes[n - 2] === 10 || (bytes[n - 2] === 13 && bytes[n - 3] === 10))) {
    return n;
  }
  for (let i = n - 1; i > 0; i--) {
    if (bytes[i] === 10 && bytes[i - 1] === 10) return i + 1;
    if (bytes[i] === 10 && bytes[i - 1] === 13 && i >= 3 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
    if (bytes[i] === 13 && bytes[i - 1] === 13) return i + 1;
  }
  return 0;
}

function keepTail(tail: Uint8Array, chunk: Uint8Array): Uint8Array {
  if (chunk.length >= TAIL_BYTES) return chunk.slice(chunk.length - TAIL_BYTES);
  const joined = concatBytes([tail, chunk]);
  return joined.length > TAIL_BYTES ? joined.slice(joined.length - TAIL_BYTES) : joined;
}

const decoder = new TextDecoder();

function endsWithFinalEvent(tail: Uint8Array, protocol: Protocol): boolean {
  const text = decoder.decode(tail).trimEnd();
  if (protocol === "openai") return /data:\s*\[DONE\]$/.test(text);
  return /"type"\s*:\s*"message_stop"\s*\}$/.test(text) || /"type"\s*:\s*"error"[\s\S]*\}\s*\}$/.test(text);
}
