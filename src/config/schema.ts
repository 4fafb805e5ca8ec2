/**
 * The config file's schema: every key, its type, its default and its meaning.
 *
 * The same schema validates files at start-up and is exported as `config.schema.json` for editors
 * (`deno task schema`). Objects are strict so that typos are found; the loader turns unknown keys into warnings
 * rather than errors (see `load.ts`). Built with our own `shape.ts` rather than a schema library, which would cost
 * the idle proxy about 10 MiB of memory.
 *
 * @module
 */

import * as s from "./shape.ts";

const nonEmptyString = s.string({ minLength: 1 });
const httpUrl = s.url();
const flag = s.boolean();
const port = s.number({ integer: true, min: 0, max: 65535 });
const positiveInteger = s.number({ integer: true, positive: true });
const count = s.number({ integer: true, min: 0 });
const seconds = (description: string) => s.number({ min: 0 }).describe(description);
const positiveSeconds = (description: string) => s.number({ positive: true }).describe(description);
/** Sampling parameters: any key; `null` means "not set" (seed semantics). */
const samplingParams = s.record(s.unknown()).describe(
  'Request keys and values, e.g. {"temperature": 0.6, "top_k": 20}; null means not set',
);
/** Connect timeout of every upstream, the validator's included. */
const CONNECT_TIMEOUT_SECONDS = 5;

const upstreamSchema = s.object({
  name: nonEmptyString.describe("Unique name, used by model_upstream_binding"),
  base_url: httpUrl.describe(
    "Base URL, with or without /v1 (e.g. http://127.0.0.1:8080 or https://api.z.ai/api/anthropic)",
  ),
  api_key: nonEmptyString.optional().describe("Key sent to this upstream instead of the client's"),
  api_key_env: nonEmptyString.optional().describe("Environment variable holding the key for this upstream"),
  connect_timeout_seconds: positiveSeconds("Time to establish the connection").default(CONNECT_TIMEOUT_SECONDS),
  timeout_seconds: positiveSeconds("Longest idle time between two chunks of the response body").default(1200),
  response_timeout_seconds: positiveSeconds(
    "Longest wait for the response headers (default: timeout_seconds)",
  ).optional(),
  max_duration_seconds: positiveSeconds(
    "Longest time one upstream request may take, headers and body together",
  ).default(1800),
  max_response_bytes: positiveInteger.default(64 * 1024 * 1024).describe(
    "Largest upstream response body read, streamed or not, counted after any decompression",
  ),
  max_event_bytes: positiveInteger.default(4 * 1024 * 1024).describe(
    "Largest single SSE event accepted from this upstream",
  ),
  protocols: s.array(s.oneOf(["openai_chat", "anthropic_messages"])).optional().describe(
    "Protocols the upstream serves, in order of preference for conversion; default from supports_openai / supports_anthropic",
  ),
  supports_openai: flag.default(true).describe("Legacy (use protocols): upstream serves OpenAI /v1/chat/completions"),
  supports_anthropic: flag.default(false).describe("Legacy (use protocols): upstream serves Anthropic /v1/messages"),
  headers: s.record(s.string()).default({}).describe("Extra headers sent on every upstream request"),
  reasoning_style: s.oneOf(["none", "reasoning_effort", "chat_template_kwargs", "thinking_object"]).default("none")
    .describe("How an Anthropic `thinking` switch is told to this OpenAI upstream when converting"),
  default_max_tokens: positiveInteger.default(8192).describe(
    "max_tokens sent to an Anthropic upstream when an OpenAI client gives none",
  ),
  sanitize_tool_schemas: flag.default(false).describe(
    "Remove JSON Schema keywords llama.cpp grammars reject ($schema, format, pattern, propertyNames) when converting",
  ),
  tokenize: flag.default(false).describe(
    "Upstream has a llama.cpp-style /tokenize endpoint (used for count_tokens when converting)",
  ),
  forward_paths: s.array(s.string({ pattern: /^\/\S*$/ })).default([]).describe(
    "More request paths forwarded to this upstream, e.g. /v1/batches or globs (* within a segment, ** across)",
  ),
});

const legacyServerSchema = s.object({
  target_base_url: httpUrl.optional().describe("Legacy: the single upstream's URL"),
  sampling_proxy_host: nonEmptyString.optional().describe("Legacy: listen.host"),
  sampling_proxy_port: port.optional().describe("Legacy: listen.port"),
  sampling_proxy_base_path: s.string().optional().describe("Legacy: listen.base_path"),
  connect_timeout_seconds: positiveSeconds("Legacy: upstream connect timeout").optional(),
  timeout_seconds: positiveSeconds("Legacy: upstream idle timeout").optional(),
  supports_openai: flag.optional(),
  supports_anthropic: flag.optional(),
});

const startPause = seconds("Minimum gap between the starts of two requests to the model; null or 0: off").nullable();
const endPause = seconds("Minimum gap between the end of a response and the next start; null or 0: off").nullable();

/** A model's pauses: an absent key takes the `global` value. */
const pauseSchema = s.object({ start_pause_seconds: startPause.optional(), end_pause_seconds: endPause.optional() });

const maxWaiting = count.describe("Requests that may wait for a slot");
const queueTimeout = positiveSeconds("Longest wait in the queue (also for a throttle turn)");

const modelRuleSchema = s.object({
  defaults: samplingParams.optional().describe("Set when the client omits the key"),
  force: samplingParams.optional().describe("Always set, replacing the client's value"),
  strip: s.array(nonEmptyString).optional().describe("Keys removed from the request"),
  rename: nonEmptyString.optional().describe(
    "Model name sent upstream; an exact key with rename is a virtual model",
  ),
  max_tokens_cap: positiveInteger.optional().describe("Clamp max_tokens / max_completion_tokens"),
  retry_sampling: samplingParams.optional().describe(
    "Params added to bodies retried after garbage was detected, over validation.retry_sampling",
  ),
});

/** The schema of a config file. */
export const configFileSchema = s.object({
  $schema: s.string().optional().describe("Where editors find this JSON Schema"),
  listen: s.object({
    host: nonEmptyString.default("127.0.0.1").describe("Address to bind"),
    port: port.default(8001).describe("Port; 0 picks a free port"),
    base_path: s.string().default("").describe("Prefix of every route, e.g. /proxy"),
    max_body_bytes: positiveInteger.default(16 * 1024 * 1024).describe(
      "Largest request body, after decompression",
    ),
    max_json_depth: positiveInteger.default(128).describe(
      "Deepest nesting of objects and arrays in a request body",
    ),
    max_json_elements: positiveInteger.default(500_000).describe(
      "Most JSON values (objects, arrays, strings, numbers, …) in a request body",
    ),
    body_budget_bytes: positiveInteger.default(64 * 1024 * 1024).describe(
      "Request body bytes read and parsed at once over all requests; more wait (at least max_body_bytes)",
    ),
    body_wait_seconds: positiveSeconds("Longest wait for the body budget before a 503").default(10),
    allowed_hosts: s.array(nonEmptyString).default([]).describe(
      "Host names accepted in the Host header besides localhost, IP addresses and listen.host",
    ),
    max_connections: positiveInteger.optional().describe(
      "Most client connections at once; more are answered 503 and closed (default sized to the open-file limit)",
    ),
    header_timeout_seconds: positiveSeconds("Time a client has to send a request's headers").default(60),
    body_timeout_seconds: positiveSeconds("Longest pause while reading a request body; then 408").default(60),
    keep_alive_timeout_seconds: positiveSeconds("Idle time before a kept-alive connection is closed").default(75),
    shutdown_grace_seconds: seconds("On SIGTERM/SIGINT, time in-flight requests get to finish").default(30),
  }).filled(),
  cors: s.object({
    origins: s.array(s.string({ pattern: /^https?:\/\/[^/\s]+$/ })).default([]).describe(
      "Browser origins allowed to call the proxy, e.g. http://localhost:3000; other origins get 403",
    ),
  }).filled(),
  auth: s.object({
    keys: s.array(nonEmptyString).default([]).describe("Client keys the proxy accepts (Bearer, x-api-key or api-key)"),
    keys_env: nonEmptyString.optional().describe("Environment variable holding comma-separated client keys"),
    keys_file: nonEmptyString.optional().describe("File with one client key per line (# starts a comment)"),
  }).filled().describe("Client keys; when any is set, every route but / and /health needs one"),
  upstreams: s.array(upstreamSchema, { minItems: 1 }).optional().describe(
    'The upstream servers (default: the legacy server form, or one upstream "default" at http://127.0.0.1:8080/v1)',
  ),
  model_upstream_binding: s.record(s.string()).optional().describe(
    'Model name or glob → upstream name; exact names first, then globs in order (default: "*" → the first upstream)',
  ),
  server: legacyServerSchema.optional().describe("Legacy single-upstream form"),
  default_sampling_params: samplingParams.default({}),
  model_sampling_params: s.record(samplingParams).default({}),
  override: s.object({
    only_anthropic: flag.default(false),
    model_name: s.string().nullable().default(null),
    sampling_params: samplingParams.default({}),
    developer_to_system: flag.default(false).describe(
      "Rewrite OpenAI messages with role developer to system (for chat templates that reject developer)",
    ),
  }).filled(),
  models: s.record(modelRuleSchema).default({}).describe("Per-model rules: name or glob → rule"),
  parallel_limits: s.record(positiveInteger).default({}).describe(
    'Model name or glob → concurrent requests; the key "global" limits all models together',
  ),
  queue: s.object({
    max_waiting: maxWaiting.default(256),
    timeout_seconds: queueTimeout.default(300),
    status: s.oneOf([429, 503]).default(429).describe("Status of a rejected request"),
    per_model: s.record(s.object({ max_waiting: maxWaiting.optional(), timeout_seconds: queueTimeout.optional() }))
      .default({}).describe("Model name or glob → queue bounds; an absent key takes the value above"),
  }).filled(),
  throttle: s.object({
    enabled: flag.default(false),
    global: s.object({ start_pause_seconds: startPause.default(0), end_pause_seconds: endPause.default(0) })
      .filled(),
    per_model: s.record(pauseSchema).default({}).describe(
      "Model name or glob → pauses; an absent key takes the global value",
    ),
  }).filled(),
  validation: s.object({
    enabled: flag.default(false),
    validator_url: httpUrl.optional(),
    validator_model: s.string().default("qwen-3.5-0.8b"),
    validator_api_key_env: s.string().optional(),
    supports_openai: flag.optional(),
    supports_anthropic: flag.optional(),
    connect_timeout_seconds: positiveSeconds("Validator connect timeout").default(CONNECT_TIMEOUT_SECONDS),
    timeout_seconds: positiveSeconds("Validator timeout").default(30),
    max_retries: count.default(3),
    retry_base_delay_seconds: seconds("Backoff base").default(1),
    retry_multiplier: s.number({ positive: true }).default(2),
    mid_stream_validation_enabled: flag.default(false),
    mid_stream_validation_interval_words: positiveInteger.default(300),
    confidence_threshold: s.number({ min: 0, max: 1 }).default(0.85),
    local_detection: flag.default(true).describe("Run the local loop detector"),
    validator_enabled: flag.default(true).describe("Ask the validator LLM about doubtful cases"),
    hold_back_chars: count.default(256).describe("Characters held back from the client"),
    retry_sampling: samplingParams.default({}).describe("Params added to retried requests, e.g. presence_penalty"),
    on_exhausted: s.oneOf(["truncate", "error"]).default("truncate").describe(
      "When retries are used up: end the answer at the loop start as a length cut (truncate), " +
        "or with an error clients do not retry (error)",
    ),
  }).filled(),
  health_check: s.object({
    interval_seconds: seconds("Seconds between probes of every upstream's models endpoint; 0 disables probing")
      .default(30),
    timeout_seconds: positiveSeconds("Longest wait for one probe").default(5),
  }).filled().describe("Upstream reachability probes, shown in /health"),
  logging: s.object({
    enable_debug_logs: flag.default(false),
    enable_override_logs: flag.default(false),
    enable_validation_logs: flag.default(false),
    dump_dir: s.string().default("~/.sampling-proxy/logs").describe("Failure dumps folder"),
    dump_max_bytes: positiveInteger.default(50 * 1024 * 1024).describe("Total size of failure dumps"),
  }).filled(),
});

/** A config file as written, after validation. */
export type ConfigFile = s.Infer<typeof configFileSchema>;

/** A validated upstream entry of a config file, with defaults applied. */
export type UpstreamFileEntry = s.Infer<typeof upstreamSchema>;

/** The upstream entry schema, for entries built from CLI flags or the legacy form. */
export const upstreamEntrySchema: typeof upstreamSchema = upstreamSchema;

/** The config file's JSON Schema, for editors and `config.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  return s.jsonSchemaDocument(configFileSchema, "https://github.com/sampling-proxy/sampling-proxy/config.schema.json");
}
