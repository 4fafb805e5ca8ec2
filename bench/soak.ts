/**
 * The soak run (`deno task bench --soak`): the proxy under hostile load for minutes, checked as it goes.
 *
 * While it lasts, at the same time:
 * 1. `streams` workers each stream answers back to back from the fast upstream through the proxy (paced: 40 events
 *    500 ms apart, 20 s a stream, so 1,000 streams make 2,000 events/s, a sixth of what one proxy core passes;
 *    OpenAI and Anthropic alternately); every stream must end with its protocol's final event;
 * 2. `idle` connections are opened and left silent (the proxy closes them after its header timeout; each is
 *    reopened at once, so the count stays up);
 * 3. `slowloris` connections trickle a request's headers one byte every few seconds (reopened when closed);
 * 4. one worker per misbehaviour of `hostile_upstream.ts` (hang, trickle, endless line, gzip bomb, dropped stream,
 *    garbage body) sends requests back to back; each must end (an error status or an error event), never hang
 *    past the proxy's deadline;
 * 5. `/health` is fetched every {@link HEALTH_EVERY_MS} ms (its latency is the responsiveness figure) and the
 *    proxy's resident memory is read every second.
 *
 * At the end the load stops, the proxy is given a few seconds to settle, and `/health` must show no slot in use and
 * no request waiting (no slot leaked). The run fails when the proxy exits, `/health` p99 is over
 * {@link HEALTH_P99_TARGET_MS}, peak RSS is over {@link RSS_TARGET_MB}, a fast stream failed, a hostile request
 * hung, or a slot leaked.
 *
 * @module
 */

import { ChildServer } from "./child_server.ts";
import { FAST_UPSTREAM_LISTENING } from "./fast_upstream.ts";
import { HOSTILE_MODELS, HOSTILE_UPSTREAM_LISTENING } from "./hostile_upstream.ts";
import { describe, readEventStream, send } from "./load.ts";
import { processMemory } from "./proc.ts";
import { type ApiPath, endMarker } from "./scenarios.ts";
import { type Percentiles, percentiles } from "./stats.ts";

/** How hard and how long a soak run is. */
export interface SoakPlan {
  durationMs: number;
  streams: number;
  idle: number;
  slowloris: number;
}

/** The issue's soak: 1,000 streams, 2,000 idle connections and slowloris for five minutes. */
export const FULL_SOAK: SoakPlan = { durationMs: 300_000, streams: 1000, idle: 2000, slowloris: 200 };

/** `/health` is fetched this often. */
export const HEALTH_EVERY_MS = 100;
/** Targets of the run. */
export const HEALTH_P99_TARGET_MS = 50;
/** Peak resident memory of the proxy allowed during the run. */
export const RSS_TARGET_MB = 400;

/** Longest a hostile request may take: the proxy's deadline for the hostile upstream plus slack. */
const HOSTILE_DEADLINE_SECONDS = 20;
const HOSTILE_LIMIT_MS = (HOSTILE_DEADLINE_SECONDS + 10) * 1000;
const STREAM_MODEL = "bench-ev40-gap500";
const SLOWLORIS_GAP_MS = 2000;
const SETTLE_MS = 5000;

/** What a soak run measured. */
export interface SoakReport {
  plan: SoakPlan;
  proxyExited: boolean;
  streams: { completed: number; failed: number; firstFailure?: string };
  hostile: Record<string, { ended: number; hung: number; statuses: Record<string, number> }>;
  idle: { opened: number; closedByProxy: number };
  slowloris: { opened: number; closedByProxy: number };
  healthMs: Percentiles;
  healthFailures: number;
  peakRssMb: number;
  leaked: { inUse: number; waiting: number } | undefined;
  problems: string[];
}

/** Starts the upstreams and the proxy as children, runs the soak, stops the load and checks the proxy. */
export async function runSoak(
  plan: SoakPlan,
  context: { children: ChildServer[]; tempDir: string; cwd: string },
): Promise<SoakReport> {
  const { children, tempDir, cwd } = context;
  /** Starts a child that is stopped with the others. */
  const start = async (name: string, args: string[], readyPrefix: string) => {
    const child = await ChildServer.start({ name, args: ["run", "--allow-net", ...args], readyPrefix, cwd });
    children.push(child);
    return child;
  };
  const fast = await start("fast upstream", ["bench/fast_upstream.ts"], FAST_UPSTREAM_LISTENING);
  const hostile = await start("hostile upstream", ["bench/hostile_upstream.ts"], HOSTILE_UPSTREAM_LISTENING);
  const configPath = `${tempDir}/soak.json`;
  await Deno.writeTextFile(configPath, JSON.stringify(soakConfig(fast.url, hostile.url, plan)));
  const proxy = await start(
    "proxy",
    ["--allow-read", "--allow-env", "src/main.ts", "--port", "0", "-c", configPath],
    "sampling-proxy listening on ",
  );
  const base = proxy.url.replace(/\/$/, "");
  const address = new URL(base);
  const target = { hostname: address.hostname, port: Number(address.port) };

  const stop = new AbortController();
  const report: SoakReport = {
    plan,
    proxyExited: false,
    streams: { completed: 0, failed: 0 },
    hostile: Object.fromEntries(HOSTILE_MODELS.map((m) => [m, { ended: 0, hung: 0, statuses: {} }])),
    idle: { opened: 0, closedByProxy: 0 },
    slowloris: { opened: 0, closedByProxy: 0 },
    healthMs: percentiles([]),
    healthFailures: 0,
    peakRssMb: 0,
    leaked: undefined,
    problems: [],
  };
  const healthSamples: number[] = [];
  const tasks: Promise<void>[] = [
    ...Array.from({ length: plan.streams }, (_, i) => streamWorker(base, i, plan, report, stop.signal)),
    ...Array.from({ length: plan.idle }, () => silentConnection(target, report.idle, stop.signal, false)),
    ...Array.from({ length: plan.slowloris }, () => silentConnection(target, report.slowloris, stop.signal, true)),
    ...HOSTILE_MODELS.map((model) => hostileWorker(base, model, report, stop.signal)),
    healthProbe(base, healthSamples, report, stop.signal),
    memoryWatch(proxy, report, stop.signal),
  ];
  const timer = setTimeout(() => stop.abort(), plan.durationMs);
  await Promise.all(tasks);
  clearTimeout(timer);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  report.proxyExited = proxy.exited;
  report.healthMs = percentiles(healthSamples);
  report.leaked = proxy.exited ? undefined : await slotsHeld(base);
  report.problems = soakProblems(report);
  return report;
}

function soakConfig(fastUrl: string, hostileUrl: string, plan: SoakPlan): unknown {
  return {
    listen: { max_connections: plan.streams + plan.idle + plan.slowloris + 500 },
    upstreams: [
      { name: "fast", base_url: fastUrl, supports_openai: true, supports_anthropic: true },
      {
        name: "hostile",
        base_url: hostileUrl,
        timeout_seconds: 10,
        max_duration_seconds: HOSTILE_DEADLINE_SECONDS,
        max_response_bytes: 8 * 1024 * 1024,
        max_event_bytes: 1024 * 1024,
      },
    ],
    model_upstream_binding: { "hostile-*": "hostile", "*": "fast" },
    logging: { debug: false },
  };
}

async function streamWorker(
  base: string,
  index: number,
  plan: SoakPlan,
  report: SoakReport,
  stop: AbortSignal,
): Promise<void> {
  // Arrive one by one over the first ten seconds rather than all at once.
  await sleep((index * 10_000) / plan.streams, stop);
  const path: ApiPath = index % 2 === 0 ? "/v1/chat/completions" : "/v1/messages";
  const marker = new TextEncoder().encode(endMarker(path));
  const body = JSON.stringify({
    model: STREAM_MODEL,
    stream: true,
    max_tokens: 256,
    messages: [{ role: "user", content: "soak" }],
  });
  while (!stop.aborted) {
    try {
      const response = await send({ url: base + path, body }, AbortSignal.timeout(60_000));
      if (!response.ok || !response.body) {
        fail(report, `status ${response.status}: ${(await response.text()).slice(0, 200)}`);
        continue;
      }
      const end = await readEventStream(response.body, { endMarker: marker });
      if (end.complete) report.streams.completed++;
      else fail(report, `stream ended without ${endMarker(path)}: …${new TextDecoder().decode(end.tail)}`);
    } catch (error) {
      fail(report, describe(error));
      await sleep(100, stop);
    }
  }
}

function fail(report: SoakReport, description: string): void {
  report.streams.failed++;
  report.streams.firstFailure ??= description;
}

async function hostileWorker(base: string, model: string, report: SoakReport, stop: AbortSignal): Promise<void> {
  const figures = report.hostile[model];
  const stream = model !== "hostile-gzip-bomb" && model !== "hostile-garbage";
  const body = JSON.stringify({ model, stream, messages: [{ role: "user", content: "soak" }] });
  while (!stop.aborted) {
    try {
      const response = await send(
        { url: `${base}/v1/chat/completions`, body },
        AbortSignal.timeout(HOSTILE_LIMIT_MS),
      );
      await response.body?.pipeTo(new WritableStream());
      figures.statuses[response.status] = (figures.statuses[response.status] ?? 0) + 1;
      figures.ended++;
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") figures.hung++;
      else figures.ended++;
    }
    await sleep(200, stop);
  }
}

/**
 * Keeps one connection open to the proxy: silent, or trickling a request's headers. When the proxy closes it, that
 * is counted and a new one is opened, until `stop`.
 */
async function silentConnection(
  target: { hostname: string; port: number },
  figures: { opened: number; closedByProxy: number },
  stop: AbortSignal,
  trickle: boolean,
): Promise<void> {
  const request = new TextEncoder().encode("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: ");
  while (!stop.aborted) {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect(target);
    } catch {
      await sleep(500, stop);
      continue;
    }
    figures.opened++;
    const closed = conn.read(new Uint8Array(1024)).then(() => true, () => true);
    let sent = 0;
    const onStop = () => conn.close();
    stop.addEventListener("abort", onStop, { once: true });
    try {
      while (!stop.aborted) {
        const outcome = await Promise.race([closed, sleep(SLOWLORIS_GAP_MS, stop).then(() => false)]);
        if (outcome === true) {
          if (!stop.aborted) figures.closedByProxy++;
          break;
        }
        if (trickle) {
          const at = sent++ % request.length;
          await conn.write(request.subarray(at, at + 1));
        }
      }
    } catch {
      if (!stop.aborted) figures.closedByProxy++;
    } finally {
      stop.removeEventListener("abort", onStop);
      try {
        conn.close();
      } catch {
        // Already closed by the stop listener.
      }
    }
  }
}

async function healthProbe(base: string, samples: number[], report: SoakReport, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    const started = performance.now();
    try {
      const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      if (response.ok) samples.push(performance.now() - started);
      else report.healthFailures++;
    } catch {
      report.healthFailures++;
    }
    await sleep(HEALTH_EVERY_MS, stop);
  }
}

async function memoryWatch(proxy: ChildServer, report: SoakReport, stop: AbortSignal): Promise<void> {
  while (!stop.aborted && !proxy.exited) {
    const memory = await processMemory(proxy.pid);
    if (memory) report.peakRssMb = Math.max(report.peakRssMb, memory.peakRssMb);
    await sleep(1000, stop);
  }
}

/** Slots in use and requests waiting, summed over every pool of the health document. */
async function slotsHeld(base: string): Promise<{ inUse: number; waiting: number } | undefined> {
  try {
    const health = await (await fetch(`${base}/health`)).json();
    const pools = Object.values(health?.concurrency?.models ?? {}) as { inUse?: number; waiting?: number }[];
    if (health?.concurrency?.global) pools.push(health.concurrency.global);
    let inUse = 0;
    let waiting = 0;
    for (const pool of pools) {
      inUse += pool.inUse ?? 0;
      waiting += pool.waiting ?? 0;
    }
    return { inUse, waiting };
  } catch {
    return undefined;
  }
}

/** The run's failed targets, as sentences; empty when it passed. */
export function soakProblems(report: SoakReport): string[] {
  const problems: string[] = [];
  if (report.proxyExited) problems.push("the proxy exited during the run");
  if (report.streams.failed > 0) {
    problems.push(`${report.streams.failed} fast streams failed (first: ${report.streams.firstFailure})`);
  }
  for (const [model, figures] of Object.entries(report.hostile)) {
    if (figures.hung > 0) problems.push(`${figures.hung} ${model} requests hung past ${HOSTILE_LIMIT_MS / 1000} s`);
    if (figures.ended === 0) problems.push(`no ${model} request ended`);
  }
  if (!(report.healthMs.p99 <= HEALTH_P99_TARGET_MS)) {
    problems.push(`/health p99 ${report.healthMs.p99.toFixed(1)} ms is over ${HEALTH_P99_TARGET_MS} ms`);
  }
  if (report.healthFailures > 0) problems.push(`${report.healthFailures} /health calls failed`);
  if (report.peakRssMb > RSS_TARGET_MB) {
    problems.push(`peak RSS ${report.peakRssMb.toFixed(0)} MB is over ${RSS_TARGET_MB} MB`);
  }
  if (report.leaked === undefined) problems.push("the slots could not be read after the run");
  else if (report.leaked.inUse > 0 || report.leaked.waiting > 0) {
    problems.push(`slots leaked: ${report.leaked.inUse} in use, ${report.leaked.waiting} waiting after the run`);
  }
  return problems;
}

/** The soak report as text. */
export function formatSoakReport(report: SoakReport): string {
  const { plan } = report;
  const lines = [
    `Soak: ${plan.durationMs / 1000} s, ${plan.streams} streams, ${plan.idle} idle connections, ` +
    `${plan.slowloris} slowloris connections, ${HOSTILE_MODELS.length} hostile workers`,
    `  fast streams: ${report.streams.completed} completed, ${report.streams.failed} failed`,
    `  idle connections: ${report.idle.opened} opened, ${report.idle.closedByProxy} closed by the proxy`,
    `  slowloris connections: ${report.slowloris.opened} opened, ${report.slowloris.closedByProxy} closed by the proxy`,
    ...Object.entries(report.hostile).map(([model, f]) =>
      `  ${model}: ${f.ended} ended (${
        Object.entries(f.statuses).map(([s, n]) => `${n}× ${s}`).join(", ") || "no response"
      }), ${f.hung} hung`
    ),
    `  /health: p50 ${report.healthMs.p50.toFixed(1)} ms, p99 ${report.healthMs.p99.toFixed(1)} ms ` +
    `over ${report.healthMs.count} calls, ${report.healthFailures} failed`,
    `  proxy peak RSS: ${report.peakRssMb.toFixed(0)} MB`,
    `  after the run: ${
      report.leaked ? `${report.leaked.inUse} slots in use, ${report.leaked.waiting} waiting` : "unknown"
    }`,
    report.problems.length === 0 ? "  PASS" : `  FAIL\n${report.problems.map((p) => `  - ${p}`).join("\n")}`,
  ];
  return lines.join("\n");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
