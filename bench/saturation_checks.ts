/**
 * The checks of a saturation run (`saturation.ts`), each PASS or FAIL with the figures behind it.
 *
 * 1. Outcomes: every request not cancelled on purpose is a complete 200 stream (it ends with its protocol's final
 *    event) or a clean 429: a `Retry-After` of whole seconds and an error body in the protocol's shape with the
 *    type `rate_limit_error`. Nothing else: no other status, no broken stream, no network error.
 * 2. Admitted (runs without cancellations): at least `limit` and at most `limit + maxWaiting` requests got a slot.
 *    The upper bound holds while no slot can have been freed before the last client arrived, i.e. while the
 *    clients' send window is shorter than the shortest possible stream (`events × gapMs`); for a longer window
 *    each slot may have served one more request per such stream, and the bound grows by that. Fewer than
 *    `limit + maxWaiting` means some waiter timed out (also a clean 429), which the queue timeout makes unlikely.
 * 3. FIFO: the requests reached the upstream in arrival order, every admitted one exactly once. Two requests
 *    reaching the upstream less than {@link SIMULTANEOUS_MS} apart were let through together (two slots freed at
 *    once) and race over separate connections, so their order is not held against the proxy.
 * 4. Saturated: right after the last client was sent, `/health` showed the model's `limit` slots in use and
 *    between 1 and `maxWaiting` requests waiting.
 * 5. No leak: after the run, `/health` showed the model with nothing in use and nothing waiting.
 * 6. Cancellations (runs that cancel): some requests were cancelled while waiting and some while streaming, so
 *    both ways of leaving were exercised.
 *
 * @module
 */

import type { Arrival } from "./fast_upstream.ts";
import { type ClientRecord, field, IDLE_POLL_MS, type SaturationResult } from "./saturation.ts";
import type { SaturationRun } from "./scenarios.ts";

/** One check, judged. */
export interface CheckReport {
  label: string;
  pass: boolean;
  /** The figures behind the verdict. */
  detail: string;
}

/** Requests reaching the upstream closer than this were let through together; their order is not checked. */
export const SIMULTANEOUS_MS = 1;

const SHOWN_PROBLEMS = 3;

/** Judges a saturation run; see the module doc for the checks. */
export function checkSaturation(run: SaturationRun, result: SaturationResult): CheckReport[] {
  const checks = [checkOutcomes(run, result.clients)];
  if (run.cancel === undefined) checks.push(checkAdmitted(run, result));
  checks.push(checkFifo(result), checkSaturated(run, result), checkIdle(result));
  if (run.cancel !== undefined) checks.push(checkCancellations(result.clients));
  return checks;
}

/** Why a request is neither a complete 200 stream nor a clean 429 (nor cancelled on purpose); undefined if it is. */
export function outcomeProblem(record: ClientRecord, protocol: "openai" | "anthropic"): string | undefined {
  if (record.cancelled !== undefined) return undefined;
  if (record.failure !== undefined) return record.failure;
  if (record.status === 200) return record.complete ? undefined : "stream ended without its final event";
  if (record.status !== 429) return `status ${record.status}`;
  if (!/^[1-9]\d*$/.test(record.retryAfter ?? "")) return `429 with Retry-After ${record.retryAfter ?? "missing"}`;
  const error = field(record.errorBody, "error");
  // Anthropic: {"type":"error","error":{…}}; OpenAI: {"error":{…}} without a top-level type.
  const shaped = field(record.errorBody, "type") === (protocol === "anthropic" ? "error" : undefined);
  const message = field(error, "message");
  if (!shaped || field(error, "type") !== "rate_limit_error" || typeof message !== "string" || message === "") {
    return `429 with a body not in the ${protocol} error shape: ${JSON.stringify(record.errorBody).slice(0, 200)}`;
  }
  return undefined;
}

/** The protocol spoken by the run's clients. */
export function runProtocol(run: SaturationRun): "openai" | "anthropic" {
  return run.call.path === "/v1/messages" ? "anthropic" : "openai";
}

/** (1) */
function checkOutcomes(run: SaturationRun, clients: ClientRecord[]): CheckReport {
  const protocol = runProtocol(run);
  const problems = clients.flatMap((c) => {
    const problem = outcomeProblem(c, protocol);
    return problem === undefined ? [] : [`#${c.index}: ${problem}`];
  });
  const complete = clients.filter((c) => c.cancelled === undefined && c.status === 200).length;
  const rejected = clients.filter((c) => c.cancelled === undefined && c.status === 429).length;
  const cancelled = clients.filter((c) => c.cancelled !== undefined).length;
  const counts = `${complete} complete, ${rejected} rejected` + (run.cancel ? `, ${cancelled} cancelled` : "") +
    ` of ${clients.length}`;
  return {
    label: run.cancel
      ? "every request not cancelled is a complete 200 stream or a clean 429"
      : "every request is a complete 200 stream or a clean 429",
    pass: problems.length === 0,
    detail: problems.length === 0 ? counts : `${counts}; ${problems.length} not clean: ${shown(problems)}`,
  };
}

/** (2) */
function checkAdmitted(run: SaturationRun, result: SaturationResult): CheckReport {
  const admitted = result.clients.filter((c) => c.status === 200).length;
  const shortestStreamMs = run.events * run.gapMs;
  const refills = Math.floor(result.sendWindowMs / shortestStreamMs);
  const most = run.limit + run.maxWaiting + run.limit * refills;
  const window = `clients sent over ${result.sendWindowMs.toFixed(0)} ms, streams last ≥ ${shortestStreamMs} ms`;
  return {
    label: `admitted between ${run.limit} and ${run.limit + run.maxWaiting} (${run.limit} running + ` +
      `${run.maxWaiting} waiting)`,
    pass: admitted >= run.limit && admitted <= most,
    detail: `${admitted} admitted; ${window}` + (refills > 0 ? `, so up to ${most} may be admitted` : ""),
  };
}

/** (3) */
function checkFifo(result: SaturationResult): CheckReport {
  const label = "queue FIFO: admitted requests reached the upstream in arrival order";
  const indices = result.arrivals.map((a) => Number(a.index));
  const admitted = result.clients.filter((c) => c.status === 200).map((c) => c.index);
  const missing = admitted.filter((index) => !indices.includes(index));
  const repeated = indices.filter((index, i) => indices.indexOf(index) !== i);
  const { inversions, simultaneous } = orderFaults(result.arrivals);
  const problems = [
    ...(missing.length ? [`never reached the upstream: ${shown(missing.map((i) => `#${i}`))}`] : []),
    ...(repeated.length ? [`reached it twice: ${shown(repeated.map((i) => `#${i}`))}`] : []),
    ...(inversions.length ? [`out of order: ${shown(inversions)}`] : []),
  ];
  const tolerated = simultaneous > 0 ? `; ${simultaneous} pair(s) < ${SIMULTANEOUS_MS} ms apart not ordered` : "";
  return {
    label,
    pass: problems.length === 0 && admitted.length > 0,
    detail: problems.length === 0
      ? `${indices.length} reached the upstream in order${tolerated}`
      : `${problems.join("; ")}${tolerated}`,
  };
}

/** (4) */
function checkSaturated(run: SaturationRun, result: SaturationResult): CheckReport {
  const label = `/health while saturated: ${run.limit} in use, 1 to ${run.maxWaiting} waiting`;
  const pool = result.whileSaturated;
  if (pool === undefined) return { label, pass: false, detail: "not read" };
  return {
    label,
    pass: pool.inUse === run.limit && pool.waiting >= 1 && pool.waiting <= run.maxWaiting,
    detail: `inUse ${pool.inUse}, waiting ${pool.waiting}` +
      (pool.listed ? `, limit ${pool.limit ?? "none"}` : ", model not listed"),
  };
}

/** (5) */
function checkIdle(result: SaturationResult): CheckReport {
  const label = "no slot leak: nothing in use or waiting after the run";
  const pool = result.afterRun;
  if (pool === undefined) return { label, pass: false, detail: "not read" };
  const when = result.idleAfterMs === undefined
    ? `still so after polling for ${IDLE_POLL_MS / 1000} s`
    : `${result.idleAfterMs.toFixed(0)} ms after the last client ended`;
  return {
    label,
    pass: pool.inUse === 0 && pool.waiting === 0,
    detail: `inUse ${pool.inUse}, waiting ${pool.waiting}${
      pool.listed ? "" : " (pool idle, model not listed)"
    }, ${when}`,
  };
}

/** (6) */
function checkCancellations(clients: ClientRecord[]): CheckReport {
  const waiting = clients.filter((c) => c.cancelled === "waiting").length;
  const streaming = clients.filter((c) => c.cancelled === "streaming").length;
  return {
    label: "cancellations hit waiting and streaming requests",
    pass: waiting > 0 && streaming > 0,
    detail: `${waiting} cancelled while waiting, ${streaming} while streaming`,
  };
}

/**
 * Pairs that reached the upstream in the wrong order: a later arrival with a lower index than an earlier one, at
 * least {@link SIMULTANEOUS_MS} later; pairs closer than that are only counted.
 */
function orderFaults(arrivals: Arrival[]): { inversions: string[]; simultaneous: number } {
  const inversions: string[] = [];
  let simultaneous = 0;
  arrivals.forEach((later, j) => {
    for (const earlier of arrivals.slice(0, j)) {
      if (Number(earlier.index) <= Number(later.index)) continue;
      const gapMs = later.atMs - earlier.atMs;
      if (gapMs < SIMULTANEOUS_MS) simultaneous++;
      else inversions.push(`#${later.index} ${gapMs.toFixed(1)} ms after #${earlier.index}`);
    }
  });
  return { inversions, simultaneous };
}

function shown(items: readonly string[]): string {
  return items.slice(0, SHOWN_PROBLEMS).join(", ") + (items.length > SHOWN_PROBLEMS ? ", …" : "");
}
