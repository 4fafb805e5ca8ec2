/**
 * `deno task bench`: the proxy against a direct connection to the same upstream (or one proxy configuration
 * against another), in one run, as ratios; then the saturation runs, as checks.
 *
 * 1. Start `fast_upstream.ts` and each proxy the scenarios and saturation runs use (`src/main.ts --port 0 -c <temp
 *    config>`) as child processes, and wait for their listening lines.
 * 2. Read each proxy's idle memory (VmRSS) before any load.
 * 3. Probe each scenario once on both sides; a probe that fails skips the scenario, with the reason.
 * 4. Warm up each side, then run the rounds: in every round each scenario runs its baseline ("direct") then its
 *    proxy side, the order flipping from round to round, so that machine noise hits both sides alike.
 * 5. Run each saturation run once (`saturation.ts`) and check it (`saturation_checks.ts`).
 * 6. Read the proxies' memory after load (VmRSS, VmHWM), stop the children (also on error or Ctrl-C), print the
 *    table, the ratios, the saturation checks and the targets, and write `--json FILE` when asked.
 *
 * It exits 0 whether targets pass or fail (it reports); 1 when the harness itself fails; 2 for a bad flag.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { ChildServer } from "./child_server.ts";
import { FAST_UPSTREAM_LISTENING } from "./fast_upstream.ts";
import { type Call, probe, runRequests, runStreams } from "./load.ts";
import { type MeasuredBatch, summarizeSide } from "./metrics.ts";
import { clockTicksPerSecond, cpuTimeMs, machineInfo, type MemoryReading } from "./proc.ts";
import {
  type BenchReport,
  checkMemoryTarget,
  checkScenarioTargets,
  compareSides,
  formatReport,
  type MemoryReport,
  type SaturationReport,
  type ScenarioReport,
} from "./report.ts";
import { runSaturation } from "./saturation.ts";
import { formatSoakReport, FULL_SOAK, runSoak, type SoakReport } from "./soak.ts";
import { checkSaturation } from "./saturation_checks.ts";
import {
  endMarker,
  PROXIES,
  type ProxyName,
  SATURATION_RUNS,
  type SaturationRun,
  type Scenario,
  SCENARIOS,
} from "./scenarios.ts";

const HELP = `Usage: deno task bench [--quick | --soak [--soak-seconds N]] [--json FILE]

Measures sampling-proxy against a direct connection to a fast mock upstream, alternating the two, then
saturates a small concurrency limit and checks every request's outcome.
  --quick       a short smoke run (about a minute)
  --soak        instead: five minutes of 1,000 streams, 2,000 idle connections, slowloris and hostile
                upstreams at once, checking /health latency, memory and slot leaks (see bench/soak.ts)
  --soak-seconds N  the soak's length (default 300)
  --json FILE   also write the results as JSON to FILE
  -h, --help    print this help`;

/** How long and how hard a run is. */
interface RunPlan {
  mode: "full" | "quick";
  rounds: number;
  /** Longest time one batch may take. */
  batchBudgetMs: number;
}

const PLANS: Record<RunPlan["mode"], RunPlan> = {
  full: { mode: "full", rounds: 5, batchBudgetMs: 20_000 },
  quick: { mode: "quick", rounds: 1, batchBudgetMs: 10_000 },
};
const PROXY_LISTENING = "sampling-proxy listening on ";
const PROBE_TIMEOUT_MS = 10_000;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The base URLs of the upstream and of each started proxy. */
type Bases = { upstream: string } & Partial<Record<ProxyName, string>>;

/** What every batch needs. */
interface BatchContext {
  bases: Bases;
  plan: RunPlan;
  /** The processes whose CPU time is measured: this one, the upstream and the proxies. */
  pids: number[];
  ticksPerSecond: number;
}

/** Runs the benchmark with `args`; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: "boolean" },
        soak: { type: "boolean" },
        "soak-seconds": { type: "string" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return 2;
  }
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  const plan = flags.quick ? PLANS.quick : PLANS.full;
  const children: ChildServer[] = [];
  const tempDir = await Deno.makeTempDir({ prefix: "sampling-proxy-bench-" });
  const cleanUp = async () => {
    await Promise.all(children.map((child) => child.stop()));
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  };
  const onInterrupt = () => {
    cleanUp().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    let report: BenchReport | SoakReport;
    if (flags.soak) {
      const seconds = Number(flags["soak-seconds"] ?? FULL_SOAK.durationMs / 1000);
      if (!(seconds > 0)) {
        console.error(`bench: --soak-seconds must be a positive number: received ${flags["soak-seconds"]}`);
        return 2;
      }
      report = await runSoak({ ...FULL_SOAK, durationMs: seconds * 1000 }, { children, tempDir, cwd: ROOT });
      console.log(formatSoakReport(report));
    } else {
      report = await measure(plan, { children, tempDir });
      console.log(formatReport(report));
    }
    if (flags.json !== undefined) {
      await Deno.writeTextFile(flags.json, JSON.stringify(report, null, 2) + "\n");
      console.log(`\nresults written to ${flags.json}`);
    }
    return 0;
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await cleanUp();
  }
}

/** Steps 1 to 6 of the module doc; every child started is pushed to `children` for the caller to stop. */
async function measure(plan: RunPlan, env: { children: ChildServer[]; tempDir: string }): Promise<BenchReport> {
  const date = new Date().toISOString();
  // (1) Children.
  const upstream = await ChildServer.start({
    name: "fast upstream",
    args: ["run", "--allow-net", "bench/fast_upstream.ts"],
    readyPrefix: FAST_UPSTREAM_LISTENING,
    cwd: ROOT,
  });
  env.children.push(upstream);
  const proxyNames = [
    ...new Set([
      ...SCENARIOS.flatMap((s) => s.direct.via === undefined ? [s.proxy.via] : [s.direct.via, s.proxy.via]),
      ...SATURATION_RUNS.map((run) => run.via),
    ]),
  ];
  const proxies = await startProxies(proxyNames, { upstreamUrl: upstream.url, ...env });
  const bases: Bases = { upstream: upstream.url };
  for (const [name, child] of proxies) bases[name] = child.url;
  const context: BatchContext = {
    bases,
    plan,
    pids: [Deno.pid, ...env.children.map((c) => c.pid)],
    ticksPerSecond: await clockTicksPerSecond(),
  };
  // (2) Idle memory.
  const idle = await readMemory(proxies);
  // (3) Probes.
  const reports = await probeAll(context);
  // (4) Warm-up and rounds.
  const batches = await runRounds(reports, context);
  // (5) Saturation runs.
  const saturation: SaturationReport[] = [];
  for (const run of SATURATION_RUNS) saturation.push(await saturate(run, context));
  // (6) Memory after load, figures, targets.
  const afterLoad = await readMemory(proxies);
  const memory: MemoryReport[] = [...proxies.keys()].map((name) => ({
    proxy: name,
    ...(idle.get(name) ? { idle: idle.get(name) } : {}),
    ...(afterLoad.get(name) ? { afterLoad: afterLoad.get(name) } : {}),
  }));
  for (const [scenario, report] of reports) {
    const sides = batches.get(scenario);
    if (report.skipped !== undefined || !sides) continue;
    if (sides.direct.length === 0 || sides.proxy.length === 0) {
      report.skipped = report.dropped ?? "not measured";
      continue;
    }
    const options = { kind: scenario.kind, ...(scenario.kind === "stream" ? { events: scenario.events } : {}) };
    const direct = summarizeSide(sides.direct, options);
    const proxy = summarizeSide(sides.proxy, options);
    Object.assign(report, { direct, proxy, comparisons: compareSides(scenario.kind, { direct, proxy }) });
  }
  return {
    date,
    mode: plan.mode,
    rounds: plan.rounds,
    machine: await machineInfo(),
    proxies: Object.fromEntries(proxyNames.map((name) => [name, PROXIES[name].description])),
    scenarios: [...reports.values()],
    saturation,
    memory,
    targets: [
      ...[...reports].flatMap(([scenario, report]) => checkScenarioTargets(scenario, report)),
      ...memory.flatMap((m) => checkMemoryTarget(m.proxy, PROXIES[m.proxy], m)),
    ],
    incidents: env.children.filter((c) => c.exited).map((c) =>
      `${c.name} exited during the run; its stderr ends with:\n${c.stderrTail()}`
    ),
  };
}

/** (3) Probes every scenario (all at once, so that hung ones cost one timeout); the reports, in scenario order. */
async function probeAll(context: BatchContext): Promise<Map<Scenario, ScenarioReport>> {
  const probes = await Promise.all(SCENARIOS.map((scenario) => probeScenario(scenario, context.bases)));
  return new Map(SCENARIOS.map((scenario, i) => {
    const skipped = probes[i];
    if (skipped !== undefined) progress(`${scenario.name}: skipped: ${skipped}`);
    return [scenario, {
      name: scenario.name,
      kind: scenario.kind,
      concurrency: scenario.concurrency,
      callsPerRound: callsPerRound(scenario, context.plan),
      via: scenario.proxy.via,
      ...(scenario.direct.via === undefined ? {} : { baselineVia: scenario.direct.via }),
      ...(skipped === undefined ? {} : { skipped }),
    }];
  }));
}

/**
 * (4) Warms up each scenario not skipped, then runs the rounds, flipping the order of the sides every round. A
 * scenario whose batch runs over its budget is dropped from the later batches (noted in its report).
 */
async function runRounds(
  reports: Map<Scenario, ScenarioReport>,
  context: BatchContext,
): Promise<Map<Scenario, { direct: MeasuredBatch[]; proxy: MeasuredBatch[] }>> {
  const { plan } = context;
  const active = [...reports].filter(([, report]) => report.skipped === undefined).map(([scenario]) => scenario);
  const batches = new Map(active.map((s) => [s, { direct: [] as MeasuredBatch[], proxy: [] as MeasuredBatch[] }]));
  /** Runs one batch; false when it ran over budget and the scenario was dropped. */
  const run = async (scenario: Scenario, side: "direct" | "proxy", options: { count: number; warmup: boolean }) => {
    const result = await runSide(scenario, side, { ...context, count: options.count });
    if (!options.warmup) batches.get(scenario)?.[side].push(result);
    const report = reports.get(scenario);
    if (!result.overBudget || !report) return true;
    active.splice(active.indexOf(scenario), 1);
    const batch = options.warmup ? `${side} warm-up` : side;
    report.dropped = `the ${batch} batch ran over its ${plan.batchBudgetMs} ms budget; later batches not run`;
    progress(`${scenario.name}: dropped: ${report.dropped}`);
    return false;
  };
  for (const scenario of [...active]) {
    const count = callsPerRound(scenario, plan);
    const warmup = Math.min(count, Math.max(scenario.concurrency, Math.ceil(count / 4)));
    for (const side of ["direct", "proxy"] as const) {
      if (!await run(scenario, side, { count: warmup, warmup: true })) break;
    }
  }
  for (let round = 0; round < plan.rounds; round++) {
    const order = round % 2 === 0 ? (["direct", "proxy"] as const) : (["proxy", "direct"] as const);
    for (const scenario of [...active]) {
      for (const side of order) {
        if (!await run(scenario, side, { count: callsPerRound(scenario, plan), warmup: false })) break;
      }
    }
    progress(`round ${round + 1}/${plan.rounds} done`);
  }
  return batches;
}

/** (5) Runs and checks one saturation run; a run that cannot be made is reported as skipped. */
async function saturate(run: SaturationRun, context: BatchContext): Promise<SaturationReport> {
  const report: SaturationReport = {
    name: run.name,
    via: run.via,
    model: run.model,
    clients: run.clients,
    arrivalGapMs: run.arrivalGapMs,
    limit: run.limit,
    maxWaiting: run.maxWaiting,
    events: run.events,
    gapMs: run.gapMs,
    ...(run.cancel ? { cancelRule: run.cancel.rule } : {}),
    checks: [],
  };
  const proxyUrl = context.bases[run.via];
  if (proxyUrl === undefined) throw new Error(`Proxy "${run.via}" was not started`);
  try {
    const result = await runSaturation(run, {
      proxyUrl,
      upstreamUrl: context.bases.upstream,
      budgetMs: context.plan.batchBudgetMs,
    });
    Object.assign(report, { result, checks: checkSaturation(run, result) });
  } catch (error) {
    report.skipped = error instanceof Error ? error.message : String(error);
  }
  const failed = report.checks.filter((check) => !check.pass).length;
  progress(
    `${run.name}: ${
      report.skipped ? `skipped: ${report.skipped}` : `${failed} of ${report.checks.length} checks failed`
    }`,
  );
  return report;
}

/** Each proxy's memory now. */
async function readMemory(proxies: Map<ProxyName, ChildServer>): Promise<Map<ProxyName, MemoryReading | undefined>> {
  return new Map(await Promise.all([...proxies].map(async ([name, child]) => [name, await child.memory()] as const)));
}

/** Writes a config file for each proxy and starts them all; all that started are pushed to `children`. */
async function startProxies(
  names: ProxyName[],
  env: { upstreamUrl: string; tempDir: string; children: ChildServer[] },
): Promise<Map<ProxyName, ChildServer>> {
  const started = await Promise.allSettled(names.map(async (name) => {
    const configPath = join(env.tempDir, `${name}.json`);
    const config = PROXIES[name].config({ upstreamUrl: env.upstreamUrl, scratchDir: join(env.tempDir, name) });
    await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));
    const child = await ChildServer.start({
      name: `proxy "${name}"`,
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        // Garbage dumps go to the proxy's scratch folder, which start checks it may write.
        `--allow-write=${env.tempDir}`,
        "src/main.ts",
        "--port",
        "0",
        "-c",
        configPath,
      ],
      readyPrefix: PROXY_LISTENING,
      cwd: ROOT,
    });
    env.children.push(child);
    return [name, child] as const;
  }));
  const failure = started.find((s) => s.status === "rejected");
  if (failure) throw failure.reason;
  return new Map(started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []));
}

/** (3) One call on each side; the reason to skip the scenario, or undefined when both answered 2xx. */
async function probeScenario(scenario: Scenario, bases: Bases): Promise<string | undefined> {
  for (const side of ["direct", "proxy"] as const) {
    let answer;
    try {
      answer = await probe(callOf(scenario, side, bases), PROBE_TIMEOUT_MS);
    } catch (error) {
      const detail = error instanceof DOMException && error.name === "TimeoutError"
        ? `no complete answer within ${PROBE_TIMEOUT_MS} ms`
        : error instanceof Error
        ? error.message
        : String(error);
      return `${side} probe failed: ${detail}`;
    }
    if (side === "proxy" && answer.status === scenario.skipOn?.status) return scenario.skipOn.reason;
    if (answer.status < 200 || answer.status >= 300) {
      return `${side} probe answered ${answer.status}: ${answer.excerpt}`;
    }
  }
  return undefined;
}

/** Runs one batch of `scenario` on one side, measuring the CPU time used meanwhile. */
async function runSide(
  scenario: Scenario,
  side: "direct" | "proxy",
  options: BatchContext & { count: number },
): Promise<MeasuredBatch> {
  const call = callOf(scenario, side, options.bases);
  const batch = { concurrency: scenario.concurrency, count: options.count, budgetMs: options.plan.batchBudgetMs };
  const cpuBefore = await cpuTimeMs(options.pids, options.ticksPerSecond);
  const result = scenario.kind === "stream"
    ? await runStreams(call, { ...batch, staggerMs: scenario.staggerMs, endMarker: endMarker(scenario[side].path) })
    : await runRequests(call, batch);
  const cpuAfter = await cpuTimeMs(options.pids, options.ticksPerSecond);
  return cpuBefore === undefined || cpuAfter === undefined ? result : { ...result, cpuMs: cpuAfter - cpuBefore };
}

/** The call of one side of a scenario: the side's base URL and path, and its body as JSON. */
function callOf(scenario: Scenario, side: "direct" | "proxy", bases: Bases): Call {
  const endpoint = scenario[side];
  const via = side === "direct" ? scenario.direct.via : scenario.proxy.via;
  const base = via === undefined ? bases.upstream : bases[via];
  if (base === undefined) throw new Error(`Proxy "${via}" was not started`);
  return { url: base + endpoint.path, body: JSON.stringify(endpoint.body) };
}

function callsPerRound(scenario: Scenario, plan: RunPlan): number {
  return plan.mode === "quick" ? scenario.count.quick : scenario.count.full;
}

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
