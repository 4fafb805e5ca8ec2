/**
 * Per-model and global concurrency limits (`parallel_limits`) with a bounded, abortable wait queue.
 *
 * Semantics (the seed took the global slot, then waited for the model slot while holding it, which blocked
 * other models and leaked the global slot on cancellation):
 *
 * 1. A request needs a slot of its model (when the model is limited) **and** a global slot (when `global` is
 *    limited). Both are taken together in one synchronous step, so a waiter never holds one while waiting for the
 *    other, and nothing leaks when it leaves the queue.
 * 2. A request that can run is never queued behind another model: a free model never waits behind a full one.
 * 3. When a slot frees, the oldest eligible waiter gets it: waiters form one FIFO list in arrival order, and a
 *    release grants, in that order, every waiter whose model and global slots are both free now. Within a model
 *    this is plain FIFO; across models the earliest arrival wins among those that can run.
 * 4. A waiter leaves the queue on its model's queue timeout ({@linkcode QueueTimeoutError}) or when its abort signal
 *    fires (rejects with the signal's reason). A request arriving to a queue already holding `maxWaiting` requests
 *    for its model is rejected at once ({@linkcode QueueFullError}).
 *
 * Limits are keyed by model name or glob pattern (see `model_matcher.ts`; case-sensitive, as sent). Every distinct
 * model name gets its own pool: a key `"qwen3-*": 2` lets `qwen3-8b` and `qwen3-32b` each run 2 at a time. To cap
 * a family together, use the global limit or route those names to one upstream model.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { type AdmissionErrorDetails, type AdmissionScope, QueueFullError, QueueTimeoutError } from "./errors.ts";
import type { AdmissionLog } from "./log.ts";
import { Waiter } from "./waiter.ts";
import { isModelPattern, ModelMatcher } from "../policy/model_matcher.ts";
import { countOf } from "../observability/wording.ts";
import type { QueueBounds } from "../config/config.ts";

/** The reserved `parallel_limits` key for the limit shared by all models. */
export const GLOBAL_LIMIT_KEY = "global";

/** `retryAfterSeconds` suggested before any slot has been released, when no hold time is known yet. */
export const DEFAULT_RETRY_AFTER_SECONDS = 10;

/** Weight of the newest hold time in the running average behind `retryAfterSeconds`. */
const HOLD_TIME_SMOOTHING = 0.2;

/**
 * Bounds of a model's wait queue, as the config's `queue` section resolves them (`QueueBounds`), each of which may
 * also be `null` (unbounded) or absent (inherited; unbounded when nothing sets it):
 * - `maxWaiting`: most requests that may wait for this model at once; one more is rejected with
 *   {@linkcode QueueFullError}. `0` disables queueing (reject whenever no slot is free).
 * - `timeoutSeconds`: seconds a request may wait before it is rejected with {@linkcode QueueTimeoutError}.
 */
export type QueueOptions = { readonly [K in keyof QueueBounds]?: QueueBounds[K] | null };

/** Options for {@linkcode ConcurrencyLimiter}. */
export interface ConcurrencyLimiterOptions {
  /**
   * The seed's `parallel_limits`: model name or glob → positive integer limit; the reserved key `"global"` is the
   * limit across all models. Models without a key are limited by `global` only.
   * @default {{}}
   */
  limits?: Readonly<Record<string, number>>;
  /**
   * Queue bounds for every model (the config's defaults are `queue.max_waiting` and `queue.timeout_seconds`).
   * @default {{}} (unbounded)
   */
  queue?: QueueOptions;
  /**
   * Per-model queue bounds (model name or glob → bounds), overriding `queue` key by key; first match wins as for
   * limits.
   * @default {{}}
   */
  queueByModel?: Readonly<Record<string, QueueOptions>>;
  /** Receives the seed-style queue and slot log lines. */
  log?: AdmissionLog;
  /**
   * Time source and timers (tests inject a fake).
   * @default {systemClock}
   */
  clock?: Clock;
}

/** Options for {@linkcode ConcurrencyLimiter.acquire}. */
export interface AcquireOptions {
  /** The client's signal: aborting it while queued removes the request and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Receives this request's queue and slot lines instead of the limiter's `log` (e.g. tagged with its id). */
  log?: AdmissionLog;
}

/**
 * A granted model slot plus global slot. Releasing gives both back; it is idempotent, so
 * `using slot = await limiter.acquire(model)` and an explicit `slot.release()` on stream end can coexist.
 */
export interface Slot extends Disposable {
  /** The model the slot was granted for. */
  readonly model: string;
  /** Gives the slots back and wakes the next eligible waiter; later calls do nothing. */
  release(): void;
}

/** Live figures for one pool. */
export interface PoolFigures {
  /** The configured limit; `null` when the model is limited by the global limit only. */
  limit: number | null;
  /** Slots held right now. */
  inUse: number;
  /** Requests queued for this pool. For `global`: those whose model slot is free, blocked by the global limit. */
  waiting: number;
  /** How long the oldest of those has been waiting, in milliseconds; 0 when none waits. */
  longestWaitMs: number;
}

/** What {@linkcode ConcurrencyLimiter.snapshot} returns. */
export interface LimiterSnapshot {
  /** The global pool; absent when no global limit is configured. */
  global?: PoolFigures;
  /** Per model: every model configured by exact name, plus every model with a slot held or a request queued. */
  models: Record<string, PoolFigures>;
}

interface Pool {
  inUse: number;
  waiting: number;
}

interface Pending {
  model: string;
  log: AdmissionLog | undefined;
  waiter: Waiter<Slot>;
}

interface ResolvedQueue {
  maxWaiting: number | null;
  timeoutSeconds: number | null;
}

/**
 * Admits requests under per-model and global concurrency limits. See the module documentation for the rules.
 *
 * @example
 * ```ts
 * import { ConcurrencyLimiter } from "./limiter.ts";
 * const limiter = new ConcurrencyLimiter({ limits: { global: 4, "glm-5": 2 } });
 * {
 *   using _slot = await limiter.acquire("glm-5", { signal: AbortSignal.timeout(1000) });
 *   // … call the upstream while holding the slot …
 * }
 * ```
 */
export class ConcurrencyLimiter {
  #limits: ModelMatcher<number>;
  #exactModels: string[];
  #globalLimit: number | null;
  #queueDefaults: ResolvedQueue;
  #queueByModel: ModelMatcher<ResolvedQueue>;
  #log: AdmissionLog | undefined;
  #clock: Clock;
  #pools = new Map<string, Pool>();
  #globalInUse = 0;
  /** Every queued request, oldest first. */
  #pending: Pending[] = [];
  /** Running average of how long a slot is held, per limit key (the matched pattern, or `"global"`). */
  #meanHoldMs = new Map<string, number>();

  /**
   * Compiles the limits and queue bounds.
   *
   * @throws {RangeError} when a limit is not a positive integer or a queue bound is out of range
   * @throws {TypeError} when a model pattern is invalid
   */
  constructor(options: ConcurrencyLimiterOptions = {}) {
    const { limits = {}, queue = {}, queueByModel = {}, log, clock = systemClock } = options;
    for (const [key, limit] of Object.entries(limits)) {
      if (!Number.isInteger(limit) || limit < 1) {
        throw new RangeError(`Parallel limit "${key}" must be a positive integer: received ${limit}`);
      }
    }
    const { [GLOBAL_LIMIT_KEY]: globalLimit, ...modelLimits } = limits;
    this.#globalLimit = globalLimit ?? null;
    this.#limits = new ModelMatcher(Object.entries(modelLimits));
    this.#exactModels = Object.keys(modelLimits).filter((key) => !isModelPattern(key));
    const defaults = resolveQueue(queue, { maxWaiting: null, timeoutSeconds: null });
    this.#queueDefaults = defaults;
    this.#queueByModel = new ModelMatcher(
      Object.entries(queueByModel).map(([key, bounds]) => [key, resolveQueue(bounds, defaults)] as const),
    );
    this.#log = log;
    this.#clock = clock;
  }

  /**
   * Waits for a slot of `model` (if limited) and a global slot (if limited), taken together.
   *
   * @throws {QueueFullError} at once, when the model's queue is full
   * @throws {QueueTimeoutError} when the model's queue timeout passes first
   * @throws the signal's reason when `signal` aborts first (or was already aborted); no slot is taken
   */
  async acquire(model: string, options: AcquireOptions = {}): Promise<Slot> {
    const { signal } = options;
    const log = options.log ?? this.#log;
    signal?.throwIfAborted();
    // (2) Both slots free: no older waiter can be eligible (every release dispatches), so take them now.
    const blocker = this.#blocker(model);
    if (blocker === undefined) return this.#take(model, log);

    const waiting = this.#pools.get(model)?.waiting ?? 0;
    const { maxWaiting, timeoutSeconds } = this.#queueByModel.match(model)?.value ?? this.#queueDefaults;
    if (maxWaiting !== null && waiting >= maxWaiting) {
      log?.("warn", `Queue full for ${model}, ${countOf(waiting, "request")} waiting (max: ${maxWaiting})`);
      throw new QueueFullError(this.#details(model, blocker, waiting));
    }
    log?.("info", this.#queueingLine(model, blocker));
    this.#pool(model).waiting++;
    const pending: Pending = {
      model,
      log,
      waiter: new Waiter<Slot>({
        clock: this.#clock,
        signal,
        timeoutMs: timeoutSeconds === null ? null : timeoutSeconds * 1000,
        onLeave: () => this.#remove(pending),
        onTimeout: () => {
          log?.("warn", `Queue timeout for ${model} after ${timeoutSeconds}s`);
          const scope = this.#blocker(model) ?? blocker;
          return new QueueTimeoutError({
            ...this.#details(model, scope, this.#waitingIn(model, scope) + 1),
            waitedSeconds: timeoutSeconds ?? 0,
          });
        },
      }),
    };
    this.#pending.push(pending);
    return await pending.waiter.promise;
  }

  /** Live figures: the global pool (when limited) and each configured or active model. */
  snapshot(): LimiterSnapshot {
    const now = this.#clock.now();
    const figures = (limit: number | null, inUse: number, filter: (pending: Pending) => boolean): PoolFigures => {
      const queued = this.#pending.filter(filter);
      return {
        limit,
        inUse,
        waiting: queued.length,
        longestWaitMs: queued.length ? Math.round(now - queued[0].waiter.enqueuedAt) : 0,
      };
    };
    const models: Record<string, PoolFigures> = {};
    for (const model of new Set([...this.#exactModels, ...this.#pools.keys()])) {
      const inUse = this.#pools.get(model)?.inUse ?? 0;
      models[model] = figures(
        this.#limitOf(model, "model")?.limit ?? null,
        inUse,
        (pending) => pending.model === model,
      );
    }
    if (this.#globalLimit === null) return { models };
    const global = figures(
      this.#globalLimit,
      this.#globalInUse,
      (pending) => this.#blocker(pending.model) === "global",
    );
    return { global, models };
  }

  /** Which limit keeps `model` from running now: its own first (as the seed logs it), then the global one. */
  #blocker(model: string): AdmissionScope | undefined {
    const limit = this.#limitOf(model, "model")?.limit;
    if (limit !== undefined && (this.#pools.get(model)?.inUse ?? 0) >= limit) return "model";
    if (this.#globalLimit !== null && this.#globalInUse >= this.#globalLimit) return "global";
    return undefined;
  }

  /** (1) Takes the model slot and the global slot in one step; the caller has checked that both are free. */
  #take(model: string, log: AdmissionLog | undefined): Slot {
    const pool = this.#pool(model);
    const limit = this.#limitOf(model, "model");
    const grantedAt = this.#clock.now();
    this.#globalInUse++;
    pool.inUse++;
    if (this.#globalLimit !== null) {
      log?.("debug", `Global slot acquired, used: ${this.#globalInUse}/${this.#globalLimit}`);
    }
    if (limit !== undefined) log?.("debug", `Slot acquired ${model}, used: ${pool.inUse}/${limit.limit}`);

    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const heldMs = this.#clock.now() - grantedAt;
      pool.inUse--;
      this.#globalInUse--;
      if (limit !== undefined) {
        this.#recordHold(limit.key, heldMs);
        log?.("debug", `Slot released ${model}, used: ${pool.inUse}/${limit.limit}`);
      }
      if (this.#globalLimit !== null) {
        this.#recordHold(GLOBAL_LIMIT_KEY, heldMs);
        log?.("debug", `Global slot released, used: ${this.#globalInUse}/${this.#globalLimit}`);
      }
      this.#prune(model, pool);
      this.#dispatch();
    };
    return { model, release, [Symbol.dispose]: release };
  }

  /** (3) Grants, oldest first, every waiter that can run now. */
  #dispatch(): void {
    for (const pending of [...this.#pending]) {
      if (this.#blocker(pending.model) !== undefined) continue;
      this.#remove(pending);
      pending.waiter.grant(this.#take(pending.model, pending.log));
    }
  }

  #remove(pending: Pending): void {
    this.#pending.splice(this.#pending.indexOf(pending), 1);
    const pool = this.#pool(pending.model);
    pool.waiting--;
    this.#prune(pending.model, pool);
  }

  #pool(model: string): Pool {
    let pool = this.#pools.get(model);
    if (pool === undefined) {
      pool = { inUse: 0, waiting: 0 };
      this.#pools.set(model, pool);
    }
    return pool;
  }

  /** Forgets idle pools, so arbitrary model names sent by clients do not accumulate. */
  #prune(model: string, pool: Pool): void {
    if (pool.inUse === 0 && pool.waiting === 0) this.#pools.delete(model);
  }

  #queueingLine(model: string, blocker: AdmissionScope): string {
    const name = blocker === "global" ? "global limit" : model;
    // Logged before this request joins the queue: count it in.
    const waiting = this.#waitingIn(model, blocker) + 1;
    return `Queueing for ${name}, ${countOf(waiting, "request")} waiting (limit: ${
      this.#limitOf(model, blocker)?.limit
    })`;
  }

  /** Requests queued in one scope: the model's own queue, or all those blocked by the global limit only. */
  #waitingIn(model: string, scope: AdmissionScope): number {
    if (scope !== "global") return this.#pools.get(model)?.waiting ?? 0;
    return this.#pending.filter((pending) => this.#blocker(pending.model) === "global").length;
  }

  /** The limit of one scope for `model` with its key (the matched pattern, or `"global"`); undefined if none. */
  #limitOf(model: string, scope: AdmissionScope): { key: string; limit: number } | undefined {
    if (scope === "global") {
      return this.#globalLimit === null ? undefined : { key: GLOBAL_LIMIT_KEY, limit: this.#globalLimit };
    }
    const match = this.#limits.match(model);
    return match && { key: match.pattern, limit: match.value };
  }

  /**
   * Error details. `retryAfterSeconds` estimates when this request would get through: the queue (plus this one)
   * drains `limit` requests per mean hold time; {@linkcode DEFAULT_RETRY_AFTER_SECONDS} while none is known.
   */
  #details(model: string, scope: AdmissionScope, waiting: number): AdmissionErrorDetails {
    const found = this.#limitOf(model, scope);
    const meanHoldMs = found && this.#meanHoldMs.get(found.key);
    const retryAfterSeconds = found === undefined || meanHoldMs === undefined
      ? DEFAULT_RETRY_AFTER_SECONDS
      : Math.max(1, Math.ceil((meanHoldMs / 1000) * ((waiting + 1) / found.limit)));
    return { model, scope, limit: found?.limit ?? null, waiting, retryAfterSeconds };
  }

  #recordHold(key: string, heldMs: number): void {
    const mean = this.#meanHoldMs.get(key);
    this.#meanHoldMs.set(key, mean === undefined ? heldMs : mean + HOLD_TIME_SMOOTHING * (heldMs - mean));
  }
}

function resolveQueue(bounds: QueueOptions, fallback: ResolvedQueue): ResolvedQueue {
  const { maxWaiting = fallback.maxWaiting, timeoutSeconds = fallback.timeoutSeconds } = bounds;
  if (maxWaiting !== null && (!Number.isInteger(maxWaiting) || maxWaiting < 0)) {
    throw new RangeError(`Queue max_waiting must be a non-negative integer or null: received ${maxWaiting}`);
  }
  if (timeoutSeconds !== null && !(timeoutSeconds > 0)) {
    throw new RangeError(`Queue timeout_seconds must be a positive number or null: received ${timeoutSeconds}`);
  }
  return { maxWaiting, timeoutSeconds };
}
