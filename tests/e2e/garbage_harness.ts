/**
 * The rig of the garbage detection end-to-end tests: a mock upstream whose answers change per attempt, the real
 * proxy in front of it with `validation.enabled` and a temporary dump folder, and a fake validator LLM.
 *
 * @module
 */

import { type MockUpstream, type RecordedRequest, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";

/** A sentence a model loops on. */
export const SENTENCE = "I will now check the configuration file again to be sure. ";

/** More than the hold-back window of healthy prose, so part of it reaches the client before a loop starts. */
export const INTRO = "The parser module reads the configuration, validates every section and reports errors with " +
  "their line numbers. The loader then merges the command line flags into the result, applies the defaults and " +
  "freezes the configuration, so that nothing can change it while requests are served by the proxy server. ";

/** Loops lazily and long enough that the mock is still sending when the proxy cuts it (so the abort shows). */
export const ENDLESS = 100_000;

/** The protocols the mock upstream speaks (the proxy's upstream entry says the same). */
export type UpstreamProtocols = "both" | "openai" | "anthropic";

/** Options of {@linkcode withGuardProxy}. */
export interface GuardRigOptions {
  /**
   * The scenario of each attempt in order (a function may wait first, or look at the request); the last one answers
   * every later request.
   */
  attempts: Array<Scenario | ((request: RecordedRequest) => Scenario | Promise<Scenario>)>;
  /** What the upstream speaks. @default "both" (passthrough for both clients) */
  upstream?: UpstreamProtocols;
  /** Keys of the `validation` section besides `enabled: true`. */
  validation?: Record<string, unknown>;
  /** Other top-level config keys, e.g. `parallel_limits`. */
  config?: Record<string, unknown>;
  /** The environment the config is loaded with (for `api_key_env` keys). */
  env?: Record<string, string>;
}

/** What a garbage test works with. */
export interface GuardRig {
  /** The mock upstream. */
  mock: MockUpstream;
  /** The proxy. */
  proxy: TestProxy;
  /** The failure dumps folder (removed afterwards). */
  dumpDir: string;
}

/**
 * Runs `body` with a mock upstream answering `options.attempts` in turn and a proxy with garbage detection on.
 * Everything is closed and the dump folder removed afterwards.
 */
export async function withGuardProxy(options: GuardRigOptions, body: (rig: GuardRig) => Promise<void>): Promise<void> {
  const { attempts, upstream = "both" } = options;
  const dumpDir = await Deno.makeTempDir({ prefix: "garbage_dumps_" });
  try {
    let served = 0;
    await using mock = await startMockUpstream({
      protocols: { openai: upstream !== "anthropic", anthropic: upstream !== "openai" },
      scenario: (request) => {
        const next = attempts[Math.min(served++, attempts.length - 1)];
        return typeof next === "function" ? next(request) : next;
      },
    });
    await using proxy = await startProxy({
      upstreams: [{
        name: "mock",
        base_url: mock.url,
        supports_openai: upstream !== "anthropic",
        supports_anthropic: upstream !== "openai",
      }],
      validation: { enabled: true, ...options.validation },
      logging: { dump_dir: dumpDir, enable_validation_logs: true },
      ...options.config,
    }, options.env);
    await body({ mock, proxy, dumpDir });
  } finally {
    await Deno.remove(dumpDir, { recursive: true });
  }
}

/** The contents of the failure dumps in `dir`. */
export async function readDumps(dir: string): Promise<string[]> {
  const dumps: string[] = [];
  for await (const entry of Deno.readDir(dir)) dumps.push(await Deno.readTextFile(`${dir}/${entry.name}`));
  return dumps;
}

/** How often `unit` occurs in `text`. */
export function occurrences(text: string, unit: string): number {
  return text.split(unit).length - 1;
}

/** How a fake validator answers its `n`-th call (from 0). */
export type ValidatorAnswer = (n: number, released: Promise<void>) => Response | Promise<Response>;

/** A fake validator LLM on port 0. */
export interface FakeValidator extends AsyncDisposable {
  /** Its base URL. */
  readonly url: string;
  /** How many calls it got. */
  readonly calls: number;
  /** The path and headers of each call. */
  readonly requests: ReadonlyArray<{ path: string; headers: Headers }>;
}

/** Starts a fake validator; `released` (given to `answer`) resolves when it closes, so a call can hang until then. */
export function startFakeValidator(answer: ValidatorAnswer): FakeValidator {
  const release = Promise.withResolvers<void>();
  let calls = 0;
  const requests: { path: string; headers: Headers }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    requests.push({ path: new URL(request.url).pathname, headers: request.headers });
    await request.body?.cancel();
    return await answer(calls++, release.promise);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get calls() {
      return calls;
    },
    requests,
    async [Symbol.asyncDispose]() {
      release.resolve();
      await server.shutdown();
    },
  };
}

/** An OpenAI-style validator reply whose content is `verdict` as JSON. */
export function verdictReply(verdict: { is_loop: boolean; confidence: number; issue?: string }): Response {
  const content = JSON.stringify({ issue: "", ...verdict });
  return Response.json({ choices: [{ index: 0, message: { role: "assistant", content } }] });
}
