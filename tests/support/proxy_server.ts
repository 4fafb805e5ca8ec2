/**
 * Starts the real proxy handler on `Deno.serve` port 0 for end-to-end tests.
 *
 * @module
 */

import { App } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { memoryLogger } from "../../src/observability/logger.ts";

/** A running proxy for one test. */
export interface TestProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` plus the base path. */
  readonly url: string;
  /** The app behind it. */
  readonly app: App;
  /** Log lines written so far. */
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * Starts a proxy configured by `config` (the config file's JSON shape).
 *
 * @example
 * ```ts
 * await using proxy = await startProxy({ upstreams: [{ name: "m", base_url: mock.url }] });
 * ```
 */
export function startProxy(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<TestProxy> {
  const { config: parsed } = parseConfig(JSON.stringify(config), { source: "test", env });
  const logger = memoryLogger();
  const app = new App(parsed, { logger });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.handler);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.upstreamHealth.stop();
    await server.shutdown();
  };
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}${parsed.listen.basePath}`,
    app,
    logs: logger.lines,
    close,
    [Symbol.asyncDispose]: close,
  });
}
