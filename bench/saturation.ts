/**
 * A saturation run: many clients at once against a proxy whose concurrency limit is small, each request followed
 * to its end. The figures are not compared with anything; `saturation_checks.ts` judges them.
 *
 * 1. Forget the upstream's recorded arrivals (`DELETE /bench/arrivals`).
 * 2. Start the clients one by one, `arrivalGapMs` apart, so that their arrival order at the proxy is their index.
 *    Each sends its index in the `x-bench-index` header, which the proxy passes on to the upstream, and reads its
 *    answer to the end: a stream (checked for its final event) or an error body.
 * 3. Once all are sent, read the proxy's `/health` (the limit should be full and requests waiting), then cancel
 *    the clients the run's plan cancels at that point; others cancel on their stream's first chunk.
 * 4. Wait for every client (a budget aborts those still running), then poll `/health` until the model's pool is
 *    idle, and read the order in which requests reached the upstream (`GET /bench/arrivals`).
 *
 * @module
 */

import type { Arrival } from "./fast_upstream.ts";
import { describe, readEventStream, send } from "./load.ts";
import { endMarker, type SaturationRun } from "./scenarios.ts";

/** How one client's request ended, as the client saw it. */
export interface ClientRecord {
  /** The client's place in the arrival order (0 first). */
  index: number;
  /** When the request was sent, in ms since the run started. */
  sentMs: number;
  /** When its outcome was known (stream end, error body read, cancellation), in ms since the run started. */
  endMs: number;
  /** The response status; absent when no response came (cancelled while waiting, network error, over budget). */
  status?: number;
  /** A 200 stream ended with its protocol's final event. */
  complete?: boolean;
  /** The `retry-after` header of an error response. */
  retryAfter?: string;
  /** The error response's body, parsed as JSON when it is JSON, else its text. */
  errorBody?: unknown;
  /** Set when the client cancelled its request on purpose: whether a response had started by then. */
  cancelled?: "waiting" | "streaming";
  /** Why the call failed otherwise (network error, over budget, incomplete stream). */
  failure?: string;
}

/** A model's figures in the proxy's `/health` (`concurrency.models[model]`). */
export interface PoolReading {
  /** Whether the model was listed; an idle pool of a glob-limited model is not (it counts as 0 in use, 0 waiting). */
  listed: boolean;
  inUse: number;
  waiting: number;
  /** The limit `/health` reports for the model, when listed. */
  limit?: number | null;
}

/** What a saturation run observed. */
export interface SaturationResult {
  /** One record per client, in index order. */
  clients: ClientRecord[];
  /** When the last client was sent, in ms since the first. */
  sendWindowMs: number;
  /** `/health` right after the last client was sent, before any `all_sent` cancellation. */
  whileSaturated?: PoolReading;
  /** `/health` at the end of the polling after the run. */
  afterRun?: PoolReading;
  /** How long after the last client ended `/health` first showed the pool idle; absent when it never did. */
  idleAfterMs?: number;
  /** The `x-bench-index` values in the order the upstream received them, with its arrival times. */
  arrivals: Arrival[];
  /** Problems reading `/health` or the arrivals, for the report. */
  problems: string[];
}

/** Options of {@link runSaturation}. */
export interface SaturationOptions {
  /** The proxy's base URL. */
  proxyUrl: string;
  /** The upstream's base URL. */
  upstreamUrl: string;
  /** Longest time the clients may take before those still running are aborted. */
  budgetMs: number;
}

/** How long `/health` is polled after the run for the model's pool to become idle. */
export const IDLE_POLL_MS = 3000;
const IDLE_POLL_EVERY_MS = 20;
const READ_TIMEOUT_MS = 5000;

/** Runs `run` against its proxy; see the module doc for the steps. */
export async function runSaturation(run: SaturationRun, options: SaturationOptions): Promise<SaturationResult> {
  const problems: string[] = [];
  // (1) A clean record of arrivals.
  await readArrivals(options.upstreamUrl, "DELETE");
  // (2) The clients, in order.
  const budget = AbortSignal.timeout(options.budgetMs);
  const marker = new TextEncoder().encode(endMarker(run.call.path));
  const body = JSON.stringify(run.call.body);
  const cancellers: Array<() => void> = [];
  const started = performance.now();
  const since = () => performance.now() - started;
  const clients: Promise<ClientRecord>[] = [];
  let lastSentAt = started;
  for (let index = 0; index < run.clients; index++) {
    if (index > 0) await pause(run.arrivalGapMs);
    const cancel = new AbortController();
    const point = run.cancel?.when(index);
    if (point === "all_sent") cancellers.push(() => cancel.abort());
    lastSentAt = performance.now();
    clients.push(runClient({ url: options.proxyUrl + run.call.path, body, index, marker }, {
      since,
      cancel,
      cancelOnFirstChunk: point === "first_chunk",
      budget,
    }));
  }
  const sendWindowMs = lastSentAt - started;
  // (3) Saturated: read the pool, then cancel.
  const whileSaturated = await readPool(options.proxyUrl, run.model).catch((error) => {
    problems.push(`/health while saturated: ${describe(error)}`);
    return undefined;
  });
  for (const cancel of cancellers) cancel();
  // (4) The end, the idle pool, the arrivals.
  const records = await Promise.all(clients);
  const ended = performance.now();
  let afterRun: PoolReading | undefined;
  let idleAfterMs: number | undefined;
  while (performance.now() - ended < IDLE_POLL_MS) {
    try {
      afterRun = await readPool(options.proxyUrl, run.model);
    } catch (error) {
      problems.push(`/health after the run: ${describe(error)}`);
      break;
    }
    if (afterRun.inUse === 0 && afterRun.waiting === 0) {
      idleAfterMs = performance.now() - ended;
      break;
    }
    await pause(IDLE_POLL_EVERY_MS);
  }
  const arrivals = await readArrivals(options.upstreamUrl, "GET").catch((error) => {
    problems.push(`upstream arrivals: ${describe(error)}`);
    return [];
  });
  return {
    clients: records,
    sendWindowMs,
    ...(whileSaturated ? { whileSaturated } : {}),
    ...(afterRun ? { afterRun } : {}),
    ...(idleAfterMs === undefined ? {} : { idleAfterMs }),
    arrivals,
    problems,
  };
}

/** One client's call: where, what, and its index. */
interface ClientCall {
  url: string;
  body: string;
  index: number;
  marker: Uint8Array;
}

/** How a client is timed and stopped. */
interface ClientControl {
  /** Milliseconds since the run started. */
  since: () => number;
  /** Aborted when the client cancels on purpose. */
  cancel: AbortController;
  cancelOnFirstChunk: boolean;
  /** Aborts the call when the run is over budget. */
  budget: AbortSignal;
}

/** Sends one request and follows it to its end; never throws. */
async function runClient(call: ClientCall, control: ClientControl): Promise<ClientRecord> {
  const { index } = call;
  const sentMs = control.since();
  const signal = AbortSignal.any([control.cancel.signal, control.budget]);
  let status: number | undefined;
  try {
    const response = await send(
      { url: call.url, body: call.body, headers: { "x-bench-index": String(index) } },
      signal,
    );
    status = response.status;
    if (status !== 200 || !response.body) {
      const text = await response.text();
      const retryAfter = response.headers.get("retry-after");
      return {
        index,
        sentMs,
        endMs: control.since(),
        status,
        ...(retryAfter === null ? {} : { retryAfter }),
        errorBody: parseJson(text),
      };
    }
    const end = await readEventStream(response.body, {
      endMarker: call.marker,
      onFirstChunk: control.cancelOnFirstChunk ? () => control.cancel.abort() : undefined,
    });
    return { index, sentMs, endMs: control.since(), status, complete: end.complete };
  } catch (error) {
    const outcome = control.cancel.signal.aborted
      ? { cancelled: status === undefined ? "waiting" as const : "streaming" as const }
      : { failure: control.budget.aborted ? "over the run's budget" : describe(error) };
    return { index, sentMs, endMs: control.since(), ...(status === undefined ? {} : { status }), ...outcome };
  }
}

/** The model's pool in the proxy's `/health`. */
async function readPool(proxyUrl: string, model: string): Promise<PoolReading> {
  const response = await fetch(`${proxyUrl}/health`, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  const health: unknown = await response.json();
  const models = field(field(health, "concurrency"), "models");
  if (!response.ok || typeof models !== "object" || models === null) {
    throw new Error(`/health answered ${response.status} without concurrency.models`);
  }
  const pool = field(models, model);
  if (pool === undefined) return { listed: false, inUse: 0, waiting: 0 };
  const inUse = field(pool, "inUse");
  const waiting = field(pool, "waiting");
  const limit = field(pool, "limit");
  if (typeof inUse !== "number" || typeof waiting !== "number") {
    throw new Error(`/health lists model "${model}" without numeric inUse and waiting`);
  }
  return { listed: true, inUse, waiting, ...(typeof limit === "number" || limit === null ? { limit } : {}) };
}

/** Reads (GET) or reads and clears (DELETE) the upstream's recorded arrivals. */
async function readArrivals(upstreamUrl: string, method: "GET" | "DELETE"): Promise<Arrival[]> {
  const response = await fetch(`${upstreamUrl}/bench/arrivals`, {
    method,
    signal: AbortSignal.timeout(READ_TIMEOUT_MS),
  });
  const arrivals = field(await response.json(), "arrivals");
  if (!response.ok || !Array.isArray(arrivals)) throw new Error(`/bench/arrivals answered ${response.status}`);
  return arrivals;
}

/** `value[key]` when `value` is an object, else undefined: a step into parsed JSON of unknown shape. */
export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
