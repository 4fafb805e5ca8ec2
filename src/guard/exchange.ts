/**
 * What a guarded exchange (one client request, possibly several upstream attempts) is given by the request path,
 * and the steps the streamed and the whole-body guard share: asking the validator, describing a finding,
 * backing off before the next attempt.
 *
 * @module
 */

import type { StreamOutcome } from "../http/stream_end.ts";
import type { Converter } from "../convert/converter.ts";
import { ProxyError } from "../http/errors.ts";
import type { Dialect } from "../protocols/dialect.ts";
import type { UpstreamResponse } from "../http/upstream_call.ts";
import type { GarbageGuard } from "./garbage_guard.ts";
import { GARBAGE_HEADER } from "./length_cut.ts";
import type { LoopVerdict } from "./loop_verdict.ts";
import type { ToolCallLoopVerdict } from "./tool_call_repeat_detector.ts";
import type { RequestLifecycle } from "../observability/lifecycle.ts";
import { countOf } from "../observability/wording.ts";

/** The request path's side of a guarded exchange. */
export interface ExchangeOptions {
  /** The proxy's guard (settings, validator, counters, dumps). */
  guard: GarbageGuard;
  /** The proxy's request id. */
  requestId: string;
  /** The model the client asked for. */
  model: string;
  /** The upstream's name. */
  upstream: string;
  /** The client's dialect. */
  clientDialect: Dialect;
  /** The upstream's dialect (the guard reads and re-sends in this one). */
  upstreamDialect: Dialect;
  /** Converts the upstream's answer for the client, when the protocols differ. */
  converter: Converter | undefined;
  /** The upstream request body as first sent (after conversion and policy). */
  body: Record<string, unknown>;
  /** Params merged into retried and continued bodies: the model's rule over `validation.retry_sampling`. */
  retrySampling: Readonly<Record<string, unknown>>;
  /**
   * Sends another attempt: waits for the throttle's turn, then calls the upstream with the first call's URL,
   * headers and timeouts. `signal` aborts both (it includes the client's).
   */
  send(body: string, signal: AbortSignal): Promise<UpstreamResponse>;
  /** The client's signal. */
  signal: AbortSignal;
  /** Aborts when the proxy stops after its grace period: the stream ends with an error event. */
  stop?: AbortSignal;
  /** Ends the request (releases the slot, writes the log line); later calls do nothing. */
  onEnd(outcome: StreamOutcome, error?: unknown): void;
  /** Largest single SSE event accepted from the upstream. @default no limit */
  maxEventBytes?: number;
  /** The request's lifecycle: attempts are reported to it. @default none */
  lifecycle?: RequestLifecycle;
}

/** The OpenAI error `code` a client gets when garbage ends its request. */
export const GARBAGE_CODE = "garbage_detected";

/** What the validator made of a text. */
export type ValidatorOutcome =
  | { kind: "loop"; confidence: number; issue: string | null }
  | { kind: "clear" }
  | { kind: "failed" };

/**
 * Asks the validator about `text` (only its end is sent), counts the call and logs the verdict with its latency.
 * A failure is logged once and comes back as `failed`: the caller lets the text through (fail open). A check
 * aborted by `signal` is neither counted nor logged.
 */
export async function consultValidator(
  options: ExchangeOptions,
  text: string,
  check: { reason: string; signal: AbortSignal },
): Promise<ValidatorOutcome> {
  const { guard, model, requestId } = options;
  if (guard.validator === undefined) return { kind: "failed" };
  const result = await guard.validator.check(text, { reason: check.reason, signal: check.signal });
  if (!result.ok && result.kind === "aborted") return { kind: "failed" };
  const latency = `${Math.round(result.latencyMs)} ms`;
  guard.counters.validatorCall(model, { ok: result.ok, latencyMs: result.latencyMs });
  if (!result.ok) {
    guard.log(
      "warn",
      `Validator failed (${result.kind}) after ${latency}: ${result.error}; letting the text through`,
      requestId,
    );
    return { kind: "failed" };
  }
  const { isLoop, confidence, issue } = result.verdict;
  const about = issue ? `, "${issue.slice(0, 120)}"` : "";
  guard.log(
    "info",
    `Validator: ${isLoop ? "loop" : "no loop"} (confidence ${confidence.toFixed(2)}${about}) after ${latency} ` +
      `[${check.reason}]`,
    requestId,
  );
  return isLoop ? { kind: "loop", confidence, issue } : { kind: "clear" };
}

/** A loop verdict in words: `periodic-tail, period 33, 5 repeats`. */
export function describeVerdict(verdict: LoopVerdict): string {
  return `${verdict.reason}, period ${verdict.period}, ${verdict.repeats} repeats`;
}

/** A repeated tool call in words: `Bash called 3 times with the same arguments`. */
export function describeToolLoop(verdict: ToolCallLoopVerdict): string {
  return `${verdict.reason}: ${verdict.name} called ${verdict.repeats} times with the same arguments`;
}

/** A validator-confirmed suspicion in words. */
export function describeConfirmed(verdict: LoopVerdict, outcome: { confidence: number; issue: string | null }): string {
  const issue = outcome.issue ? `: ${outcome.issue.slice(0, 120)}` : "";
  return `${describeVerdict(verdict)}; validator confidence ${outcome.confidence.toFixed(2)}${issue}`;
}

/** The message of the error a client gets when the attempts ran out. */
export function exhaustedMessage(description: string, attempts: number): string {
  return `Garbage output detected (${description}); the model kept producing it in ${
    countOf(attempts, "attempt")
  }; ${NO_RETRY}`;
}

/** Said in every give-up error: the client should not send the same request again. */
export const NO_RETRY = "sending the same request again will not help";

/**
 * The status of a give-up error (`on_exhausted: "error"`) while headers are unsent: a 4xx, because the SDKs retry
 * 408, 409, 429 and every 5xx (529 included) on their own, and the same request would only loop again.
 */
const EXHAUSTED_STATUS = 422;

/**
 * The give-up error of a whole answer (`on_exhausted: "error"`): {@link EXHAUSTED_STATUS}, `api_error` (Anthropic)
 * / `server_error` with code `garbage_detected` (OpenAI), `x-should-retry: false` (which the SDKs obey) and the
 * {@link GARBAGE_HEADER}.
 */
export function exhaustedError(message: string): ProxyError {
  return new ProxyError(EXHAUSTED_STATUS, "api_error", message, {
    code: GARBAGE_CODE,
    headers: { "x-should-retry": "false", [GARBAGE_HEADER]: "exhausted" },
  });
}

/** Waits `ms` milliseconds, or until `signal` aborts (then resolves early; the caller checks the signal). */
export function backoff(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
