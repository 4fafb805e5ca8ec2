/**
 * The exchange the guard tests run: request "req-1" for model "m" on upstream "u", OpenAI on both sides, with
 * debug logging and failure dumps in a folder of the test's.
 *
 * @module
 */

import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import type { LoggingConfig } from "../../src/config/config.ts";
import type { ExchangeOptions } from "../../src/guard/exchange.ts";
import type { GarbageGuard } from "../../src/guard/garbage_guard.ts";

/** Logging with everything on, dumps going to `dumpDir` up to `dumpMaxBytes` each. */
export function debugLogging(dumpDir: string, dumpMaxBytes = 1e6): LoggingConfig {
  return { debug: true, overrides: false, validation: true, dumpDir, dumpMaxBytes };
}

/**
 * Exchange options around `guard` with an empty body, the guard's retry sampling, no retry upstream (`send`
 * rejects) and no end callback; `overrides` win.
 */
export function exchangeOptions(guard: GarbageGuard, overrides: Partial<ExchangeOptions> = {}): ExchangeOptions {
  return {
    guard,
    requestId: "req-1",
    model: "m",
    upstream: "u",
    clientDialect: OPENAI_CHAT,
    upstreamDialect: OPENAI_CHAT,
    converter: undefined,
    body: {},
    retrySampling: guard.settings.retrySampling,
    send: () => Promise.reject(new Error("not used")),
    signal: new AbortController().signal,
    onEnd: () => {},
    ...overrides,
  };
}
