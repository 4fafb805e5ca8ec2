/**
 * Keep-alives for a guarded stream: while text is held back (or a retry is under way) the client may get no
 * bytes for a while, and idle timers in clients and reverse proxies must not fire.
 *
 * @module
 */

import type { Dialect } from "../protocols/dialect.ts";

/**
 * Re-emits encoded SSE bytes and, after `intervalMs` without output, writes the client dialect's keep-alive
 * (`Dialect.keepAlive`): an Anthropic `ping` event once the stream has begun (a `ping` before `message_start`
 * would break the grammar), else an SSE comment (`: keep-alive`), which every SSE parser ignores.
 *
 * @example
 * ```ts ignore
 * const bytes = events.pipeThrough(new SseEncoderStream()).pipeThrough(new KeepAliveStream(OPENAI_CHAT, 10_000));
 * ```
 */
export class KeepAliveStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates the stage for a client speaking `dialect`. */
  constructor(dialect: Dialect, intervalMs: number) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let begun = false;
    const arm = (controller: TransformStreamDefaultController<Uint8Array>) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        controller.enqueue(dialect.keepAlive(begun));
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
