/**
 * Upstream probes: each upstream's models endpoint is asked at start and then every `health_check.interval_seconds`,
 * so `/health` and `--check` say which upstreams answer (and why not) before a client finds out.
 *
 * A probe is one short GET through the context's upstream client (`upstream/client.ts`: credentials, extra
 * headers, timeouts capped by the probe's, redaction). One round runs at a time; the next is scheduled when it ends, and {@link UpstreamHealth.stop} clears the
 * timer and aborts a round in flight.
 *
 * @module
 */

import type { UpstreamConfig } from "../config/config.ts";
import type { ProxyContext } from "../context.ts";
import { displayUrl } from "../routing/upstream_url.ts";

/** What the last probe of one upstream found. */
export interface ProbeResult {
  /** The upstream's name. */
  readonly upstream: string;
  /** The URL probed, credentials and query keys masked. */
  readonly url: string;
  /** It answered, with a status below 500. */
  readonly reachable: boolean;
  /** The HTTP status, or null when nothing came back. */
  readonly status: number | null;
  /** Why the probe failed (no answer, or a status other than 2xx); null when it answered 2xx. */
  readonly lastError: string | null;
  /** When the probe ended (ISO 8601). */
  readonly checkedAt: string;
}

/** Probes `upstream`'s models endpoint once, within `timeoutMs`; never throws. */
export async function probeUpstream(
  ctx: ProxyContext,
  upstream: UpstreamConfig,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<ProbeResult> {
  const client = ctx.upstreamClient;
  const plan = { endpoint: "models", method: "GET", deadlineMs: options.timeoutMs } as const;
  const url = displayUrl(client.url(upstream, plan));
  const result = (status: number | null, lastError: string | null): ProbeResult => ({
    upstream: upstream.name,
    url,
    reachable: status !== null && status < 500,
    status,
    lastError,
    checkedAt: new Date().toISOString(),
  });
  try {
    const response = await client.prepare(upstream, plan).send(null, options.signal);
    await response.reader()?.cancel();
    const { status } = response;
    if (status >= 200 && status < 300) return result(status, null);
    const hint = status === 404 ? ": is base_url the upstream's API root?" : "";
    return result(status, `GET ${url} answered ${status}${hint}`);
  } catch (error) {
    return result(null, client.failureReason(error));
  }
}

/** Options of {@link UpstreamHealth}. */
export interface UpstreamHealthOptions {
  /** Time between two rounds; 0 disables {@link UpstreamHealth.start}. */
  intervalMs: number;
  /** Longest wait for one probe. */
  timeoutMs: number;
}

/** The latest probe of every upstream, refreshed periodically once started. */
export class UpstreamHealth {
  #ctx: ProxyContext;
  #options: UpstreamHealthOptions;
  #results = new Map<string, ProbeResult>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = new AbortController();
  #round: Promise<readonly ProbeResult[]> | undefined;

  constructor(ctx: ProxyContext, options: UpstreamHealthOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Whether probes run (a non-zero interval). */
  get enabled(): boolean {
    return this.#options.intervalMs > 0;
  }

  /** The last probe of `name`, if one ended. */
  result(name: string): ProbeResult | undefined {
    return this.#results.get(name);
  }

  /** Probes every upstream now, concurrently; logs each change of reachability. */
  probeAll(): Promise<readonly ProbeResult[]> {
    this.#round ??= Promise.all(
      this.#ctx.config.upstreams.map((u) =>
        probeUpstream(this.#ctx, u, { timeoutMs: this.#options.timeoutMs, signal: this.#stopped.signal })
      ),
    ).then((results) => {
      for (const result of results) this.#record(result);
      return results;
    }).finally(() => this.#round = undefined);
    return this.#round;
  }

  /** Starts the rounds: one now, then one every interval after the previous ended. Does nothing when disabled. */
  start(): void {
    if (!this.enabled || this.#stopped.signal.aborted || this.#timer !== undefined) return;
    const round = () => {
      this.probeAll().then(() => {
        if (!this.#stopped.signal.aborted) this.#timer = setTimeout(round, this.#options.intervalMs);
      });
    };
    this.#timer = setTimeout(round, 0);
  }

  /** Stops the rounds and aborts one in flight; resolves when it has ended. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    clearTimeout(this.#timer);
    await this.#round;
  }

  #record(result: ProbeResult): void {
    if (this.#stopped.signal.aborted) return;
    const before = this.#results.get(result.upstream);
    this.#results.set(result.upstream, result);
    if (before?.lastError === result.lastError) return;
    const { logger } = this.#ctx;
    if (result.lastError === null) logger.log("info", `Upstream "${result.upstream}" answers at ${result.url}`);
    else logger.log("warn", `Upstream "${result.upstream}" probe failed: ${result.lastError} (${result.url})`);
  }
}
