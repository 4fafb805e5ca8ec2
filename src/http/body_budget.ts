/**
 * A byte budget shared by every request body being read and parsed at once, so that many large bodies arriving
 * together cannot take memory without bound before admission.
 *
 * A body reserves its size (its `content-length`, or the largest allowed body when the size is unknown or the body
 * is compressed) before it is read and releases it once parsed. Reservations are granted in arrival order; a body
 * that cannot get its bytes within the wait is refused with 503 and `retry-after` (the client's SDK retries).
 *
 * @module
 */

import { type Clock, systemClock } from "../admission/clock.ts";
import { Waiter } from "../admission/waiter.ts";
import { ProxyError } from "./errors.ts";

/** Options of {@link BodyBudget}. */
export interface BodyBudgetOptions {
  /** Bytes that may be reserved at once. */
  capacityBytes: number;
  /** Longest wait for a reservation, in milliseconds. */
  waitMs: number;
  /** @default systemClock */
  clock?: Clock;
}

/** Gives back a reservation; later calls do nothing. */
export type Release = () => void;

interface Pending {
  bytes: number;
  waiter: Waiter<void>;
}

/** Bytes of request bodies in flight, with a bounded FIFO wait. */
export class BodyBudget {
  #capacity: number;
  #waitMs: number;
  #clock: Clock;
  #used = 0;
  #queue: Pending[] = [];

  constructor(options: BodyBudgetOptions) {
    this.#capacity = options.capacityBytes;
    this.#waitMs = options.waitMs;
    this.#clock = options.clock ?? systemClock;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /**
   * Reserves `bytes` (at most the capacity), waiting in line when they are not free.
   *
   * @throws {ProxyError} 503 with `retry-after` when the wait runs out; the signal's reason when it aborts first
   */
  async reserve(bytes: number, signal?: AbortSignal): Promise<Release> {
    const amount = Math.min(bytes, this.#capacity);
    if (this.#queue.length === 0 && this.#used + amount <= this.#capacity) {
      this.#used += amount;
      return this.#releaser(amount);
    }
    signal?.throwIfAborted();
    const pending: Pending = {
      bytes: amount,
      waiter: new Waiter<void>({
        clock: this.#clock,
        signal,
        timeoutMs: this.#waitMs,
        onLeave: () => {
          this.#queue = this.#queue.filter((entry) => entry !== pending);
          this.#grant();
        },
        onTimeout: () =>
          new ProxyError(503, "overloaded", "The proxy is busy reading other large request bodies; retry shortly", {
            headers: { "retry-after": "1" },
          }),
      }),
    };
    this.#queue.push(pending);
    await pending.waiter.promise;
    return this.#releaser(amount);
  }

  #releaser(amount: number): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= amount;
      this.#grant();
    };
  }

  #grant(): void {
    while (this.#queue.length > 0 && this.#used + this.#queue[0].bytes <= this.#capacity) {
      const next = this.#queue.shift()!;
      this.#used += next.bytes;
      next.waiter.grant();
    }
  }
}
