/**
 * The benchmark's report: its JSON shape, the target checks, and the text printed at the end (the table of
 * figures, the saturation runs with their checks, memory, targets).
 *
 * @module
 */

import { compare, type Comparison, KIND_METRICS, type MetricName, METRICS, type SideResult } from "./metrics.ts";
import type { MachineInfo, MemoryReading } from "./proc.ts";
import type { SaturationResult } from "./saturation.ts";
import type { CheckReport } from "./saturation_checks.ts";
import type { ProxyName, ProxySpec, Scenario, Target } from "./scenarios.ts";

/** The outcome of one scenario. */
export interface ScenarioReport {
  name: string;
  kind: Scenario["kind"];
  concurrency: number;
  /** Calls per side per round. */
  callsPerRound: number;
  via: ProxyName;
  /** The proxy of the baseline ("direct") side, when it is not the upstream itself. */
  baselineVia?: ProxyName;
  /** Set when the scenario was not measured. */
  skipped?: string;
  /** Set when the scenario was stopped before its last round. */
  dropped?: string;
  direct?: SideResult;
  proxy?: SideResult;
  comparisons?: Partial<Record<MetricName, Comparison>>;
}

/** A proxy's resident memory: before any load, and after all of it. */
export interface MemoryReport {
  proxy: ProxyName;
  idle?: MemoryReading;
  afterLoad?: MemoryReading;
}

/** One target, checked. */
export interface TargetReport {
  label: string;
  /** The measured value (ms added, a ratio, or MiB); NaN when not measured. */
  value: number;
  unit: "ms" | "x" | "MiB";
  pass: boolean;
  /** Why the check failed other than by its value. */
  note?: string;
}

/** The outcome of one saturation run. */
export interface SaturationReport {
  name: string;
  via: ProxyName;
  model: string;
  clients: number;
  arrivalGapMs: number;
  limit: number;
  maxWaiting: number;
  events: number;
  gapMs: number;
  /** Who cancels and when, for runs that cancel. */
  cancelRule?: string;
  /** Set when the run could not be made. */
  skipped?: string;
  /** What the run observed, request by request. */
  result?: SaturationResult;
  checks: CheckReport[];
}

/** Everything one benchmark run found. */
export interface BenchReport {
  date: string;
  mode: "full" | "quick";
  rounds: number;
  machine: MachineInfo;
  proxies: Partial<Record<ProxyName, string>>;
  scenarios: ScenarioReport[];
  saturation: SaturationReport[];
  memory: MemoryReport[];
  targets: TargetReport[];
  /** Things that went wrong around the measurements (a child that died, …). */
  incidents: string[];
}

/** Compares every metric of a measured scenario's kind. */
export function compareSides(
  kind: Scenario["kind"],
  sides: { direct: SideResult; proxy: SideResult },
): Partial<Record<MetricName, Comparison>> {
  return Object.fromEntries(KIND_METRICS[kind].map((metric) => [metric, compare(metric, sides.direct, sides.proxy)]));
}

/** Checks a scenario's targets; a scenario that was skipped or had failed calls fails them all. */
export function checkScenarioTargets(scenario: Scenario, report: ScenarioReport): TargetReport[] {
  return scenario.targets.map((target) => {
    const unit = target.compare === "ratio" ? "x" : "ms";
    const against = scenario.direct.via === undefined ? "" : ` (${scenario.proxy.via} vs ${scenario.direct.via})`;
    const label = `${scenario.name}: ${targetLabel(target)}${against}`;
    const comparison = report.comparisons?.[target.metric];
    if (comparison === undefined) {
      return { label, value: NaN, unit, pass: false, note: `skipped: ${report.skipped ?? "no data"}` };
    }
    const value = target.compare === "ratio" ? comparison.ratio : comparison.added ?? NaN;
    const failed = (report.direct?.failed ?? 0) + (report.proxy?.failed ?? 0);
    const pass = failed === 0 && meets(value, target);
    return { label, value, unit, pass, ...(failed > 0 ? { note: `${failed} calls failed` } : {}) };
  });
}

/** Checks a proxy's idle memory target. */
export function checkMemoryTarget(name: ProxyName, spec: ProxySpec, memory: MemoryReport): TargetReport[] {
  if (spec.idleRssBelowMb === undefined) return [];
  const label = `${name} proxy: idle RSS < ${spec.idleRssBelowMb} MiB`;
  const value = memory.idle?.rssMb ?? NaN;
  if (memory.idle === undefined) return [{ label, value, unit: "MiB", pass: false, note: "/proc not readable" }];
  return [{ label, value, unit: "MiB", pass: value < spec.idleRssBelowMb }];
}

/** The report as text: the table of figures, memory, targets and incidents. */
export function formatReport(report: BenchReport): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(
    `sampling-proxy bench, ${report.date}, ${report.mode} run, ${report.rounds} round(s) alternating direct/proxy`,
    `machine: ${m.cpus} CPUs${m.cpuModel ? ` (${m.cpuModel})` : ""}, ${m.memoryMb ?? "?"} MiB, ${m.kernel ?? "?"}; ` +
      `deno ${m.deno}, v8 ${m.v8}`,
    "",
  );
  const columns = (cells: string[]) =>
    (cells[0].padEnd(34) + cells.slice(1).map((c) => c.padStart(14)).join("")).trimEnd();
  lines.push(columns(["", "direct", "proxy", "proxy/direct", "added", "round ratios"]));
  for (const scenario of report.scenarios) {
    const baseline = scenario.baselineVia === undefined ? "" : `; direct column: via ${scenario.baselineVia}`;
    const heading = `${scenario.name} (${scenario.callsPerRound} ${
      scenario.kind === "stream" ? "streams" : "calls"
    }/round, via ${scenario.via}${baseline})`;
    if (scenario.skipped !== undefined || !scenario.direct || !scenario.proxy) {
      lines.push(`${heading}: skipped: ${scenario.skipped ?? "no data"}`);
      continue;
    }
    lines.push(heading);
    for (const metric of KIND_METRICS[scenario.kind]) {
      const spec = METRICS[metric];
      const c = scenario.comparisons?.[metric];
      lines.push(columns([
        `  ${spec.label}`,
        formatValue(scenario.direct.metrics[metric], spec.unit),
        formatValue(scenario.proxy.metrics[metric], spec.unit),
        c ? `${c.ratio.toFixed(2)}x` : "",
        c?.added === undefined ? "" : `${c.added >= 0 ? "+" : ""}${formatValue(c.added, "ms")}`,
        c?.roundRatios?.length ? formatRange(c.roundRatios) : "",
      ]));
    }
    if (scenario.dropped !== undefined) lines.push(`  dropped: ${scenario.dropped}`);
    for (const [side, result] of [["direct", scenario.direct], ["proxy", scenario.proxy]] as const) {
      if (result.failed > 0) {
        lines.push(`  ${side}: ${result.failed}/${result.calls} calls failed; first: ${result.firstFailure ?? "?"}`);
      }
    }
  }
  if (report.saturation.length > 0) lines.push("", ...formatSaturation(report.saturation));
  lines.push("", columns(["proxy memory", "idle RSS", "RSS after", "peak (HWM)"]));
  for (const memory of report.memory) {
    lines.push(columns([
      `  ${memory.proxy}`,
      formatValue(memory.idle?.rssMb, "MiB"),
      formatValue(memory.afterLoad?.rssMb, "MiB"),
      formatValue(memory.afterLoad?.peakRssMb, "MiB"),
    ]));
  }
  lines.push("", "targets");
  for (const target of report.targets) {
    const value = Number.isNaN(target.value) ? "n/a" : formatTargetValue(target);
    lines.push(
      `  ${target.pass ? "PASS" : "FAIL"}  ${target.label}: ${value}${target.note ? ` (${target.note})` : ""}`,
    );
  }
  if (report.incidents.length > 0) lines.push("", "incidents", ...report.incidents.map((i) => `  ${i}`));
  return lines.join("\n");
}

/** The saturation runs: how each went, then its checks. */
function formatSaturation(runs: SaturationReport[]): string[] {
  const lines = ["saturation runs (each request followed to its end; checks, not ratios)"];
  for (const run of runs) {
    lines.push(
      `${run.name} (via ${run.via}: ${run.model} limited to ${run.limit}, ${run.maxWaiting} waiting; ` +
        `${run.clients} streams of ${run.events} events ${run.gapMs} ms apart, started ${run.arrivalGapMs} ms apart)`,
    );
    if (run.cancelRule !== undefined) lines.push(`  cancelling: ${run.cancelRule}`);
    if (run.skipped !== undefined || run.result === undefined) {
      lines.push(`  skipped: ${run.skipped ?? "no data"}`);
      continue;
    }
    lines.push(`  ${describeOutcomes(run.result)}`);
    for (const problem of run.result.problems) lines.push(`  problem: ${problem}`);
    for (const check of run.checks) lines.push(`  ${check.pass ? "PASS" : "FAIL"}  ${check.label}: ${check.detail}`);
  }
  return lines;
}

/** When the streams ended and how fast the rejections came. */
function describeOutcomes(result: SaturationResult): string {
  const streams = result.clients.filter((c) => c.cancelled === undefined && c.status === 200).map((c) => c.endMs);
  const rejected = result.clients.filter((c) => c.cancelled === undefined && c.status === 429);
  const rejections = rejected.map((c) => c.endMs - c.sentMs);
  const retryAfter = [...new Set(rejected.map((c) => c.retryAfter ?? "none"))].join(", ");
  const parts = [`clients sent over ${formatValue(result.sendWindowMs, "ms")}`];
  if (streams.length > 0) {
    parts.push(
      `200 streams ended ${formatValue(Math.min(...streams), "ms")} to ${
        formatValue(Math.max(...streams), "ms")
      } after the first was sent`,
    );
  }
  if (rejections.length > 0) {
    parts.push(`each 429 came within ${formatValue(Math.max(...rejections), "ms")} (Retry-After: ${retryAfter})`);
  }
  return parts.join("; ");
}

function meets(value: number, target: Target): boolean {
  switch (target.pass) {
    case "below":
      return value < target.limit;
    case "at_most":
      return value <= target.limit;
    case "at_least":
      return value >= target.limit;
  }
}

function targetLabel(target: Target): string {
  const label = METRICS[target.metric].label;
  const op = target.pass === "below" ? "<" : target.pass === "at_most" ? "≤" : "≥";
  return target.compare === "ratio"
    ? `proxy/direct ${label} ${op} ${target.limit}x`
    : `added ${label} ${op} ${target.limit} ms`;
}

function formatTargetValue(target: TargetReport): string {
  if (target.unit === "x") return `${target.value.toFixed(3)}x`;
  if (target.unit === "MiB") return formatValue(target.value, "MiB");
  return `${target.value >= 0 ? "+" : ""}${formatValue(target.value, "ms")}`;
}

/** `min–max` of ratios, e.g. `0.21–0.34x`. */
function formatRange(ratios: number[]): string {
  return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x`;
}

function formatValue(value: number | undefined, unit: "ms" | "/s" | "MiB"): string {
  if (value === undefined || Number.isNaN(value)) return "n/a";
  if (unit === "/s") return `${Math.round(value)}/s`;
  if (unit === "MiB") return `${value.toFixed(1)} MiB`;
  return `${value.toFixed(Math.abs(value) < 10 ? 3 : 1)} ms`;
}
