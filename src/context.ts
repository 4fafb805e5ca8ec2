/**
 * Everything one running proxy shares between requests: config, router, sampling policy, limiter, throttle,
 * garbage guard, logger, counters.
 *
 * Created by `App`; no module keeps state of its own, so a reload is a new context.
 *
 * @module
 */

import { ConcurrencyLimiter } from "./admission/limiter.ts";
import { Throttle } from "./admission/throttle.ts";
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
import { Redactor } from "./observability/redact.ts";
import { acceptsGlobalKey, SamplingPolicy, type WireProtocol } from "./policy/sampling.ts";
import { Router } from "./routing/router.ts";
import { Drain } from "./shutdown.ts";
import { UpstreamClient } from "./upstream/client.ts";

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
  /** Every upstream call goes through it: generation, count_tokens, model lists, probes, the validator. */
  readonly upstreamClient: UpstreamClient;
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
  const secrets = configSecrets(config);
  const logger = options.logger.withSecrets(secrets);
  const upstreamClient = new UpstreamClient({ fetch: options.fetch, redactor: new Redactor(secrets) });
  const log = (level: "debug" | "info" | "warn", message: string) => logger.log(level, message);
  const lifecycle = new Lifecycle(logger);
  for (const subscriber of [requestLogLine(logger), ...options.subscribers ?? []]) lifecycle.subscribe(subscriber);
  return {
    config,
    router: new Router(config.upstreams, config.bindings),
    policy: new SamplingPolicy(config.sampling),
    limiter: new ConcurrencyLimiter({
      limits: config.parallelLimits,
      queue: config.queue,
      queueByModel: config.queue.perModel,
      log,
    }),
    throttle: new Throttle({ ...config.throttle, timeoutSeconds: config.queue.timeoutSeconds, log }),
    garbage: createGarbageGuard(config.validation, {
      logging: config.logging,
      logger,
      validator: config.validator,
      client: upstreamClient,
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
    upstreamClient,
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
  const configured = config.validation.retrySampling;
  const globals = {
    openai: configured,
    anthropic: Object.fromEntries(Object.entries(configured).filter(([key]) => acceptsGlobalKey("anthropic", key))),
  };
  const rules = new ModelMatcher(
    Object.entries(config.sampling.rules).flatMap(([pattern, rule]) =>
      rule.retrySampling ? [[pattern, rule.retrySampling] as const] : []
    ),
  );
  return (model, protocol) => {
    const global = globals[protocol];
    const rule = rules.match(model)?.value;
    return rule ? { ...global, ...rule } : global;
  };
}
