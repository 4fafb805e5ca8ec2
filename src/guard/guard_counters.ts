/**
 * Garbage detection counters per model, for `/health`.
 *
 * @module
 */

/** What happened to one model's answers. */
export interface ModelGuardFigures {
  /** Garbage incidents by reason (`periodic-tail`, `repeated-tool-call`, `validator`, …). */
  detections: Record<string, number>;
  /** Transparent retries (nothing of the answer had reached the client). */
  retries: number;
  /** Continuations (the client's text was extended by a new request). */
  continuations: number;
  /** Requests that ended with an error because the attempts ran out or the answer could not be continued. */
  exhausted: number;
  /** Validator calls. */
  validator_calls: number;
  /** Validator calls that failed (the answer was let through). */
  validator_failures: number;
  /** Average validator latency in milliseconds, or `null` before the first call. */
  validator_avg_latency_ms: number | null;
}

interface ModelState {
  detections: Map<string, number>;
  retries: number;
  continuations: number;
  exhausted: number;
  validatorCalls: number;
  validatorFailures: number;
  validatorLatencyMs: number;
}

/** Distinct model names tracked; later ones share one entry, so client-chosen names cannot grow memory. */
const MAX_MODELS = 256;
const OTHER_MODELS = "(other)";

/**
 * Counts garbage incidents, retries, continuations and validator calls per model name.
 *
 * @example
 * ```ts
 * import { GuardCounters } from "./guard_counters.ts";
 * const counters = new GuardCounters();
 * counters.detection("qwen3", "periodic-tail");
 * counters.snapshot().qwen3.detections; // { "periodic-tail": 1 }
 * ```
 */
export class GuardCounters {
  #models = new Map<string, ModelState>();

  /** Counts a garbage incident. */
  detection(model: string, reason: string): void {
    const { detections } = this.#state(model);
    detections.set(reason, (detections.get(reason) ?? 0) + 1);
  }

  /** Counts a transparent retry. */
  retry(model: string): void {
    this.#state(model).retries++;
  }

  /** Counts a continuation. */
  continuation(model: string): void {
    this.#state(model).continuations++;
  }

  /** Counts a request that ended in an error after garbage. */
  exhausted(model: string): void {
    this.#state(model).exhausted++;
  }

  /** Counts a validator call and its latency. */
  validatorCall(model: string, options: { ok: boolean; latencyMs: number }): void {
    const state = this.#state(model);
    state.validatorCalls++;
    if (!options.ok) state.validatorFailures++;
    state.validatorLatencyMs += options.latencyMs;
  }

  /** The figures per model. */
  snapshot(): Record<string, ModelGuardFigures> {
    const out: Record<string, ModelGuardFigures> = {};
    for (const [model, state] of this.#models) {
      out[model] = {
        detections: Object.fromEntries(state.detections),
        retries: state.retries,
        continuations: state.continuations,
        exhausted: state.exhausted,
        validator_calls: state.validatorCalls,
        validator_failures: state.validatorFailures,
        validator_avg_latency_ms: state.validatorCalls === 0
          ? null
          : Math.round(state.validatorLatencyMs / state.validatorCalls),
      };
    }
    return out;
  }

  #state(model: string): ModelState {
    const key = this.#models.has(model) || this.#models.size < MAX_MODELS ? model : OTHER_MODELS;
    let state = this.#models.get(key);
    if (state === undefined) {
      state = {
        detections: new Map(),
        retries: 0,
        continuations: 0,
        exhausted: 0,
        validatorCalls: 0,
        validatorFailures: 0,
        validatorLatencyMs: 0,
      };
      this.#models.set(key, state);
    }
    return state;
  }
}
