/**
 * `GET /` and `/health`: what is running, where requests go, and nothing secret.
 *
 * @module
 */

import type { ProxyContext } from "../context.ts";
import { displayUrl } from "../routing/upstream_url.ts";
import { COMMIT, VERSION } from "../version.ts";
import type { UpstreamHealth } from "./upstream_health.ts";

/**
 * The health document: version and commit, uptime, upstreams (URLs without credentials, and what their last probe found),
 * bindings, concurrency and garbage detection figures. `status` is `degraded` while an upstream's last probe got
 * no answer.
 */
export function healthReport(ctx: ProxyContext, probes: UpstreamHealth): Record<string, unknown> {
  const reachability = (name: string) => {
    if (!probes.enabled) return {};
    const probe = probes.result(name);
    return {
      reachable: probe?.reachable ?? null,
      last_error: probe?.lastError ?? null,
      checked_at: probe?.checkedAt ?? null,
    };
  };
  const degraded = ctx.config.upstreams.some((u) => probes.result(u.name)?.reachable === false);
  return {
    name: "sampling-proxy",
    status: degraded ? "degraded" : "ok",
    version: VERSION,
    commit: COMMIT,
    uptime_seconds: Math.round((performance.now() - ctx.startedAt) / 1000),
    upstreams: ctx.config.upstreams.map((u) => ({
      name: u.name,
      url: displayUrl(u.baseUrl),
      protocols: [...(u.supportsOpenAI ? ["openai"] : []), ...(u.supportsAnthropic ? ["anthropic"] : [])],
      own_key: u.apiKey !== undefined,
      ...reachability(u.name),
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
export function handleHealth(ctx: ProxyContext, probes: UpstreamHealth, authorized: boolean): Response {
  const report = healthReport(ctx, probes);
  if (authorized) return Response.json(report);
  return Response.json({ name: report.name, status: report.status, version: report.version });
}
