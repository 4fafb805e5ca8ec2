/**
 * Starts the real proxy handler on port 0 for end-to-end tests, behind the connection gate as `main.ts` serves it.
 *
 * @module
 */

import { App } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { serveGated } from "../../src/http/connection_gate.ts";
import type { LifecycleSubscriber } from "../../src/observability/lifecycle.ts";
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

/** Options of {@linkcode startProxy}. */
export interface StartProxyOptions {
  /** Sees every request the proxy answers, with its response (e.g. to record refusals that reach no upstream). */
  onResponse?: (request: Request, response: Response) => void;
  /** Lifecycle subscribers after the log line. */
  subscribers?: readonly LifecycleSubscriber[];
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
  options: StartProxyOptions = {},
): Promise<TestProxy> {
  const { config: parsed } = parseConfig(JSON.stringify(config), { source: "test", env });
  const logger = memoryLogger();
  const app = new App(parsed, { logger, subscribers: options.subscribers });
  const { listen } = parsed;
  const { onResponse } = options;
  const handler = onResponse === undefined ? app.handler : async (request: Request) => {
    const response = await app.handler(request);
    onResponse(request, response);
    return response;
  };
  const gate = serveGated(handler, {
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: listen.maxConnections,
    headerTimeoutSeconds: listen.headerTimeoutSeconds,
    bodyTimeoutSeconds: listen.bodyTimeoutSeconds,
    keepAliveTimeoutSeconds: listen.keepAliveTimeoutSeconds,
    log: (level, message) => logger.log(level, message),
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.upstreamHealth.stop();
    await gate.close();
  };
  return Promise.resolve({
    url: `http://127.0.0.1:${gate.addr.port}${listen.basePath}`,
    app,
    logs: logger.lines,
    close,
    [Symbol.asyncDispose]: close,
  });
}
