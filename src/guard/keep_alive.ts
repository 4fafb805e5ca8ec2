/**
 * Keep-alives for a guarded stream: while text is held back (or a retry is under way) the client may get no
 * bytes for a while, and idle timers in clients and reverse proxies must not fire.
 *
 * @module
 */

import type { Protocol } from "../http/errors.ts";
import { SSE_KEEPALIVE_COMMENT } from "../protocols/sse.ts";

const ANTHROPIC_PING = new TextEncoder().encode('event: ping\ndata: {"type":"ping"}\n\n');

/**
 * Re-emits encoded SSE bytes and, after `intervalMs` without output, writes a keep-alive: an Anthropic `ping`
 * event for Anthropic clients once the stream has begun (a `ping` before `message_start` would break the
 * grammar), else an SSE comment (`: keep-alive`), which every SSE parser ignores.
 *
 * @example
 * ```ts ignore
 * const bytes = events.pipeThrough(new SseEncoderStream()).pipeThrough(new KeepAliveStream("openai", 10_000));
 * ```
 */
export class KeepAliveStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates the stage for a client speaking `protocol`. */
  constructor(protocol: Protocol, intervalMs: number) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let begun = false;
    const arm = (controller: TransformStreamDefaultController<Uint8Array>) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        controller.enqueue(protocol === "anthropic" && begun ? ANTHROPIC_PING : SSE_KEEPALIVE_COMMENT);
        arm(controller);
      }, intervalMs);
    };
    super({
      start: arm,
      transform(chunk, controller) {
        begun = true;
        controller.enqueue(chunk);
        arm(controller);
      },
      flush() {
        clearTimeout(timer);
      },
      cancel() {
        clearTimeout(timer);
      },
    });
  }
}
