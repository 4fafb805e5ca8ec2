/**
 * The validated, immutable configuration the proxy runs with.
 *
 * Built once by `load.ts` from defaults, the config file and CLI flags; nothing reads raw JSON after that.
 *
 * @module
 */

import type { DialectName } from "../protocols/dialect.ts";
import type { ApiRoot } from "../routing/upstream_url.ts";
import type { ConfigFile, UpstreamFileEntry } from "./schema.ts";

/** How an OpenAI upstream is told to think when an Anthropic request carries `thinking` (`reasoning_style`). */
export type ReasoningStyle = UpstreamFileEntry["reasoning_style"];

/** What ends an answer whose garbage could not be retried away (`validation.on_exhausted`). */
export type ExhaustedAction = ConfigFile["validation"]["on_exhausted"];

/** Request keys and values; `null` means "not set". */
export type ParamMap = Readonly<Record<string, unknown>>;

/** One upstream server. */
export interface UpstreamConfig {
  /** Unique name. */
  readonly name: string;
  /** Base URL without a trailing slash, with or without a version segment such as `/v1`. */
  readonly baseUrl: string;
  /** `baseUrl` parsed once into the API root and its query (see `routing/upstream_url.ts`). */
  readonly api: ApiRoot;
  /** Key that replaces the client's credentials, when configured. */
  readonly apiKey: string | undefined;
  /** The `api_key_env` variable that was not set at start: requests for this upstream are refused with 401. */
  readonly missingKeyEnv: string | undefined;
  /** Longest time to connect. */
  readonly connectTimeoutMs: number;
  /** Longest wait for the response headers. */
  readonly responseTimeoutMs: number;
  /** Longest idle time between two chunks of the response body. */
  readonly idleTimeoutMs: number;
  /** Longest time one request may take, from the call to the end of the body. */
  readonly maxDurationMs: number;
  /** Largest response body read from this upstream, counted after decompression. */
  readonly maxResponseBytes: number;
  /** Largest single SSE event accepted from this upstream. */
  readonly maxEventBytes: number;
  /** The dialects it serves, in order of preference for conversion (`protocols`, or the legacy booleans). */
  readonly protocols: readonly DialectName[];
  /** Serves OpenAI Chat Completions (derived from `protocols`). */
  readonly supportsOpenAI: boolean;
  /** Serves Anthropic Messages (derived from `protocols`). */
  readonly supportsAnthropic: boolean;
  /** Extra headers for every request to this upstream. */
  readonly headers: Readonly<Record<string, string>>;
  /** How to pass a thinking switch when converting Anthropic → OpenAI. */
  readonly reasoningStyle: ReasoningStyle;
  /** `max_tokens` for Anthropic requests converted from OpenAI clients that gave none. */
  readonly defaultMaxTokens: number;
  /** Remove tool-schema keywords that llama.cpp grammars reject, when converting. */
  readonly sanitizeToolSchemas: boolean;
  /** Has a llama.cpp-style `/tokenize` endpoint. */
  readonly tokenize: boolean;
  /** Request paths (or globs) forwarded besides the default endpoints (see `routing/forward_paths.ts`). */
  readonly forwardPaths: readonly string[];
}

/** A model pattern bound to an upstream, in config order. */
export interface Binding {
  readonly pattern: string;
  readonly upstream: string;
}

/** Where the proxy listens. */
export interface ListenConfig {
  readonly host: string;
  readonly port: number;
  /** Prefix of every route: empty, or `/x` without a trailing slash. */
  readonly basePath: string;
  /** Largest accepted request body. */
  readonly maxBodyBytes: number;
  /** Most client connections at once; undefined sizes it to the open-file limit. */
  readonly maxConnections: number | undefined;
  /** Seconds a client has to send a request's headers (also a new connection's first request). */
  readonly headerTimeoutSeconds: number;
  /** Longest pause, in seconds, while the proxy reads a request body. */
  readonly bodyTimeoutSeconds: number;
  /** Seconds a kept-alive connection may stay idle between requests. */
  readonly keepAliveTimeoutSeconds: number;
  /** Seconds in-flight requests get to finish after SIGTERM/SIGINT. */
  readonly shutdownGraceSeconds: number;
  /** Deepest nesting of objects and arrays in a request body. */
  readonly maxJsonDepth: number;
  /** Most JSON values in a request body. */
  readonly maxJsonElements: number;
  /** Request body bytes read and parsed at once over all requests. */
  readonly bodyBudgetBytes: number;
  /** Longest wait for the body budget. */
  readonly bodyWaitMs: number;
  /** Host names accepted in `Host` besides localhost, IP addresses and `host`. */
  readonly allowedHosts: readonly string[];
}

/** Client keys. */
export interface AuthConfig {
  /** Accepted client keys (from `auth.keys`, `auth.keys_env` and `auth.keys_file`); empty: no key needed. */
  readonly keys: readonly string[];
}

/** Logging switches. */
export interface LoggingConfig {
  readonly debug: boolean;
  readonly overrides: boolean;
  readonly validation: boolean;
  /** Folder of failure dumps. */
  readonly dumpDir: string;
  /** Total size of failure dumps before the oldest are removed. */
  readonly dumpMaxBytes: number;
}

/** Upstream probes (`health_check`). */
export interface HealthCheckConfig {
  /** Time between two probe rounds; 0: no probes. */
  readonly intervalMs: number;
  /** Longest wait for one probe. */
  readonly timeoutMs: number;
}

/** One `models` rule: what the policy does to a matching model's requests. */
export interface ModelRule {
  /** Set when the client omits the key. */
  readonly defaults?: ParamMap;
  /** Always set, replacing the client's value. */
  readonly force?: ParamMap;
  /** Keys removed from the request. */
  readonly strip?: readonly string[];
  /** Model name sent upstream; an exact key with `rename` is a virtual model. */
  readonly rename?: string;
  /** Clamp for `max_tokens` and its aliases. */
  readonly maxTokensCap?: number;
  /** Params added to bodies retried after garbage, over `validation.retry_sampling`. */
  readonly retrySampling?: ParamMap;
}

/** Sampling policy sections: `default_sampling_params`, `model_sampling_params`, `override`, `models`. */
export interface SamplingConfig {
  readonly defaultParams: ParamMap;
  /** Exact upstream model name → defaults. */
  readonly modelParams: Readonly<Record<string, ParamMap>>;
  readonly forceParams: ParamMap;
  /** Apply `forceParams` and `overrideModelName` to Anthropic clients only. */
  readonly onlyAnthropic: boolean;
  readonly overrideModelName: string | undefined;
  /** Rewrite OpenAI `developer` messages to `system`. */
  readonly developerToSystem: boolean;
  /** Model name or glob → rule. */
  readonly rules: Readonly<Record<string, ModelRule>>;
}

/** Bounds of one model's wait queue. */
export interface QueueBounds {
  /** Requests that may wait at once; `0`: none. */
  readonly maxWaiting: number;
  /** Longest wait, in seconds. */
  readonly timeoutSeconds: number;
}

/** The wait queue of the concurrency limits (`queue`). */
export interface QueueConfig extends QueueBounds {
  /** Status of a request the queue rejects. */
  readonly status: ConfigFile["queue"]["status"];
  /** Model name or glob → bounds, each key already resolved over the bounds above. */
  readonly perModel: Readonly<Record<string, QueueBounds>>;
}

/** One model's throttle pauses, in seconds; `null` or `0` is off. */
export interface ThrottlePauses {
  /** Minimum gap between two upstream sends for the model (retries included). */
  readonly startPauseSeconds: number | null;
  /** Minimum gap between the end of one response and the next upstream send for the model. */
  readonly endPauseSeconds: number | null;
}

/** Pauses between upstream requests per model (`throttle`). */
export interface ThrottleConfig {
  readonly enabled: boolean;
  /** Every model's pauses, unless `perModel` matches it. */
  readonly global: ThrottlePauses;
  /** Model name or glob → pauses, each key already resolved over `global`. */
  readonly perModel: Readonly<Record<string, ThrottlePauses>>;
}

/**
 * Garbage detection (`validation`), apart from the validator's connection, which is `Config.validator`
 * (`validator_url`, `validator_api_key_env`, `supports_*`, `connect_timeout_seconds`, `timeout_seconds`).
 */
export interface ValidationConfig {
  /** Guard chat completions and messages requests. */
  readonly enabled: boolean;
  /** Run the local loop detectors. */
  readonly localDetection: boolean;
  /** Characters held back from the client behind the end of the text. */
  readonly holdBackChars: number;
  /** Attempts after the first. */
  readonly maxRetries: number;
  /** Backoff base, in seconds. */
  readonly retryBaseDelaySeconds: number;
  /** Backoff multiplier. */
  readonly retryMultiplier: number;
  /** Params merged into retried and continued requests. */
  readonly retrySampling: ParamMap;
  /** How an answer ends when no attempt is left. */
  readonly onExhausted: ExhaustedAction;
  /** Also ask the validator about the content every `midStreamValidationIntervalWords` words. */
  readonly midStreamValidationEnabled: boolean;
  readonly midStreamValidationIntervalWords: number;
  /** Model name sent to the validator. */
  readonly validatorModel: string;
  /** A "loop" verdict below this confidence counts as "not a loop". */
  readonly confidenceThreshold: number;
}

/** The whole configuration, resolved: every default applied, keys in camelCase. */
export interface Config {
  /** Path of the file it came from, or `"defaults"`. */
  readonly source: string;
  readonly listen: ListenConfig;
  readonly auth: AuthConfig;
  readonly upstreams: readonly UpstreamConfig[];
  readonly bindings: readonly Binding[];
  /** The validator LLM of garbage detection, as an upstream; none when it is off or not configured. */
  readonly validator: UpstreamConfig | undefined;
  readonly logging: LoggingConfig;
  /** Browser origins allowed to call the proxy. */
  readonly cors: { readonly origins: readonly string[] };
  readonly healthCheck: HealthCheckConfig;
  readonly sampling: SamplingConfig;
  /** Model name or glob → concurrent requests; `global` limits all models together. */
  readonly parallelLimits: Readonly<Record<string, number>>;
  readonly queue: QueueConfig;
  readonly throttle: ThrottleConfig;
  readonly validation: ValidationConfig;
}
