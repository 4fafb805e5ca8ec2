/**
 * One queued request: a promise its owner settles when the request's turn comes, plus the two ways a request
 * leaves a queue early (queue timeout, client abort). Shared by the concurrency limiter and the throttle.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** Options for {@linkcode Waiter}. */
export interface WaiterOptions {
  /** Time source for `enqueuedAt` and the timeout timer. */
  clock: Clock;
  /** Aborting it removes the waiter at once; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Milliseconds before the waiter gives up; `null` waits without limit. */
  timeoutMs: number | null;
  /** Builds the rejection for a timeout. Called after `onLeave`, so it sees the queue without this waiter. */
  onTimeout: () => Error;
  /** Removes the waiter from its owner's queue. Called before the promise rejects (timeout or abort). */
  onLeave: () => void;
}

/**
 * A pending entry in a wait queue. The owner calls {@linkcode Waiter.grant} when the request's turn comes; the
 * waiter removes itself (through `onLeave`) on timeout or abort. Exactly one of the three happens.
 *
 * Precondition: `signal` is not aborted yet (callers check with `signal.throwIfAborted()` first).
 */
export class Waiter<T> {
  /** `clock.now()` when the waiter was created. */
  readonly enqueuedAt: number;
  /** Resolves with the granted value, or rejects on timeout or abort. */
  readonly promise: Promise<T>;
  #resolve: (value: T) => void;
  #reject: (reason: unknown) => void;
  #signal: AbortSignal | undefined;
  #cancelTimer: (() => void) | undefined;
  #onAbort: () => void;

  /** Starts the timeout timer and listens to the abort signal. */
  constructor({ clock, signal, timeoutMs, onTimeout, onLeave }: WaiterOptions) {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.promise = promise;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    this.enqueuedAt = clock.now();
    this.#onAbort = () => this.#leave(onLeave, () => signal?.reason);
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    if (timeoutMs !== null) this.#cancelTimer = clock.setTimer(() => this.#leave(onLeave, onTimeout), timeoutMs);
  }

  /** Hands `value` to the waiting request. The owner must have removed the waiter from its queue already. */
  grant(value: T): void {
    this.#detach();
    this.#resolve(value);
  }

  #leave(onLeave: () => void, reason: () => unknown): void {
    this.#detach();
    onLeave();
    this.#reject(reason());
  }

  #detach(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
