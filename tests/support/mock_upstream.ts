/**
 * An in-process mock LLM upstream for end-to-end tests: a `Deno.serve` server on 127.0.0.1 port 0 that speaks the
 * OpenAI and Anthropic protocols under `/v1` like llama.cpp, vLLM or the real APIs, records every request, and
 * answers each one as a declarative {@linkcode Scenario} says (text, reasoning, tool calls, upstream quirks, errors,
 * delays, hangs, dropped connections, loops, raw bytes).
 *
 * @example
 * ```ts
 * await using mock = await startMockUpstream({ scenario: () => ({ text: "Hi there" }) });
 * const response = await fetch(`${mock.url}/chat/completions`, {
 *   method: "POST",
 *   body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "Hello" }] }),
 * });
 * const summary = assertValidOpenAIStream(await readSse(response));
 * assert.equal(summary.text, "Hi there");
 * assert.equal(mock.requests[0].path, "/v1/chat/completions");
 * ```
 *
 * @module
 */

import { tryParseJson } from "./json_guards.ts";
import { scriptedBody } from "./mock_body.ts";
import { openAIErrorBody } from "./mock_openai.ts";
import { DEFAULT_MODEL, planReply } from "./mock_reply_plan.ts";
import { errorReply, type MockRoute, type RouteReply, routeTable } from "./mock_routes.ts";
import type { RecordedRequest, Scenario, ScenarioFn } from "./mock_scenario.ts";
import { pause } from "./pause.ts";

export type { RecordedRequest, Scenario, ScenarioFn, ScenarioToolCall, ScenarioUsage } from "./mock_scenario.ts";

/** How long the wait helpers wait by default: a safety net, not a timing assertion. */
const DEFAULT_WAIT_MS = 5_000;

/** Options of {@linkcode startMockUpstream}. */
export interface MockUpstreamOptions {
  /** Model ids listed by `GET /v1/models`. @default ["mock-model"] */
  models?: string[];
  /** Which generation protocols the server speaks; the other's routes answer 404. @default both */
  protocols?: { openai?: boolean; anthropic?: boolean };
  /** Serve llama.cpp's `POST /tokenize` (at the root, not under `/v1`, as llama-server does). @default false */
  tokenize?: boolean;
  /** Serve SGLang's native `POST /generate` (at the root, as SGLang does). @default false */
  sglang?: boolean;
  /** Chooses how to answer each request. @default a short text reply */
  scenario?: ScenarioFn;
}

/** A running mock upstream. `await using` closes it. */
export interface MockUpstream extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` (the base URL for the Anthropic SDK). */
  readonly origin: string;
  /** `origin + "/v1"` (the base URL for the OpenAI SDK and OpenAI-style upstream config). */
  readonly url: string;
  /** Every request received so far, in arrival order, unknown routes included. */
  readonly requests: readonly RecordedRequest[];
  /** Replaces the scenario function for the requests that arrive from now on. */
  setScenario(scenario: ScenarioFn): void;
  /** Resolves once at least `count` requests have arrived; rejects after `timeoutMs` (default 5000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once request `index` has arrived and its client went away mid-request or mid-response. */
  waitForAbort(index: number, timeoutMs?: number): Promise<void>;
  /** Stops the server, erroring any response still in flight; safe to call more than once. */
  close(): Promise<void>;
}

/** A recorded request as the mock keeps it (only `aborted` ever changes). */
type MutableRecord = { -readonly [Key in keyof RecordedRequest]: RecordedRequest[Key] };

/** Reads which chunk a scenario hangs after, if any ("before-headers" is handled before the body exists). */
function hangAfterChunks(hang: Scenario["hang"]): number | undefined {
  if (hang === "after-headers") return 0;
  return typeof hang === "object" ? hang.afterChunks : undefined;
}

/** Gives the message of anything thrown. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The mock upstream server. */
class MockUpstreamServer implements MockUpstream {
  readonly origin: string;
  readonly url: string;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #routes: MockRoute[];
  #scenario: ScenarioFn;
  #requests: MutableRecord[] = [];
  #watchers = new Set<() => void>();
  #closing = new AbortController();
  #closed: Promise<void> | undefined;

  constructor(options: MockUpstreamOptions) {
    const { models = [DEFAULT_MODEL], protocols = {}, tokenize = false, sglang = false, scenario = () => ({}) } =
      options;
    this.#routes = routeTable({
      models,
      openai: protocols.openai ?? true,
      anthropic: protocols.anthropic ?? true,
      tokenize,
      sglang,
    });
    this.#scenario = scenario;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.origin = `http://127.0.0.1:${this.#server.addr.port}`;
    this.url = `${this.origin}/v1`;
  }

  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  setScenario(scenario: ScenarioFn): void {
    this.#scenario = scenario;
  }

  waitForRequests(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#waitUntil(() => this.#requests.length >= count, timeoutMs, `${count} requests`);
  }

  waitForAbort(index: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#waitUntil(() => this.#requests[index]?.aborted === true, timeoutMs, `request ${index} to abort`);
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    this.#closing.abort();
    this.#notify();
    await this.#server.shutdown();
  }

  #notify(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  #waitUntil(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = () => {
        if (ready()) finish();
        else if (this.#closing.signal.aborted) finish(new Error(`Mock upstream closed while waiting for ${what}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)),
        timeoutMs,
      );
      this.#watchers.add(check);
      check();
    });
  }

  #markAborted(record: MutableRecord): void {
    if (record.aborted) return;
    record.aborted = true;
    this.#notify();
  }

  async #handle(request: Request): Promise<Response> {
    const { pathname, searchParams } = new URL(request.url);
    const body = await request.text();
    const record: MutableRecord = {
      method: request.method,
      path: pathname,
      query: Object.fromEntries(searchParams),
      headers: Object.fromEntries(request.headers),
      body,
      json: tryParseJson(body),
      aborted: false,
    };
    this.#requests.push(record);
    this.#notify();
    const route = this.#routes.find((candidate) => candidate.method === request.method && candidate.path === pathname);
    if (route === undefined) {
      return Response.json(openAIErrorBody(404, `Route ${request.method} ${pathname} not found`), { status: 404 });
    }
    try {
      return await this.#respond(request, record, route, await this.#scenario(record));
    } catch (error) {
      return Response.json(openAIErrorBody(500, `Mock scenario failed: ${messageOf(error)}`), { status: 500 });
    }
  }

  async #respond(request: Request, record: MutableRecord, route: MockRoute, scenario: Scenario): Promise<Response> {
    const closing = this.#closing.signal;
    if (scenario.delayMs !== undefined || scenario.hang === "before-headers") {
      // Read request.signal only before headers: Deno 2 also aborts it after a successful response (legacy
      // behaviour, with a warning), so after headers the body's cancel callback tells a client disconnect instead.
      const gone = AbortSignal.any([request.signal, closing]);
      if (scenario.delayMs !== undefined) await pause(gone, scenario.delayMs);
      if (scenario.hang === "before-headers") await pause(gone);
      if (closing.aborted) return Response.json(openAIErrorBody(503, "Mock upstream closed"), { status: 503 });
      if (request.signal.aborted) {
        this.#markAborted(record);
        return new Response(null, { status: 499 });
      }
    }
    const reply = this.#reply(route, record, scenario);
    const body = scriptedBody(reply.pieces, {
      chunkDelayMs: scenario.chunkDelayMs,
      hangAfterChunks: hangAfterChunks(scenario.hang),
      dropAfterChunks: scenario.drop?.afterChunks,
      closing,
      onCancel: () => this.#markAborted(record),
    });
    const headers = { "content-type": reply.contentType, ...scenario.headers };
    return new Response(body, { status: scenario.status ?? 200, headers });
  }

  #reply(route: MockRoute, record: MutableRecord, scenario: Scenario): RouteReply {
    const status = scenario.status ?? 200;
    if (status >= 400) return errorReply(route.protocol, status, scenario.errorBody);
    if (scenario.rawSse !== undefined) return { contentType: "text/event-stream", pieces: scenario.rawSse };
    const plan = planReply(scenario, record.json);
    return route.render({ plan, scenario, json: record.json });
  }
}

/**
 * Starts a mock upstream on 127.0.0.1, port 0, without logging. Close it with `close()` or `await using`.
 *
 * @example
 * ```ts
 * await using mock = await startMockUpstream({ protocols: { anthropic: false } });
 * mock.setScenario((request) => request.path === "/v1/models" ? { status: 503 } : { reasoning: "Hmm", text: "Ok" });
 * ```
 */
export function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  return Promise.resolve(new MockUpstreamServer(options));
}
