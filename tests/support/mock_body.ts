/**
 * The response body of the mock upstream: a pull-based byte stream over scripted pieces, with pauses between
 * chunks, hangs, abrupt drops, and notice when the client goes away.
 *
 * @module
 */

import { pause } from "./pause.ts";

/** Timing and failure points of a scripted body. */
export interface ScriptedBodyOptions {
  /** Pause between chunks. @default 0 */
  chunkDelayMs?: number;
  /** After this many chunks (or at the end, if sooner) stop writing and never end the body. */
  hangAfterChunks?: number;
  /** After this many chunks (or at the end, if sooner) error the body, which aborts the connection. */
  dropAfterChunks?: number;
  /** Aborts when the mock closes; the body then errors so the server can shut down. */
  closing: AbortSignal;
  /** Called once when the client cancels the body (it disconnected or stopped reading). */
  onCancel: () => void;
}

/** Decides how a body that stopped sending ends: at a drop or hang point, else (out of pieces) drop, hang or close. */
function ending(sent: number, options: ScriptedBodyOptions): "drop" | "hang" | "close" {
  const { hangAfterChunks, dropAfterChunks } = options;
  if (sent === dropAfterChunks) return "drop";
  if (sent === hangAfterChunks) return "hang";
  if (dropAfterChunks !== undefined) return "drop";
  return hangAfterChunks === undefined ? "close" : "hang";
}

/**
 * Streams `pieces` one chunk per piece. Pieces are pulled lazily, so an endless generator stops being read as soon
 * as the client goes away. Erroring the stream makes Deno reset the connection without the final empty chunk, which
 * the client sees as a body read error: that is how "drop" looks on the wire. Deno prints the error reason once.
 */
export function scriptedBody(
  pieces: Iterable<string | Uint8Array>,
  options: ScriptedBodyOptions,
): ReadableStream<Uint8Array> {
  const { chunkDelayMs = 0, hangAfterChunks, dropAfterChunks, closing, onCancel } = options;
  const encoder = new TextEncoder();
  const iterator = pieces[Symbol.iterator]();
  const stopped = new AbortController();
  let sent = 0;
  let onClosing = () => {};
  const stop = () => {
    closing.removeEventListener("abort", onClosing);
    stopped.abort();
    iterator.return?.();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onClosing = () => {
        stop();
        controller.error("Mock upstream closed while a response was in flight");
      };
      if (closing.aborted) onClosing();
      else closing.addEventListener("abort", onClosing);
    },
    async pull(controller) {
      const atStopPoint = sent === hangAfterChunks || sent === dropAfterChunks;
      if (chunkDelayMs > 0 && sent > 0 && !atStopPoint) await pause(stopped.signal, chunkDelayMs);
      if (stopped.signal.aborted) return;
      const next = atStopPoint ? undefined : iterator.next();
      if (next !== undefined && !next.done) {
        controller.enqueue(typeof next.value === "string" ? encoder.encode(next.value) : next.value);
        sent++;
        return;
      }
      const end = ending(sent, options);
      if (end === "hang") return pause(stopped.signal);
      stop();
      if (end === "drop") controller.error(`Mock upstream dropped the response after ${sent} chunks`);
      else controller.close();
    },
    cancel() {
      stop();
      onCancel();
    },
  });
}
