/**
 * Start and end pauses between upstream requests of one model (`throttle`).
 *
 * Semantics (the seed's end pause never delayed the next send, contrary to its README): each model has a
 * "not before" time,
 *
 *     notBefore = max(lastStart + start_pause, lastEnd + end_pause)
 *
 * where `lastStart` is the most recent upstream send ({@linkcode Throttle.wait} returning) and `lastEnd` the most
 * recent end of a response ({@linkcode Throttle.finished}). A send waits until `notBefore`. Concurrent waiters of
 * one model go one at a time in FIFO order, so with `start_pause` each gets its own start, spaced by it. Models
 * never share timers: `global` only supplies each model's default pauses.
 *
 * Pauses per model: `per_model` is matched like every model-keyed section (exact name, then globs in config
 * order; case-sensitive). A key set there replaces the global value; a key present with `null` disables that
 * pause for the model; an absent key falls back to `global`. `null` and `0` both mean off.
 *
 * Waiting counts as queueing: bounded by a timeout ({@linkcode QueueTimeoutError} with scope `"throttle"`) and
 * abortable by the client's signal (rejects with the signal's reason).
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { QueueTimeoutError } from "./errors.ts";
import type { AdmissionLog } from "./log.ts";
import { Waiter } from "./waiter.ts";
import { ModelMatcher } from "../policy/model_matcher.ts";
import type { ThrottleConfig, ThrottlePauses as ResolvedPauses } from "../config/config.ts";

/** The two pauses of the config's `throttle` section; `null` or `0` disables one, an absent one is inherited. */
export type ThrottlePauses = Partial<ResolvedPauses>;

/** Options for {@linkcode Throttle}. */
export interface ThrottleOptions {
  /**
   * The seed's `throttle.enabled`; when false, `wait` returns at once and `finished` does nothing.
   * @default {false}
   */
  enabled?: ThrottleConfig["enabled"];
  /**
   * Default pauses for every model (`throttle.global`); each model gets its own timers.
   * @default {{}}
   */
  global?: ThrottlePauses;
  /**
   * Per-model pauses (`throttle.per_model`): model name or glob → pauses, overriding `global` key by key. Keep a
   * key absent (`undefined`) to inherit it; set it to `null` to disable it for the model.
   * @default {{}}
   */
  perModel?: Readonly<Record<string, ThrottlePauses>>;
  /**
   * Seconds a send may wait for its turn before {@linkcode QueueTimeoutError}; `null` waits forever (the config
   * passes `queue.timeout_seconds`).
   * @default {null}
   */
  timeoutSeconds?: number | null;
  /** Receives a line for each send that has to wait. */
  log?: AdmissionLog;
  /**
   * Time source and timers (tests inject a fake).
   * @default {systemClock}
   */
  clock?: Clock;
}

/** Options for {@linkcode Throttle.wait}. */
export interface ThrottleWaitOptions {
  /** The client's signal: aborting it while waiting removes the send from the queue. */
  signal?: AbortSignal;
  /** Receives this send's throttle lines instead of the throttle's `log` (e.g. tagged with its request id). */
  log?: AdmissionLog;
}

/** Pauses in milliseconds; 0 = off. */
interface Pauses {
  startMs: number;
  endMs: number;
}

interface ModelState {
  pauses: Pauses;
  lastStart: number;
  lastEnd: number;
  /** Sends waiting for their turn, oldest first. */
  queue: Waiter<void>[];
  /** Cancels the timer that wakes the head of the queue. */
  cancelTimer: (() => void) | undefined;
  /** The head waiter whose wait has been logged already. */
  announced: Waiter<void> | undefined;
}

/**
 * Spaces upstream sends per model. Call {@linkcode Throttle.wait} before each upstream send (retries included) and
 * {@linkcode Throttle.finished} when the response body has been fully sent, cancelled or failed.
 *
 * @example
 * ```ts
 * import { Throttle } from "./throttle.ts";
 * const throttle = new Throttle({ enabled: true, perModel: { "glm-5": { startPauseSeconds: 1, endPauseSeconds: 5 } } });
 * await throttle.wait("glm-5", { signal: AbortSignal.timeout(60_000) });
 * try {
 *   // … send upstream, stream the response …
 * } finally {
 *   throttle.finished("glm-5");
 * }
 * ```
 */
export class Throttle {
  #enabled: boolean;
  #global: Pauses;
  #perModel: ModelMatcher<ThrottlePauses>;
  #timeoutSeconds: number | null;
  #log: AdmissionLog | undefined;
  /** Per-send log overrides (see {@linkcode ThrottleWaitOptions.log}). */
  #logs = new WeakMap<Waiter<void>, AdmissionLog>();
  #clock: Clock;
  #states = new Map<string, ModelState>();

  /**
   * Validates and compiles the pauses.
   *
   * @throws {RangeError} when a pause is negative or not a number, or the timeout is not positive
   * @throws {TypeError} when a model pattern is invalid
   */
  constructor(options: ThrottleOptions = {}) {
    const {
      enabled = false,
      global = {},
      perModel = {},
      timeoutSeconds = null,
      log,
      clock = systemClock,
    } = options;
    this.#global = resolvePauses(global, { startMs: 0, endMs: 0 }, "global");
    for (const [key, pauses] of Object.entries(perModel)) resolvePauses(pauses, this.#global, `per_model.${key}`);
    if (timeoutSeconds !== null && !(timeoutSeconds > 0)) {
      throw new RangeError(`Throttle timeout must be a positive number or null: received ${timeoutSeconds}`);
    }
    this.#enabled = enabled;
    this.#perModel = new ModelMatcher(Object.entries(perModel));
    this.#timeoutSeconds = timeoutSeconds;
    this.#log = log;
    this.#clock = clock;
  }

  /**
   * Waits until `model` may start its next upstream send, then records that start.
   *
   * @throws {QueueTimeoutError} when the throttle timeout passes first
   * @throws the signal's reason when `signal` aborts first (or was already aborted); no start is recorded
   */
  async wait(model: string, options: ThrottleWaitOptions = {}): Promise<void> {
    const { signal } = options;
    const log = options.log ?? this.#log;
    signal?.throwIfAborted();
    const state = this.#state(model);
    if (state === undefined) return;
    const timeoutSeconds = this.#timeoutSeconds;
    const waiter: Waiter<void> = new Waiter({
      clock: this.#clock,
      signal,
      timeoutMs: timeoutSeconds === null ? null : timeoutSeconds * 1000,
      onLeave: () => {
        state.queue.splice(state.queue.indexOf(waiter), 1);
        // Re-arm for the new head, or drop the timer when nobody waits any more.
        this.#schedule(model, state);
      },
      onTimeout: () => {
        log?.("warn", `Throttle timeout for ${model} after ${timeoutSeconds}s`);
        return new QueueTimeoutError({
          model,
          scope: "throttle",
          limit: null,
          waiting: state.queue.length + 1,
          retryAfterSeconds: Math.max(1, Math.ceil(this.#turnInMs(state, state.queue.length) / 1000)),
          waitedSeconds: timeoutSeconds ?? 0,
        });
      },
    });
    if (log !== undefined) this.#logs.set(waiter, log);
    state.queue.push(waiter);
    if (state.queue.length === 1) this.#schedule(model, state);
    return await waiter.promise;
  }

  /** Records that a response of `model` has ended (sent, cancelled or failed), starting its end pause. */
  finished(model: string): void {
    const state = this.#state(model);
    if (state === undefined || state.pauses.endMs === 0) return;
    state.lastEnd = this.#clock.now();
    // The head may now have to wait longer than its timer says.
    if (state.queue.length > 0) this.#schedule(model, state);
  }

  /** The model's state, created on first use; undefined when the throttle is off for it. */
  #state(model: string): ModelState | undefined {
    if (!this.#enabled) return undefined;
    const existing = this.#states.get(model);
    if (existing !== undefined) return existing;
    const override = this.#perModel.match(model)?.value;
    const pauses = override === undefined ? this.#global : resolvePauses(override, this.#global, model);
    if (pauses.startMs === 0 && pauses.endMs === 0) return undefined;
    this.#prune();
    const state: ModelState = {
      pauses,
      lastStart: -Infinity,
      lastEnd: -Infinity,
      queue: [],
      cancelTimer: undefined,
      announced: undefined,
    };
    this.#states.set(model, state);
    return state;
  }

  /** Lets the head of the queue start if its time has come, else sets a timer for when it will. */
  #schedule(model: string, state: ModelState): void {
    state.cancelTimer?.();
    state.cancelTimer = undefined;
    for (let head = state.queue[0]; head !== undefined; head = state.queue[0]) {
      const delayMs = this.#turnInMs(state, 0);
      if (delayMs > 0) {
        if (state.announced !== head) {
          state.announced = head;
          const log = this.#logs.get(head) ?? this.#log;
          log?.("info", `Throttle: waiting ${+(delayMs / 1000).toFixed(3)}s before sending to ${model}`);
        }
        state.cancelTimer = this.#clock.setTimer(() => this.#schedule(model, state), delayMs);
        return;
      }
      state.lastStart = this.#clock.now();
      state.queue.shift();
      head.grant();
    }
  }

  /** Milliseconds until the waiter at `position` in the queue may start, assuming no response ends meanwhile. */
  #turnInMs({ pauses, lastStart, lastEnd }: ModelState, position: number): number {
    const notBefore = Math.max(lastStart + pauses.startMs, lastEnd + pauses.endMs);
    return Math.max(0, notBefore - this.#clock.now()) + position * pauses.startMs;
  }

  /** Forgets models whose pauses have run out and that nobody waits for, so arbitrary names do not accumulate. */
  #prune(): void {
    for (const [model, state] of this.#states) {
      if (state.queue.length === 0 && this.#turnInMs(state, 0) === 0) this.#states.delete(model);
    }
  }
}

/** Resolves one pauses entry over its fallback (absent key → fallback, `null` → off), in milliseconds. */
function resolvePauses(pauses: ThrottlePauses, fallback: Pauses, path: string): Pauses {
  const { startPauseSeconds, endPauseSeconds } = pauses;
  return {
    startMs: pauseMs(startPauseSeconds, fallback.startMs, `${path}.start_pause_seconds`),
    endMs: pauseMs(endPauseSeconds, fallback.endMs, `${path}.end_pause_seconds`),
  };
}

function pauseMs(seconds: number | null | undefined, fallbackMs: number, path: string): number {
  if (seconds === undefined) return fallbackMs;
  if (seconds === null) return 0;
  if (typeof seconds !== "number" || !(seconds >= 0) || seconds === Infinity) {
    throw new RangeError(`Throttle ${path} must be a number >= 0 or null: received ${seconds}`);
  }
  return seconds * 1000;
}
