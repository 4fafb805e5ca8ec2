/**
 * The request log line, the lifecycle's first subscriber: one line per generation request when it finishes,
 *
 * ```
 * [req-7] openai model=qwen3 upstream=local mode=passthrough status=200 ttfb=12.3ms duration=840.1ms
 *   input_tokens=1200 output_tokens=80 cache_read_tokens=1024 outcome=complete
 * ```
 *
 * (on one line): `upstream_model` when a rename changed it; token counts when the upstream reported usage (cache
 * and reasoning counts only when not zero); the masked upstream URL when the request failed or the upstream
 * answered ≥ 400; the reason when it did not complete. Warn level when it did not complete or the upstream answered
 * 5xx, 401, 403 or 404 (a wrong `base_url`, key or permission), info otherwise.
 *
 * @module
 */

import { displayUrl } from "../routing/upstream_url.ts";
import type { LifecycleSubscriber, RequestLifecycle } from "./lifecycle.ts";
import type { Logger } from "./logger.ts";
import type { TokenUsage } from "./usage.ts";

/** Statuses logged at warn although the answer was delivered: a wrong base_url, key or permission. */
const NOTICED = new Set([401, 403, 404]);

/** The subscriber that writes each finished generation request's line to `logger`. */
export function requestLogLine(logger: Logger): LifecycleSubscriber {
  return (event, request) => {
    if (event.type !== "finished" || request.kind !== "generation") return;
    const { outcome, detail, durationMs } = event;
    const parts = [
      request.dialect,
      `model=${request.model ?? "-"}`,
      ...(request.upstreamModel && request.upstreamModel !== request.model
        ? [`upstream_model=${request.upstreamModel}`]
        : []),
      `upstream=${request.upstream ?? "-"}`,
      `mode=${modeWord(request)}`,
      `status=${request.status ?? "-"}`,
      `ttfb=${request.firstByteMs === undefined ? "-" : `${request.firstByteMs.toFixed(1)}ms`}`,
      `duration=${durationMs.toFixed(1)}ms`,
      ...(request.usage ? tokenParts(request.usage) : []),
      `outcome=${outcome}`,
    ];
    const failed = outcome !== "complete" || (request.status ?? 0) >= 400;
    if (failed && request.url) parts.push(`url=${displayUrl(request.url)}`);
    if (detail && outcome !== "complete") parts.push(`reason=${JSON.stringify(detail.slice(0, 300))}`);
    const upstreamTrouble = request.status !== undefined && (request.status >= 500 || NOTICED.has(request.status));
    logger.log(outcome !== "complete" || upstreamTrouble ? "warn" : "info", parts.join(" "), request.id);
  };
}

/** The line's word for the mode (`convert`, as the seed logged it). */
function modeWord(request: RequestLifecycle): string {
  if (request.mode === undefined) return "-";
  return request.mode === "converted" ? "convert" : request.mode;
}

/** `input_tokens=… output_tokens=…`, then the cache and reasoning counts that are not zero. */
function tokenParts(usage: TokenUsage): string[] {
  const parts = [`input_tokens=${usage.input}`, `output_tokens=${usage.output}`];
  if (usage.cacheRead > 0) parts.push(`cache_read_tokens=${usage.cacheRead}`);
  if (usage.cacheWrite > 0) parts.push(`cache_write_tokens=${usage.cacheWrite}`);
  if (usage.reasoning > 0) parts.push(`reasoning_tokens=${usage.reasoning}`);
  return parts;
}
