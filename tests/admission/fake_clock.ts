/**
 * A hand-driven {@linkcode Clock} for admission tests: time moves only through {@linkcode FakeClock.advance}, so
 * tests assert computed delays and ordering, never wall time.
 *
 * @module
 */

import type { Clock } from "../../src/admission/clock.ts";

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
}

/** A clock whose time starts at 0 and only moves when told to. */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];

  /** The current fake time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `callback` at `now() + delayMs`; the returned function cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void {
    const timer = { at: this.#now + delayMs, seq: this.#seq++, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((other) => other !== timer);
    };
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order (ties in scheduling order) and letting promise
   * callbacks run after each, so code woken by a timer can schedule the next one before time moves on.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let next = this.#next(target); next !== undefined; next = this.#next(target)) {
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.#now = next.at;
      next.callback();
      await settle();
    }
    this.#now = target;
  }

  #next(limit: number): Timer | undefined {
    return this.#timers
      .filter((timer) => timer.at <= limit)
      .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
  }
}

/** Lets every pending promise callback run (one macrotask turn drains the microtask queue). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
