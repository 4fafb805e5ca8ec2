/**
 * The figures of one side (direct or proxy) of a scenario, computed from its batches, and their comparison.
 *
 * - `requests_per_s`: successful calls / summed batch wall time.
 * - `latency_pNN`: request sent → response body read, over all successful calls of all rounds.
 * - `events_per_s`: content deltas delivered (deltas per stream × complete streams) / summed batch wall time; it
 *   counts the same upstream deltas whatever the client protocol, so converted streams compare with direct ones.
 * - `ttfb_pNN`: request sent → first body chunk of a stream.
 * - `stream_p50`: request sent → end of a stream.
 * - `cpu_per_call`: CPU time (user + system) used by the load generator, the upstream and the proxies during the
 *   side's batches, per successful call. It is the least noisy figure of what proxying costs: on a machine with
 *   few cores the proxy competes with the load generator and the upstream, so its throughput ratio also shows that
 *   competition.
 *
 * @module
 */

import type { BatchResult } from "./load.ts";
import { percentiles } from "./stats.ts";

/** How a metric is shown and compared. */
export interface MetricSpec {
  label: string;
  unit: "ms" | "/s";
}

/** Every metric, by name. */
export const METRICS = {
  requests_per_s: { label: "requests/s", unit: "/s" },
  latency_p50: { label: "latency p50", unit: "ms" },
  latency_p90: { label: "latency p90", unit: "ms" },
  latency_p99: { label: "latency p99", unit: "ms" },
  events_per_s: { label: "events/s", unit: "/s" },
  ttfb_p50: { label: "TTFB p50", unit: "ms" },
  ttfb_p99: { label: "TTFB p99", unit: "ms" },
  stream_p50: { label: "stream duration p50", unit: "ms" },
  cpu_per_call: { label: "CPU per call", unit: "ms" },
} satisfies Record<string, MetricSpec>;

/** The name of an entry of {@link METRICS}. */
export type MetricName = keyof typeof METRICS;

/** The metrics of each scenario kind, in report order. */
export const KIND_METRICS: Readonly<Record<"request" | "stream", readonly MetricName[]>> = {
  request: ["requests_per_s", "latency_p50", "latency_p90", "latency_p99", "cpu_per_call"],
  stream: ["events_per_s", "ttfb_p50", "ttfb_p99", "stream_p50", "cpu_per_call"],
};

/** A measured batch, with the CPU time all processes used during it (undefined where it cannot be read). */
export interface MeasuredBatch extends BatchResult {
  cpuMs?: number;
}

/** The figures of one side of a scenario. */
export interface SideResult {
  calls: number;
  succeeded: number;
  failed: number;
  firstFailure?: string;
  /** Summed wall time of the measured batches. */
  elapsedMs: number;
  metrics: Partial<Record<MetricName, number>>;
  /** The throughput (`requests_per_s` or `events_per_s`) of each round, to show the spread. */
  perRound: number[];
}

/** How the proxy's figure of a metric compares with the direct one. */
export interface Comparison {
  /** proxy / direct. */
  ratio: number;
  /** proxy − direct, for times only (ms). */
  added?: number;
  /** For throughputs: proxy / direct of each round, pairing the two sides' batches of the same round. */
  roundRatios?: number[];
}

/** Options of {@link summarizeSide}. */
export interface SummarizeOptions {
  kind: "request" | "stream";
  /** Content deltas per stream (streams only). */
  events?: number;
}

/** Computes the figures of one side from its measured batches (one per round). */
export function summarizeSide(batches: readonly MeasuredBatch[], options: SummarizeOptions): SideResult {
  const { kind, events = 0 } = options;
  const succeeded = sum(batches.map((b) => b.succeeded));
  const failed = sum(batches.map((b) => b.failed));
  const elapsedMs = sum(batches.map((b) => b.elapsedMs));
  const perSecond = (b: { succeeded: number; elapsedMs: number }) =>
    b.elapsedMs > 0 ? (b.succeeded * (kind === "stream" ? events : 1) * 1000) / b.elapsedMs : NaN;
  const firstFailure = batches.find((b) => b.firstFailure !== undefined)?.firstFailure;
  const totals = percentiles(batches.flatMap((b) => b.totalMs));
  const cpuMs = batches.every((b) => b.cpuMs !== undefined) ? sum(batches.map((b) => b.cpuMs ?? 0)) : NaN;
  const metrics: Partial<Record<MetricName, number>> = { cpu_per_call: cpuMs / succeeded };
  if (kind === "request") {
    metrics.requests_per_s = perSecond({ succeeded, elapsedMs });
    metrics.latency_p50 = totals.p50;
    metrics.latency_p90 = totals.p90;
    metrics.latency_p99 = totals.p99;
  } else {
    const ttfb = percentiles(batches.flatMap((b) => b.firstByteMs));
    metrics.events_per_s = perSecond({ succeeded, elapsedMs });
    metrics.ttfb_p50 = ttfb.p50;
    metrics.ttfb_p99 = ttfb.p99;
    metrics.stream_p50 = totals.p50;
  }
  return {
    calls: succeeded + failed,
    succeeded,
    failed,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    elapsedMs,
    metrics,
    perRound: batches.map(perSecond),
  };
}

/** Compares the proxy's figure of `metric` with the direct one. */
export function compare(metric: MetricName, direct: SideResult, proxy: SideResult): Comparison {
  const d = direct.metrics[metric] ?? NaN;
  const p = proxy.metrics[metric] ?? NaN;
  if (METRICS[metric].unit === "ms") return { ratio: p / d, added: p - d };
  const rounds = Math.min(direct.perRound.length, proxy.perRound.length);
  return { ratio: p / d, roundRatios: direct.perRound.slice(0, rounds).map((value, i) => proxy.perRound[i] / value) };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
