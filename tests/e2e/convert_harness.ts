/**
 * The rig of the conversion end-to-end tests: a mock upstream that speaks only one protocol, the real proxy in
 * front of it (configured to convert), and a `fetch` for the official SDKs that keeps a copy of every response body,
 * so each converted stream an SDK consumed can also be checked against the protocol's grammar.
 *
 * @module
 */

import { type MockUpstream, type ScenarioFn, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";
import { parseSseText, type SseEvent } from "../support/sse.ts";

/** The protocol the mock upstream speaks; it answers 404 on the other one's routes. */
export type UpstreamProtocol = "openai" | "anthropic";

/** Options of {@linkcode withConvertingProxy}. */
export interface ConvertingSetup {
  /** The only protocol the mock upstream (and the proxy's upstream entry) speaks. */
  upstream: UpstreamProtocol;
  /** How the mock answers. @default a short text reply */
  scenario?: ScenarioFn;
  /** Whether the mock serves llama.cpp's `/tokenize`. @default false */
  tokenize?: boolean;
  /** Extra keys of the proxy's upstream entry, e.g. `timeout_seconds` or `reasoning_style`. */
  upstreamConfig?: Record<string, unknown>;
  /** Top-level keys of the proxy's config, e.g. `validation`. */
  config?: Record<string, unknown>;
}

/** A response body fetched through {@linkcode ConvertingRig.fetch}. */
export interface RecordedBody {
  /** The HTTP status. */
  status: number;
  /** The whole body text. */
  text: string;
  /** The body parsed as server-sent events. */
  events: SseEvent[];
}

/** What a conversion test works with. */
export interface ConvertingRig {
  /** The mock upstream. */
  mock: MockUpstream;
  /** The proxy in front of it. */
  proxy: TestProxy;
  /** A `fetch` for SDK clients: it reads each body whole, records it, and hands the SDK an identical response. */
  fetch: typeof fetch;
  /** The bodies fetched with {@linkcode ConvertingRig.fetch}, in order. */
  bodies: RecordedBody[];
}

/** Builds a fetch that records every response body before the caller reads it. */
function recordingFetch(bodies: RecordedBody[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const text = await response.text();
    bodies.push({ status: response.status, text, events: parseSseText(text) });
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * Runs `body` against a proxy whose mock upstream speaks only `setup.upstream`, as the proxy's single upstream entry
 * says: a client of the other protocol is converted, one of the same protocol passed through. Both servers are
 * closed afterwards.
 *
 * @example
 * ```ts
 * await withConvertingProxy({ upstream: "openai", scenario: () => ({ text: "Hi" }) }, async ({ proxy, mock }) => {
 *   const client = new Anthropic({ baseURL: proxy.url, apiKey: "k", maxRetries: 0 });
 *   await client.messages.create({ model: "m", max_tokens: 64, messages: [{ role: "user", content: "Hello" }] });
 *   assert.equal(mock.requests[0].path, "/v1/chat/completions");
 * });
 * ```
 */
export async function withConvertingProxy(
  setup: ConvertingSetup,
  body: (rig: ConvertingRig) => Promise<void>,
): Promise<void> {
  const openai = setup.upstream === "openai";
  await using mock = await startMockUpstream({
    protocols: { openai, anthropic: !openai },
    tokenize: setup.tokenize ?? false,
    scenario: setup.scenario,
  });
  await using proxy = await startProxy({
    upstreams: [{
      name: "mock",
      base_url: mock.url,
      supports_openai: openai,
      supports_anthropic: !openai,
      ...setup.upstreamConfig,
    }],
    ...setup.config,
  });
  const bodies: RecordedBody[] = [];
  await body({ mock, proxy, fetch: recordingFetch(bodies), bodies });
}

/** The recorded body at `index`, failing clearly when the SDK never fetched it. */
export function recordedBody(rig: ConvertingRig, index: number): RecordedBody {
  const recorded = rig.bodies[index];
  if (recorded === undefined) throw new Error(`No response body ${index} was recorded (${rig.bodies.length} so far)`);
  return recorded;
}

/** The JSON body the mock upstream received in request `index`, as an object. */
export function upstreamJson(rig: ConvertingRig, index: number): Record<string, unknown> {
  const json = rig.mock.requests[index]?.json;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`Upstream request ${index} has no JSON object body`);
  }
  return json as Record<string, unknown>;
}
