/**
 * What the benchmark measures, declared as data: the proxy configurations to start and the scenarios to run.
 *
 * A scenario names its kind (whole responses or streams), its concurrency and call count, the call made directly
 * to the upstream and the call made through one of the {@link PROXIES}, and the targets it is checked against.
 * Adding a case (a proxy with concurrency limits, a saturated limit) means adding a proxy entry and a scenario
 * entry; `run.ts` starts only the proxies the selected scenarios use.
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

/** A target: `compare` of the proxy's and the direct figure of `metric` must be below / at least `limit`. */
export interface Target {
  metric: MetricName;
  /** `added`: proxy − direct (for times, in ms); `ratio`: proxy / direct. */
  compare: "added" | "ratio";
  pass: "below" | "at_least";
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
  /** The call made straight to the upstream. */
  direct: Endpoint;
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
    name: "openai non-stream c=64",
    kind: "request",
    concurrency: 64,
    count: { full: 4000, quick: 256 },
    direct: { path: "/v1/chat/completions", body: openAIChat() },
    proxy: { via: "passthrough", path: "/v1/chat/completions", body: openAIChat() },
    targets: [],
  },
  {
    name: "openai stream c=64 paced",
    kind: "stream",
    events: STREAM_EVENTS,
    staggerMs: PACED_STREAM_MS,
    concurrency: STREAMS,
    count: { full: 256, quick: 64 },
    direct: { path: "/v1/chat/completions", body: openAIChat({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }) },
    proxy: {
      via: "passthrough",
      path: "/v1/chat/completions",
      body: openAIChat({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }),
    },
    targets: streamTargets(),
  },
  {
    name: "anthropic stream c=64 paced",
    kind: "stream",
    events: STREAM_EVENTS,
    staggerMs: PACED_STREAM_MS,
    concurrency: STREAMS,
    count: { full: 256, quick: 64 },
    direct: { path: "/v1/messages", body: anthropicMessages({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }) },
    proxy: {
      via: "passthrough",
      path: "/v1/messages",
      body: anthropicMessages({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }),
    },
    targets: streamTargets(),
  },
  {
    // Direct is the OpenAI stream the proxy converts from.
    name: "anthropic→openai converted stream c=64 paced",
    kind: "stream",
    events: STREAM_EVENTS,
    staggerMs: PACED_STREAM_MS,
    concurrency: STREAMS,
    count: { full: 256, quick: 64 },
    direct: { path: "/v1/chat/completions", body: openAIChat({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }) },
    proxy: {
      via: "converted",
      path: "/v1/messages",
      body: anthropicMessages({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }),
    },
    targets: [],
    skipOn: { status: 501, reason: "conversion not available" },
  },
  {
    // The same paced streams, all 64 started in the same instant: the proxy handles the burst's requests one after
    // another on its one thread, so the last waits for the others' set-up (reported, no target).
    name: "openai stream c=64 paced burst",
    kind: "stream",
    events: STREAM_EVENTS,
    concurrency: STREAMS,
    count: { full: 256, quick: 64 },
    direct: { path: "/v1/chat/completions", body: openAIChat({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }) },
    proxy: {
      via: "passthrough",
      path: "/v1/chat/completions",
      body: openAIChat({ events: STREAM_EVENTS, gapMs: PACED_GAP_MS }),
    },
    targets: [],
  },
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

/** The end-of-stream text of the protocol spoken on `path`. */
export function endMarker(path: ApiPath): string {
  return path === "/v1/messages" ? "message_stop" : "[DONE]";
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
