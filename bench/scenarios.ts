/**
 * What the benchmark measures, declared as data: the proxy configurations to start and the scenarios to run.
 *
 * A scenario names its kind (whole responses or streams), its concurrency and call count, the baseline call (made
 * directly to the upstream, or through another proxy) and the call made through one of the {@link PROXIES}, and
 * the targets it is checked against. A saturation run ({@link SATURATION_RUNS}) is not a ratio: many clients at once
 * against a small concurrency limit, each request's outcome checked. Adding a case means adding a proxy entry and a
 * scenario or saturation entry; `run.ts` starts only the proxies those entries use.
 *
 * @module
 */

import type { MetricName } from "./metrics.ts";

/** What a proxy's config depends on. */
export interface ConfigContext {
  /** The upstream's base URL, e.g. `http://127.0.0.1:PORT`. */
  upstreamUrl: string;
  /** A scratch folder for the proxy's files (failure dumps), removed after the run. */
  scratchDir: string;
}

/** A proxy configuration the benchmark can start. */
export interface ProxySpec {
  /** One line for the report. */
  description: string;
  /** The config file's content. */
  config: (context: ConfigContext) => Record<string, unknown>;
  /** Target: resident memory before any load stays below this many MiB. */
  idleRssBelowMb?: number;
}

/** The concurrency limit of the bench models in the `saturated` proxy. */
const SATURATED_LIMIT = 2;
/** How many requests may wait for a bench model's slot in the `saturated` proxy. */
const SATURATED_MAX_WAITING = 40;
/** The queue timeout of the `saturated` proxy: far longer than its queue takes to drain (about 5 s). */
const SATURATED_QUEUE_TIMEOUT_SECONDS = 30;

/** The proxies, by name. */
export const PROXIES = {
  passthrough: {
    description: "upstream speaks OpenAI and Anthropic: every request is passed through",
    config: (context) => mockUpstreamConfig(context, { supportsAnthropic: true }),
    idleRssBelowMb: 60,
  },
  converted: {
    description: "upstream speaks OpenAI only: Anthropic requests are converted",
    config: (context) => mockUpstreamConfig(context, { supportsAnthropic: false }),
  },
  guarded: {
    description: "passthrough with garbage detection on (local detector, no validator)",
    config: (context) => ({
      ...mockUpstreamConfig(context, { supportsAnthropic: true }),
      validation: { enabled: true },
    }),
  },
  limited: {
    description: "passthrough with limits, queue bounds and throttle configured, none of them ever reached",
    config: (context) => ({
      ...mockUpstreamConfig(context, { supportsAnthropic: true }),
      parallel_limits: { global: 1000, "bench*": 500 },
      queue: { max_waiting: 100, timeout_seconds: 30, per_model: { "other-*": { max_waiting: 4 } } },
      // Pauses for another model only: each bench request resolves its pauses (to none) and never waits.
      throttle: {
        enabled: true,
        per_model: {
          "other-*": { start_pause_seconds: 1, end_pause_seconds: 0.5 },
          "bench*": { start_pause_seconds: null, end_pause_seconds: null },
        },
      },
    }),
  },
  saturated: {
    description: `passthrough with each bench model limited to ${SATURATED_LIMIT} at a time, ` +
      `${SATURATED_MAX_WAITING} waiting, ${SATURATED_QUEUE_TIMEOUT_SECONDS} s queue timeout`,
    config: (context) => ({
      ...mockUpstreamConfig(context, { supportsAnthropic: true }),
      parallel_limits: { "bench*": SATURATED_LIMIT },
      queue: { max_waiting: SATURATED_MAX_WAITING, timeout_seconds: SATURATED_QUEUE_TIMEOUT_SECONDS },
    }),
  },
} satisfies Record<string, ProxySpec>;

/** The name of an entry of {@link PROXIES}. */
export type ProxyName = keyof typeof PROXIES;

/** An API path of the upstream and the proxy; it also tells the protocol. */
export type ApiPath = "/v1/chat/completions" | "/v1/messages";

/** One side of a scenario: the path and the JSON body of its calls. */
export interface Endpoint {
  path: ApiPath;
  body: Record<string, unknown>;
}

/** A target: `compare` of the proxy's and the direct figure of `metric` must be below / at most / at least `limit`. */
export interface Target {
  metric: MetricName;
  /** `added`: proxy − direct (for times, in ms); `ratio`: proxy / direct. */
  compare: "added" | "ratio";
  pass: "below" | "at_most" | "at_least";
  limit: number;
}

/** Fields common to all scenarios. */
interface ScenarioBase {
  /** Unique name, used in the report and the JSON file. */
  name: string;
  /** Calls in flight at once. */
  concurrency: number;
  /** Calls per target per round, in a full and in a `--quick` run. */
  count: { full: number; quick: number };
  /**
   * The baseline call: made straight to the upstream, or through the proxy named by `via` when the scenario
   * measures what one proxy configuration adds to another (reported in the "direct" column all the same).
   */
  direct: Endpoint & { via?: ProxyName };
  /** The call made through the proxy named by `via`. */
  proxy: Endpoint & { via: ProxyName };
  targets: Target[];
  /** A probe answer with this status skips the scenario, giving this reason. */
  skipOn?: { status: number; reason: string };
}

/** A scenario timing whole non-streamed responses. */
export interface RequestScenario extends ScenarioBase {
  kind: "request";
}

/** A scenario timing streams of `events` content deltas each. */
export interface StreamScenario extends ScenarioBase {
  kind: "stream";
  events: number;
  /** Spread the first streams' starts over this many ms (a steady state); absent: all start at once. */
  staggerMs?: number;
}

/** One measured case. */
export type Scenario = RequestScenario | StreamScenario;

const SYSTEM_PROMPT = "You are a concise assistant. Answer in one short sentence.";
const USER_PROMPT = "Name an animal that is quick and brown, and say what it jumps over.";

const STREAM_EVENTS = 200;
/**
 * Pause between two events of a paced stream: 5 ms is 200 events/s per stream, 12,800 events/s over 64 streams,
 * faster than local inference servers generate tokens; the targets are checked at this pace.
 */
const PACED_GAP_MS = 5;
/**
 * A paced stream lasts about this long; steady-state scenarios spread their first starts over it, so that 64
 * streams are in flight and each new one arrives while the others stream (TTFB "at 64 streams").
 */
const PACED_STREAM_MS = STREAM_EVENTS * PACED_GAP_MS;
const STREAMS = 64;

/** The scenarios, in the order they run and are reported. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: "openai non-stream c=1",
    kind: "request",
    concurrency: 1,
    count: { full: 1500, quick: 100 },
    direct: { path: "/v1/chat/completions", body: openAIChat() },
    proxy: { via: "passthrough", path: "/v1/chat/completions", body: openAIChat() },
    targets: [{ metric: "latency_p50", compare: "added", pass: "below", limit: 1 }],
  },
  {
    // The baseline is the plain passthrough proxy, not the upstream: the figure is what limits and a throttle add
    // to proxying when they are configured but never reached.
    name: "openai non-stream c=1 with limits",
    kind: "request",
    concurrency: 1,
    count: { full: 1500, quick: 300 },
    direct: { via: "passthrough", path: "/v1/chat/completions", body: openAIChat() },
    proxy: { via: "limited", path: "/v1/chat/completions", body: openAIChat() },
    targets: [{ metric: "latency_p50", compare: "added", pass: "at_most", limit: 0.2 }],
  },
  {
    // Issue 4: what conversion adds to proxying. Baseline: the same Anthropic request passed through.
    name: "anthropic non-stream c=1 converted",
    kind: "request",
    concurrency: 1,
    count: { full: 1500, quick: 300 },
    direct: { via: "passthrough", path: "/v1/messages", body: anthropicMessages() },
    proxy: { via: "converted", path: "/v1/messages", body: anthropicMessages() },
    targets: [{ metric: "latency_p50", compare: "added", pass: "at_most", limit: 1 }],
  },
  {
    name: "openai non-stream c=64",
    kind: "request",
    concurrency: 64,
    count: { full: 4000, quick: 256 },
    direct: { path: "/v1/chat/completions", body: openAIChat() },
    proxy: { via: "passthrough", path: "/v1/chat/completions", body: openAIChat() },
    targets: [],
  },
  pacedStream({
    name: "openai stream c=64 paced",
    baseline: { path: "/v1/chat/completions" },
    measured: { via: "passthrough", path: "/v1/chat/completions" },
    targets: streamTargets(),
  }),
  pacedStream({
    name: "anthropic stream c=64 paced",
    baseline: { path: "/v1/messages" },
    measured: { via: "passthrough", path: "/v1/messages" },
    targets: streamTargets(),
  }),
  // The baseline is the OpenAI stream the proxy converts from.
  pacedStream({
    name: "anthropic→openai converted stream c=64 paced",
    baseline: { path: "/v1/chat/completions" },
    measured: { via: "converted", path: "/v1/messages" },
    targets: [],
    skipOn: { status: 501, reason: "conversion not available" },
  }),
  // Issue 4: converted streams against passthrough streams of the same Anthropic request.
  pacedStream({
    name: "anthropic stream c=64 paced converted vs passthrough",
    baseline: { via: "passthrough", path: "/v1/messages" },
    measured: { via: "converted", path: "/v1/messages" },
    targets: [{ metric: "events_per_s", compare: "ratio", pass: "at_least", limit: 0.9 }],
  }),
  // Issue 6: garbage detection on against off, no loop present. The first byte (role chunk or message_start) is not
  // held back; the first text is, by up to hold_back_chars.
  ...(["/v1/chat/completions", "/v1/messages"] as const).map((path) =>
    pacedStream({
      name: `${path === "/v1/messages" ? "anthropic" : "openai"} stream c=64 paced guarded vs passthrough`,
      baseline: { via: "passthrough", path },
      measured: { via: "guarded", path },
      targets: [{ metric: "events_per_s", compare: "ratio", pass: "at_least", limit: 0.9 }],
    })
  ),
  // The same paced streams, all 64 started in the same instant: the proxy handles the burst's requests one after
  // another on its one thread, so the last waits for the others' set-up (reported, no target).
  pacedStream({
    name: "openai stream c=64 paced burst",
    baseline: { path: "/v1/chat/completions" },
    measured: { via: "passthrough", path: "/v1/chat/completions" },
    targets: [],
    burst: true,
  }),
  // Capacity: the upstream sends as fast as it can, so the proxy's CPU per event is the limit (no targets).
  {
    name: "openai stream c=64 max rate",
    kind: "stream",
    events: STREAM_EVENTS,
    concurrency: STREAMS,
    count: { full: 512, quick: 64 },
    direct: { path: "/v1/chat/completions", body: openAIChat({ events: STREAM_EVENTS }) },
    proxy: { via: "passthrough", path: "/v1/chat/completions", body: openAIChat({ events: STREAM_EVENTS }) },
    targets: [],
  },
  {
    name: "anthropic stream c=64 max rate",
    kind: "stream",
    events: STREAM_EVENTS,
    concurrency: STREAMS,
    count: { full: 512, quick: 64 },
    direct: { path: "/v1/messages", body: anthropicMessages({ events: STREAM_EVENTS }) },
    proxy: { via: "passthrough", path: "/v1/messages", body: anthropicMessages({ events: STREAM_EVENTS }) },
    targets: [],
  },
  {
    // Direct is the OpenAI stream the proxy converts from: the same upstream work, so the ratio is the cost of
    // proxying plus conversion.
    name: "anthropic→openai converted stream c=64 max rate",
    kind: "stream",
    events: STREAM_EVENTS,
    concurrency: STREAMS,
    count: { full: 512, quick: 64 },
    direct: { path: "/v1/chat/completions", body: openAIChat({ events: STREAM_EVENTS }) },
    proxy: { via: "converted", path: "/v1/messages", body: anthropicMessages({ events: STREAM_EVENTS }) },
    targets: [],
    skipOn: { status: 501, reason: "conversion not available" },
  },
];

/** When a client of a saturation run cancels: on its stream's first chunk, or once every client has been sent. */
export type CancelPoint = "first_chunk" | "all_sent";

/** Which clients of a saturation run cancel their request, and when. */
export interface CancelPlan {
  /** One line saying who cancels and when, for the report. */
  rule: string;
  /** The moment client `index` cancels at; undefined: it does not cancel. */
  when: (index: number) => CancelPoint | undefined;
}

/**
 * A saturation run: `clients` paced streams started `arrivalGapMs` apart (so their arrival order is known) through
 * a proxy whose limit for the model is `limit` with `maxWaiting` places in its queue, each outcome checked.
 */
export interface SaturationRun {
  /** Unique name, used in the report and the JSON file. */
  name: string;
  /** The proxy; its config must set `limit` and `maxWaiting` for `model`. */
  via: ProxyName;
  /** The model every client asks for: one pool of the limiter. */
  model: string;
  /** The streamed call every client makes. */
  call: Endpoint;
  /** Content events per stream and the pause before each: a stream lasts at least `events × gapMs`. */
  events: number;
  gapMs: number;
  /** The model's concurrency limit and queue bound in that proxy. */
  limit: number;
  maxWaiting: number;
  clients: number;
  arrivalGapMs: number;
  /** Absent: no client cancels. */
  cancel?: CancelPlan;
}

/**
 * 40 events 5 ms apart: streams of at least 200 ms, longer than the clients take to start (64 timers of 1 ms fire
 * about 2 ms apart: about 130 ms), so that no slot is freed before the last client has arrived.
 */
const SATURATION_EVENTS = 40;
const SATURATION_GAP_MS = 5;

/** The saturation runs, in the order they run and are reported. */
export const SATURATION_RUNS: readonly SaturationRun[] = [
  saturationRun({ name: "openai stream, 64 clients, limit 2", path: "/v1/chat/completions" }),
  saturationRun({
    name: "anthropic stream, 64 clients, limit 2, half cancel",
    path: "/v1/messages",
    cancel: {
      rule: "clients 1, 5, 9, … cancel on their first chunk; 3, 7, 11, … once all are sent",
      when: (index) => index % 4 === 1 ? "first_chunk" : index % 4 === 3 ? "all_sent" : undefined,
    },
  }),
];

/** The end-of-stream text of the protocol spoken on `path`. */
export function endMarker(path: ApiPath): string {
  return path === "/v1/messages" ? "message_stop" : "[DONE]";
}

/** A saturation run of the `saturated` proxy speaking the protocol of `path`. */
function saturationRun(options: { name: string; path: ApiPath; cancel?: CancelPlan }): SaturationRun {
  const stream = { events: SATURATION_EVENTS, gapMs: SATURATION_GAP_MS };
  return {
    name: options.name,
    via: "saturated",
    model: benchModel(stream.events, stream.gapMs),
    call: {
      path: options.path,
      body: options.path === "/v1/messages" ? anthropicMessages(stream) : openAIChat(stream),
    },
    ...stream,
    limit: SATURATED_LIMIT,
    maxWaiting: SATURATED_MAX_WAITING,
    clients: STREAMS,
    arrivalGapMs: 1,
    ...(options.cancel ? { cancel: options.cancel } : {}),
  };
}

/** What {@link pacedStream} builds a scenario from. */
interface PacedStreamSpec {
  name: string;
  /** The baseline call: straight to the upstream, or through a proxy. */
  baseline: { path: ApiPath; via?: ProxyName };
  /** The measured call, through a proxy. */
  measured: { path: ApiPath; via: ProxyName };
  targets: Target[];
  /** Start all 64 streams in the same instant instead of in a steady state. @default false */
  burst?: boolean;
  skipOn?: { status: number; reason: string };
}

/** A scenario of 64 paced streams (see {@link PACED_GAP_MS}), in a steady state unless `burst`. */
function pacedStream(spec: PacedStreamSpec): StreamScenario {
  const body = (path: ApiPath) =>
    path === "/v1/messages"
      ? anthropicMessages({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS })
      : openAIChat({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS });
  return {
    name: spec.name,
    kind: "stream",
    events: STREAM_EVENTS,
    ...(spec.burst ? {} : { staggerMs: PACED_STREAM_MS }),
    concurrency: STREAMS,
    count: { full: 256, quick: 64 },
    direct: { ...spec.baseline, body: body(spec.baseline.path) },
    proxy: { ...spec.measured, body: body(spec.measured.path) },
    targets: spec.targets,
    ...(spec.skipOn ? { skipOn: spec.skipOn } : {}),
  };
}

function streamTargets(): Target[] {
  return [
    { metric: "ttfb_p50", compare: "added", pass: "below", limit: 5 },
    { metric: "events_per_s", compare: "ratio", pass: "at_least", limit: 0.95 },
  ];
}

function mockUpstreamConfig(context: ConfigContext, options: { supportsAnthropic: boolean }): Record<string, unknown> {
  return {
    upstreams: [{
      name: "mock",
      base_url: `${context.upstreamUrl}/v1`,
      supports_openai: true,
      supports_anthropic: options.supportsAnthropic,
    }],
    model_upstream_binding: { "*": "mock" },
    logging: { dump_dir: context.scratchDir },
  };
}

/** The model name that makes `fast_upstream.ts` stream `events` deltas. */
function benchModel(events: number | undefined, gapMs?: number): string {
  if (events === undefined) return "bench";
  return gapMs ? `bench-ev${events}-gap${gapMs}` : `bench-ev${events}`;
}

/** A small, realistic OpenAI chat request; streamed when `events` is given. */
function openAIChat(options: { events?: number; gapMs?: number } = {}): Record<string, unknown> {
  return {
    model: benchModel(options.events, options.gapMs),
    messages: [{ role: "system", content: SYSTEM_PROMPT }, { role: "user", content: USER_PROMPT }],
    max_tokens: 256,
    temperature: 0.7,
    ...(options.events === undefined ? {} : { stream: true, stream_options: { include_usage: true } }),
  };
}

/** A small, realistic Anthropic messages request; streamed when `events` is given. */
function anthropicMessages(options: { events?: number; gapMs?: number } = {}): Record<string, unknown> {
  return {
    model: benchModel(options.events, options.gapMs),
    system: SYSTEM_PROMPT,
    messages: [{ role: "user", content: USER_PROMPT }],
    max_tokens: 256,
    temperature: 0.7,
    ...(options.events === undefined ? {} : { stream: true }),
  };
}
