/**
 * `GET /` and `/health`: what is running, where requests go, and nothing secret.
 *
 * @module
 */

import type { ProxyContext } from "../context.ts";
import { displayUrl } from "../routing/upstream_url.ts";
import { VERSION } from "../version.ts";

/**
 * The health document: version, uptime, upstreams (URLs without credentials), bindings, concurrency and garbage
 * detection figures.
 */
export function healthReport(ctx: ProxyContext): Record<string, unknown> {
  return {
    name: "sampling-proxy",
    status: "ok",
    version: VERSION,
    uptime_seconds: Math.round((performance.now() - ctx.startedAt) / 1000),
    upstreams: ctx.config.upstreams.map((u) => ({
      name: u.name,
      url: displayUrl(u.baseUrl),
      protocols: [...(u.supportsOpenAI ? ["openai"] : []), ...(u.supportsAnthropic ? ["anthropic"] : [])],
      own_key: u.apiKey !== undefined,
    })),
    bindings: ctx.config.bindings.map((b) => ({ pattern: b.pattern, upstream: b.upstream })),
    concurrency: ctx.limiter.snapshot(),
    garbage_detection: ctx.garbage.healthReport(),
  };
}

/**
 * Answers the health route: the whole report for an authorized client, else only name, status and version (no
 * upstreams, bindings or figures for a client without a key when client keys are configured).
 */
export function handleHealth(ctx: ProxyContext, authorized: boolean): Response {
  if (authorized) return Response.json(healthReport(ctx));
  return Response.json({ name: "sampling-proxy", status: "ok", version: VERSION });
}
