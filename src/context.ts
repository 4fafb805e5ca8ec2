/**
 * Everything one running proxy shares between requests: config, router, sampling policy, limiter, throttle,
 * garbage guard, logger, counters.
 *
 * Created by `App`; no module keeps state of its own, so a reload is a new context.
 *
 * @module
 */

import { ConcurrencyLimiter, type QueueOptions } from "./admission/limiter.ts";
import { Throttle, type ThrottlePauses } from "./admission/throttle.ts";
import type { Config } from "./config/config.ts";
import { configSecrets } from "./config/secrets.ts";
import { createGarbageGuard, type GarbageGuard } from "./guard/garbage_guard.ts";
import type { BodyLimits } from "./http/body.ts";
import { BodyBudget } from "./http/body_budget.ts";
import { ClientAuth } from "./http/client_auth.ts";
import { Lifecycle, type LifecycleSubscriber } from "./observability/lifecycle.ts";
import type { Logger } from "./observability/logger.ts";
import { requestLogLine } from "./observability/request_log.ts";
import { ModelMatcher } from "./policy/model_matcher.ts";
import { acceptsGlobalKey, SamplingPolicy, type SamplingRule, type WireProtocol } from "./policy/sampling.ts";
import { Router } from "./routing/router.ts";
import { Drain } from "./shutdown.ts";

/** Shared state of one proxy instance. */
export interface ProxyContext {
  readonly config: Config;
  readonly router: Router;
  readonly policy: SamplingPolicy;
  readonly limiter: ConcurrencyLimiter;
  readonly throttle: Throttle;
  /** Garbage detection: settings, validator client, counters. */
  readonly garbage: GarbageGuard;
  /**
   * Params for retries after garbage: the model's `models` rule `retry_sampling` over the global one. Like the global
   * sampling defaults, global keys an Anthropic upstream would reject are left out of its bodies.
   */
  retrySampling(model: string, protocol: WireProtocol): Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  /** Request lifecycle events; the request log line is its first subscriber. */
  readonly lifecycle: Lifecycle;
  /** Bounds of request bodies, with the budget of bodies read and parsed at once. */
  readonly bodyLimits: BodyLimits;
  /** Client keys (`auth`). */
  readonly clientAuth: ClientAuth;
  /** The `fetch` used for upstream calls (tests may inject one). */
  readonly fetch: typeof fetch;
  /** `performance.now()` when the proxy started. */
  readonly startedAt: number;
  /** The stop in progress, if any: new and queued requests are refused, streams end after the grace period. */
  readonly drain: Drain;
  /** A new request id, `req-1`, `req-2`, … */
  nextRequestId(): string;
}

/** Options of {@link createContext}. */
export interface ContextOptions {
  logger: Logger;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Lifecycle subscribers after the log line (metrics, traces, tests). @default none */
  subscribers?: readonly LifecycleSubscriber[];
}

/** Builds the shared state for `config`. */
export function createContext(config: Config, options: ContextOptions): ProxyContext {
  let counter = 0;
  // Every log line and failure dump of this proxy masks the configured keys' values.
  const logger = options.logger.withSecrets(configSecrets(config));
  const log = (level: "debug" | "info" | "warn", message: string) => logger.log(level, message);
  const lifecycle = new Lifecycle(logger);
  for (const subscriber of [requestLogLine(logger), ...options.subscribers ?? []]) lifecycle.subscribe(subscriber);
  return {
    config,
    router: new Router(config.upstreams, config.bindings),
    policy: new SamplingPolicy({
      defaultParams: config.sampling.defaultParams,
      modelParams: config.sampling.modelParams,
      forceParams: config.sampling.forceParams,
      onlyAnthropic: config.sampling.onlyAnthropic,
      overrideModelName: config.sampling.overrideModelName ?? null,
      developerToSystem: config.sampling.developerToSystem,
      rules: Object.fromEntries(
        Object.entries(config.sampling.rules).map(([pattern, rule]): [string, SamplingRule] => [pattern, {
          defaults: rule.defaults,
          force: rule.force,
          strip: rule.strip,
          rename: rule.rename,
          maxTokensCap: rule.max_tokens_cap,
        }]),
      ),
    }),
    limiter: new ConcurrencyLimiter({
      limits: config.parallelLimits,
      queue: queueOptions(config.queue),
      queueByModel: Object.fromEntries(
        Object.entries(config.queue.per_model ?? {}).map(([pattern, bounds]) => [pattern, queueOptions(bounds)]),
      ),
      log,
    }),
    throttle: new Throttle({
      enabled: config.throttle.enabled ?? false,
      global: pauses(config.throttle.global),
      perModel: Object.fromEntries(
        Object.entries(config.throttle.per_model ?? {}).map(([pattern, p]) => [pattern, pauses(p)]),
      ),
      timeoutSeconds: config.queue.timeout_seconds,
      log,
    }),
    garbage: createGarbageGuard(config.validation, {
      logging: config.logging,
      logger,
      validator: config.validator,
      fetch: options.fetch,
    }),
    retrySampling: retrySamplingFor(config),
    logger,
    lifecycle,
    bodyLimits: {
      maxBytes: config.listen.maxBodyBytes,
      maxDepth: config.listen.maxJsonDepth,
      maxValues: config.listen.maxJsonElements,
      budget: new BodyBudget({ capacityBytes: config.listen.bodyBudgetBytes, waitMs: config.listen.bodyWaitMs }),
    },
    clientAuth: new ClientAuth(config.auth.keys),
    fetch: options.fetch ?? fetch,
    startedAt: performance.now(),
    drain: new Drain(),
    nextRequestId: () => `req-${++counter}`,
  };
}

/**
 * Per-model retry params, matched like the sampling rules (on the client's model name); the global ones are filtered
 * per protocol like the global sampling defaults, a rule's own are sent as configured.
 */
function retrySamplingFor(
  config: Config,
): (model: string, protocol: WireProtocol) => Readonly<Record<string, unknown>> {
  const configured = config.validation.retry_sampling ?? {};
  const globals = {
    openai: configured,
    anthropic: Object.fromEntries(Object.entries(configured).filter(([key]) => acceptsGlobalKey("anthropic", key))),
  };
  const rules = new ModelMatcher(
    Object.entries(config.sampling.rules).flatMap(([pattern, rule]) =>
      rule.retry_sampling ? [[pattern, rule.retry_sampling] as const] : []
    ),
  );
  return (model, protocol) => {
    const global = globals[protocol];
    const rule = rules.match(model)?.value;
    return rule ? { ...global, ...rule } : global;
  };
}

function queueOptions(bounds: { max_waiting?: number; timeout_seconds?: number }): QueueOptions {
  const out: QueueOptions = {};
  if (bounds.max_waiting !== undefined) out.maxWaiting = bounds.max_waiting;
  if (bounds.timeout_seconds !== undefined) out.timeoutSeconds = bounds.timeout_seconds;
  return out;
}

/** Keeps the difference between an absent key (inherit) and `null` (off). */
function pauses(
  p: { start_pause_seconds?: number | null; end_pause_seconds?: number | null } | undefined,
): ThrottlePauses {
  const out: ThrottlePauses = {};
  if (p?.start_pause_seconds !== undefined) out.startPauseSeconds = p.start_pause_seconds;
  if (p?.end_pause_seconds !== undefined) out.endPauseSeconds = p.end_pause_seconds;
  return out;
}
