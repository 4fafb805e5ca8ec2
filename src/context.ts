/**
 * Everything one running proxy shares between requests: config, router, logger, counters.
 *
 * Created by `App`; no module keeps state of its own, so a reload is a new context.
 *
 * @module
 */

import type { Config } from "./config/config.ts";
import type { Logger } from "./observability/logger.ts";
import { Router } from "./routing/router.ts";

/** Shared state of one proxy instance. */
export interface ProxyContext {
  readonly config: Config;
  readonly router: Router;
  readonly logger: Logger;
  /** The `fetch` used for upstream calls (tests may inject one). */
  readonly fetch: typeof fetch;
  /** `performance.now()` when the proxy started. */
  readonly startedAt: number;
  /** A new request id, `req-1`, `req-2`, … */
  nextRequestId(): string;
}

/** Options of {@link createContext}. */
export interface ContextOptions {
  logger: Logger;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Builds the shared state for `config`. */
export function createContext(config: Config, options: ContextOptions): ProxyContext {
  let counter = 0;
  return {
    config,
    router: new Router(config.upstreams, config.bindings),
    logger: options.logger,
    fetch: options.fetch ?? fetch,
    startedAt: performance.now(),
    nextRequestId: () => `req-${++counter}`,
  };
}
