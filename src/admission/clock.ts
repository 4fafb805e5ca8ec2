/**
 * The time source and timers used by admission control, injectable so tests drive time by hand instead of
 * waiting on the wall clock.
 *
 * @module
 */

/** Timers longer than this overflow in `setTimeout` and fire at once, so the system clock caps delays here. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A monotonic time source plus one-shot timers. */
export interface Clock {
  /** Milliseconds since an arbitrary origin; only differences between readings matter. */
  now(): number;
  /** Runs `callback` once after `delayMs` milliseconds; the returned function cancels it if it has not run. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** The real clock: `performance.now()` (monotonic) and the platform's `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimer: (callback: () => void, delayMs: number) => {
    const id = setTimeout(callback, Math.min(delayMs, MAX_TIMER_DELAY_MS));
    return () => clearTimeout(id);
  },
});
