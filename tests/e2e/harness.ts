/**
 * Shared pieces of the end-to-end tests of the policy and admission wiring: the proxy config around one mock
 * upstream, request bodies in both protocols, what the mock received, a gate that holds the mock's answer, and a
 * bounded poll for states that settle asynchronously (a slot is released when the response body ends).
 *
 * @module
 */

import type { MockUpstream } from "../support/mock_upstream.ts";
import { isRecord, type JsonObject } from "../support/json_guards.ts";

/** How long {@linkcode waitUntil} polls by default: a safety net, not a timing assertion. */
const DEFAULT_WAIT_MS = 5_000;

/** Poll interval of {@linkcode waitUntil}. */
const POLL_MS = 10;

/** Options of {@linkcode proxyConfig}. */
export interface ProxyConfigOptions {
  /** Upstream keys, e.g. `{ supports_openai: false }` or short timeouts. */
  upstream?: Record<string, unknown>;
  /** Top-level config keys, e.g. `parallel_limits`. */
  config?: Record<string, unknown>;
}

/**
 * A proxy config with one upstream `mock` (speaking both protocols unless `upstream` says otherwise) that every
 * model is bound to, with debug logs on.
 */
export function proxyConfig(mock: MockUpstream, options: ProxyConfigOptions = {}): Record<string, unknown> {
  return {
    upstreams: [{ name: "mock", base_url: mock.url, supports_anthropic: true, ...options.upstream }],
    logging: { enable_debug_logs: true },
    ...options.config,
  };
}

/** An OpenAI chat request for `model` with `extra` keys; `tag` marks it so the mock's record can be told apart. */
export function chatBody(model: string, extra: JsonObject = {}, tag = "Hello"): JsonObject {
  return { model, messages: [{ role: "user", content: tag }], ...extra };
}

/** An Anthropic messages request for `model` with `extra` keys; `tag` as in {@linkcode chatBody}. */
export function messagesBody(model: string, extra: JsonObject = {}, tag = "Hello"): JsonObject {
  return { model, max_tokens: 256, messages: [{ role: "user", content: tag }], ...extra };
}

/** The JSON body of the mock's request `index`; fails when there is none or it is not an object. */
export function upstreamJson(mock: MockUpstream, index: number): JsonObject {
  const json = mock.requests[index]?.json;
  if (!isRecord(json)) throw new Error(`Mock request ${index} has no JSON object body`);
  return json;
}

/** The text of the first user message of a recorded body in either protocol (the request's tag). */
export function tagOf(json: unknown): string {
  if (!isRecord(json) || !Array.isArray(json.messages)) return "";
  const content: unknown = isRecord(json.messages[0]) ? json.messages[0].content : undefined;
  if (typeof content === "string") return content;
  const first: unknown = Array.isArray(content) ? content[0] : undefined;
  return isRecord(first) && typeof first.text === "string" ? first.text : "";
}

/** Polls `ready` until it returns true; rejects naming `what` after `timeoutMs` (a safety net). */
export async function waitUntil(
  ready: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * A gate a mock scenario can await: the mock holds its answer (before headers) until `open` is called. Disposing
 * opens it, so declare it with `using` after the mock: the mock's shutdown waits for held answers.
 */
export interface Gate extends Disposable {
  /** Resolves once the gate is open. */
  readonly opened: Promise<void>;
  /** Opens the gate; later calls do nothing. */
  open(): void;
}

/** Creates a closed {@linkcode Gate}. */
export function createGate(): Gate {
  const { promise, resolve } = Promise.withResolvers<void>();
  const open = () => resolve();
  return { opened: promise, open, [Symbol.dispose]: open };
}

/**
 * Makes `mock` hold the answer to the request tagged `tag` until the returned gate opens (every other request is
 * answered at once). Declare it with `using` after the mock, like {@link createGate}.
 */
export function holdTagged(mock: MockUpstream, tag: string): Gate {
  const gate = createGate();
  mock.setScenario(async (request) => {
    if (tagOf(request.json) === tag) await gate.opened;
    return { text: "ok" };
  });
  return gate;
}
