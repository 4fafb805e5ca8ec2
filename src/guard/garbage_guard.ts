/**
 * The garbage guard of one running proxy: its settings (from the `validation` and `logging` config sections), the
 * validator client, the counters, and the handling every incident gets (failure dump, count, log line).
 *
 * Config keys (`validation.*`, seed keys first; the defaults live on the schema, `config/schema.ts`):
 * - `enabled` (false): guard chat completions and messages requests.
 * - `validator_url`, `validator_model` (`qwen-3.5-0.8b`), `validator_api_key_env`, `supports_openai` (true),
 *   `supports_anthropic` (false), `connect_timeout_seconds` (5), `timeout_seconds` (30; the seed's 300 would freeze a
 *   stream that long), `confidence_threshold` (0.85): the validator LLM, asked only about doubtful cases. The config
 *   loader turns these keys into an upstream (`Config.validator`), called like any other.
 * - `max_retries` (3): attempts = 1 + max_retries. `retry_base_delay_seconds` (1), `retry_multiplier` (2): the
 *   seed's backoff, see {@link GarbageGuard.retryDelayMs}.
 * - `mid_stream_validation_enabled` (false), `mid_stream_validation_interval_words` (300): also ask the validator
 *   about the content every N words, in the background.
 * - `local_detection` (true), `validator_enabled` (true), `hold_back_chars` (256), `retry_sampling` ({}): params
 *   merged into retried and continued requests, e.g. `{"presence_penalty": 0.5}`.
 * - `on_exhausted` (`"truncate"`): when no attempt is left, end the answer at the loop start as a length cut
 *   (`length_cut.ts`); `"error"` ends it with an error no client retries (see `exchange.ts`).
 *
 * @module
 */

import type { ExhaustedAction, LoggingConfig, UpstreamConfig, ValidationConfig } from "../config/config.ts";
import type { Logger, LogLevel } from "../observability/logger.ts";
import { writeFailureDump } from "./failure_dump.ts";
import { GuardCounters, type ModelGuardFigures } from "./guard_counters.ts";
import type { UpstreamClient } from "../upstream/client.ts";
import { createValidator, type Validator } from "./validator_client.ts";

/** What ends an answer whose garbage could not be retried away: a length cut, or a non-retryable error. */
export type { ExhaustedAction };

/** The guard's resolved settings. */
export interface GuardSettings {
  /** Guard chat completions and messages requests. */
  readonly enabled: boolean;
  /** Run the local loop detectors. */
  readonly localDetection: boolean;
  /** Characters the detectors hold back behind the end of the text. */
  readonly holdBackChars: number;
  /** Attempts after the first. */
  readonly maxRetries: number;
  /** Backoff base in milliseconds. */
  readonly retryBaseDelayMs: number;
  /** Backoff multiplier. */
  readonly retryMultiplier: number;
  /** Params merged into retried and continued requests. */
  readonly retrySampling: Readonly<Record<string, unknown>>;
  /** How an answer ends when no attempt is left (or what was sent cannot be continued). */
  readonly onExhausted: ExhaustedAction;
  /** Words of content between two background validator checks, or 0 for none. */
  readonly midStreamWords: number;
  /** Silence on a held stream after which a keep-alive is sent, in milliseconds. */
  readonly keepAliveMs: number;
  /** Routine validation lines at info level (else debug). */
  readonly verboseLogs: boolean;
  /** Failure dumps folder. */
  readonly dumpDir: string;
  /** Size budget of the failure dumps folder. */
  readonly dumpMaxBytes: number;
}

/** One garbage incident, as the request path reports it. */
export interface GarbageIncident {
  /** The proxy's request id. */
  requestId: string;
  /** The model the client asked for (counters are kept per model). */
  model: string;
  /** The upstream's name. */
  upstream: string;
  /** The channel that looped (`content`, `reasoning`, `tool`). */
  channel: string;
  /** A short reason for the counters: a detector reason, `repeated-tool-call` or `validator`. */
  reason: string;
  /** The reason in words, for the log line and the dump. */
  description: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** What happens next, e.g. `retrying (attempt 2 of 4)`. */
  outcome: string;
  /** The offending text (its end is dumped). */
  text: string;
  /** More dump lines. */
  details?: Record<string, string | number | boolean>;
}

/** The guard's `/health` section. */
export interface GuardReport {
  /** Whether garbage detection is on. */
  enabled: boolean;
  /** Whether the local detector runs. */
  local_detection: boolean;
  /** Whether a validator LLM is configured. */
  validator: boolean;
  /** Figures per model. */
  models: Record<string, ModelGuardFigures>;
}

/** Options of {@link GarbageGuard}. */
export interface GarbageGuardOptions {
  /** Where incident and validation lines go. */
  logger: Logger;
  /** The validator LLM, when one is configured. */
  validator?: Validator;
}

/** Keep-alives on a held stream: Anthropic's own ping interval is about this, and SDK idle timers are longer. */
const KEEP_ALIVE_MS = 10_000;

/** The settings of the resolved `validation` and `logging` sections. */
export function guardSettings(validation: ValidationConfig, logging: LoggingConfig): GuardSettings {
  return {
    enabled: validation.enabled,
    localDetection: validation.localDetection,
    holdBackChars: validation.holdBackChars,
    maxRetries: validation.maxRetries,
    retryBaseDelayMs: validation.retryBaseDelaySeconds * 1000,
    retryMultiplier: validation.retryMultiplier,
    retrySampling: validation.retrySampling,
    onExhausted: validation.onExhausted,
    midStreamWords: validation.midStreamValidationEnabled ? validation.midStreamValidationIntervalWords : 0,
    keepAliveMs: KEEP_ALIVE_MS,
    verboseLogs: logging.validation,
    dumpDir: logging.dumpDir,
    dumpMaxBytes: logging.dumpMaxBytes,
  };
}

/** Shared guard state of one proxy; see the module documentation. */
export class GarbageGuard {
  /** The resolved settings. */
  readonly settings: GuardSettings;
  /** The validator LLM, when configured. */
  readonly validator: Validator | undefined;
  /** Figures per model. */
  readonly counters: GuardCounters = new GuardCounters();
  #logger: Logger;

  /** Creates the guard from resolved settings. */
  constructor(settings: GuardSettings, options: GarbageGuardOptions) {
    this.settings = settings;
    this.validator = options.validator;
    this.#logger = options.logger;
  }

  /** Total attempts per request: the first plus `max_retries`. */
  get attempts(): number {
    return 1 + this.settings.maxRetries;
  }

  /**
   * Milliseconds to wait before the attempt that follows failed attempt `failed` (from 1), with the seed's
   * semantics: the first retry goes at once, then `retry_base_delay_seconds × retry_multiplier^(failed − 2)`.
   */
  retryDelayMs(failed: number): number {
    if (failed <= 1) return 0;
    return this.settings.retryBaseDelayMs * this.settings.retryMultiplier ** (failed - 2);
  }

  /** Writes a validation line: info with `enable_validation_logs`, else debug; warnings always. */
  log(level: LogLevel, message: string, requestId: string): void {
    const shown = level === "info" && !this.settings.verboseLogs ? "debug" : level;
    this.#logger.log(shown, message, requestId);
  }

  /** Handles an incident: writes the failure dump, counts it and logs it. Never throws. */
  async report(incident: GarbageIncident): Promise<void> {
    this.counters.detection(incident.model, incident.reason);
    const dump = await writeFailureDump({
      requestId: incident.requestId,
      model: incident.model,
      upstream: incident.upstream,
      reason: incident.description,
      attempt: incident.attempt,
      outcome: incident.outcome,
      text: incident.text,
      details: { channel: incident.channel, ...incident.details },
    }, {
      dir: this.settings.dumpDir,
      maxDirBytes: this.settings.dumpMaxBytes,
      redact: (text) => this.#logger.redactor.redact(text),
    });
    const where = dump.ok ? `dump: ${dump.path}` : dump.error;
    this.#logger.log(
      "warn",
      `Garbage in ${incident.channel} (${incident.description}) on attempt ${incident.attempt} of ` +
        `${this.attempts}: ${incident.outcome}; ${where}`,
      incident.requestId,
    );
  }

  /** The `/health` section. */
  healthReport(): GuardReport {
    return {
      enabled: this.settings.enabled,
      local_detection: this.settings.localDetection,
      validator: this.validator !== undefined,
      models: this.counters.snapshot(),
    };
  }
}

/** Options of {@link createGarbageGuard}. */
export interface CreateGarbageGuardOptions {
  /** The `logging` section (dumps, validation logs). */
  logging: LoggingConfig;
  /** Where lines go. */
  logger: Logger;
  /** The validator LLM as an upstream (`Config.validator`), when configured. */
  validator?: UpstreamConfig;
  /** The upstream client the validator calls through. @default a client with `globalThis.fetch` */
  client?: UpstreamClient;
}

/**
 * Builds the guard for a config: a validator exists when the guard is enabled and the config loader built the
 * validator's upstream (`validator_enabled` is not false and `validator_url` is set).
 */
export function createGarbageGuard(
  validation: ValidationConfig,
  options: CreateGarbageGuardOptions,
): GarbageGuard {
  const settings = guardSettings(validation, options.logging);
  const { logger } = options;
  const validator = settings.enabled && options.validator !== undefined
    ? createValidator({
      upstream: options.validator,
      model: validation.validatorModel,
      confidenceThreshold: validation.confidenceThreshold,
      client: options.client,
    })
    : undefined;
  return new GarbageGuard(settings, { logger, validator });
}
