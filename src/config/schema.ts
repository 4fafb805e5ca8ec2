/**
 * The config file's schema: every key, its type, its default and its meaning.
 *
 * The same schema validates files at start-up and is exported as `config.schema.json` for editors
 * (`deno task schema`). Objects are strict so that typos are found; the loader turns unknown keys into warnings
 * rather than errors (see `load.ts`).
 *
 * @module
 */

import { z } from "zod";

const seconds = (description: string) => z.number().nonnegative().describe(description);
const positiveSeconds = (description: string) => z.number().positive().describe(description);
/** Sampling parameters: any key; `null` means "not set" (seed semantics). */
const samplingParams = z.record(z.string(), z.unknown()).describe(
  'Request keys and values, e.g. {"temperature": 0.6, "top_k": 20}; null means not set',
);

const upstreamSchema = z.strictObject({
  name: z.string().min(1).describe("Unique name, used by model_upstream_binding"),
  base_url: z.url({ protocol: /^https?$/ }).describe(
    "Base URL, with or without /v1 (e.g. http://127.0.0.1:8080 or https://api.z.ai/api/anthropic)",
  ),
  api_key: z.string().min(1).optional().describe("Key sent to this upstream instead of the client's"),
  api_key_env: z.string().min(1).optional().describe("Environment variable holding the key for this upstream"),
  connect_timeout_seconds: positiveSeconds("Time to establish the connection").default(5),
  timeout_seconds: positiveSeconds("Longest idle time between two chunks of the response body").default(1200),
  response_timeout_seconds: positiveSeconds(
    "Longest wait for the response headers (default: timeout_seconds)",
  ).optional(),
  supports_openai: z.boolean().default(true).describe("Upstream serves OpenAI /v1/chat/completions"),
  supports_anthropic: z.boolean().default(false).describe("Upstream serves Anthropic /v1/messages"),
  headers: z.record(z.string(), z.string()).default({}).describe("Extra headers sent on every upstream request"),
  reasoning_style: z.enum(["none", "reasoning_effort", "chat_template_kwargs", "thinking_object"]).default("none")
    .describe("How an Anthropic `thinking` switch is told to this OpenAI upstream when converting"),
  default_max_tokens: z.number().int().positive().default(8192).describe(
    "max_tokens sent to an Anthropic upstream when an OpenAI client gives none",
  ),
  sanitize_tool_schemas: z.boolean().default(false).describe(
    "Remove JSON Schema keywords llama.cpp grammars reject ($schema, format, pattern, propertyNames) when converting",
  ),
  tokenize: z.boolean().default(false).describe(
    "Upstream has a llama.cpp-style /tokenize endpoint (used for count_tokens when converting)",
  ),
});

const legacyServerSchema = z.strictObject({
  target_base_url: z.url({ protocol: /^https?$/ }).optional().describe("Legacy: the single upstream's URL"),
  sampling_proxy_host: z.string().min(1).optional().describe("Legacy: listen.host"),
  sampling_proxy_port: z.number().int().min(0).max(65535).optional().describe("Legacy: listen.port"),
  sampling_proxy_base_path: z.string().optional().describe("Legacy: listen.base_path"),
  connect_timeout_seconds: positiveSeconds("Legacy: upstream connect timeout").optional(),
  timeout_seconds: positiveSeconds("Legacy: upstream idle timeout").optional(),
  supports_openai: z.boolean().optional(),
  supports_anthropic: z.boolean().optional(),
});

const pauseSchema = z.strictObject({
  start_pause_seconds: seconds("Minimum gap between the starts of two requests to the model").nullable().optional(),
  end_pause_seconds: seconds("Minimum gap between the end of a response and the next start").nullable().optional(),
});

const queueSchema = z.strictObject({
  max_waiting: z.number().int().nonnegative().optional().describe("Requests that may wait for a slot"),
  timeout_seconds: positiveSeconds("Longest wait in the queue").optional(),
});

const modelRuleSchema = z.strictObject({
  defaults: samplingParams.optional().describe("Set when the client omits the key"),
  force: samplingParams.optional().describe("Always set, replacing the client's value"),
  strip: z.array(z.string().min(1)).optional().describe("Keys removed from the request"),
  rename: z.string().min(1).optional().describe(
    "Model name sent upstream; an exact key with rename is a virtual model",
  ),
  max_tokens_cap: z.number().int().positive().optional().describe("Clamp max_tokens / max_completion_tokens"),
});

/** The schema of a config file. */
export const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  listen: z.strictObject({
    host: z.string().min(1).optional().describe("Address to bind (default 127.0.0.1)"),
    port: z.number().int().min(0).max(65535).optional().describe("Port (default 8001; 0 picks a free port)"),
    base_path: z.string().optional().describe("Prefix of every route, e.g. /proxy"),
    max_body_bytes: z.number().int().positive().optional().describe("Largest request body (default 32 MiB)"),
  }).optional(),
  upstreams: z.array(upstreamSchema).min(1).optional(),
  model_upstream_binding: z.record(z.string(), z.string()).optional().describe(
    "Model name or glob → upstream name; exact names first, then globs in order",
  ),
  server: legacyServerSchema.optional().describe("Legacy single-upstream form"),
  default_sampling_params: samplingParams.optional(),
  model_sampling_params: z.record(z.string(), samplingParams).optional(),
  override: z.strictObject({
    only_anthropic: z.boolean().optional(),
    model_name: z.string().nullable().optional(),
    sampling_params: samplingParams.optional(),
    developer_to_system: z.boolean().optional().describe(
      "Rewrite OpenAI messages with role developer to system (for chat templates that reject developer)",
    ),
  }).optional(),
  models: z.record(z.string(), modelRuleSchema).optional().describe("Per-model rules: name or glob → rule"),
  parallel_limits: z.record(z.string(), z.number().int().positive()).optional().describe(
    'Model name or glob → concurrent requests; the key "global" limits all models together',
  ),
  queue: queueSchema.extend({
    status: z.union([z.literal(429), z.literal(503)]).optional().describe("Status of a rejected request"),
    per_model: z.record(z.string(), queueSchema).optional(),
  }).optional(),
  throttle: z.strictObject({
    enabled: z.boolean().optional(),
    global: pauseSchema.optional(),
    per_model: z.record(z.string(), pauseSchema).optional(),
  }).optional(),
  validation: z.strictObject({
    enabled: z.boolean().optional(),
    validator_url: z.url({ protocol: /^https?$/ }).optional(),
    validator_model: z.string().optional(),
    validator_api_key_env: z.string().optional(),
    supports_openai: z.boolean().optional(),
    supports_anthropic: z.boolean().optional(),
    connect_timeout_seconds: positiveSeconds("Validator connect timeout").optional(),
    timeout_seconds: positiveSeconds("Validator timeout").optional(),
    max_retries: z.number().int().nonnegative().optional(),
    retry_base_delay_seconds: seconds("Backoff base").optional(),
    retry_multiplier: z.number().positive().optional(),
    mid_stream_validation_enabled: z.boolean().optional(),
    mid_stream_validation_interval_words: z.number().int().positive().optional(),
    confidence_threshold: z.number().min(0).max(1).optional(),
    local_detection: z.boolean().optional().describe("Run the local loop detector (default true)"),
    validator_enabled: z.boolean().optional().describe("Ask the validator LLM about doubtful cases (default true)"),
    hold_back_chars: z.number().int().nonnegative().optional().describe("Characters held back from the client"),
    retry_sampling: samplingParams.optional().describe("Params added to retried requests, e.g. presence_penalty"),
  }).optional(),
  logging: z.strictObject({
    enable_debug_logs: z.boolean().optional(),
    enable_override_logs: z.boolean().optional(),
    enable_validation_logs: z.boolean().optional(),
    dump_dir: z.string().optional().describe("Failure dumps folder (default ~/.sampling-proxy/logs)"),
    dump_max_bytes: z.number().int().positive().optional().describe("Total size of failure dumps"),
  }).optional(),
});

/** A config file as written, after validation. */
export type ConfigFile = z.infer<typeof configFileSchema>;

/** A validated upstream entry of a config file, with defaults applied. */
export type UpstreamFileEntry = z.infer<typeof upstreamSchema>;

/** The upstream entry schema, for entries built from CLI flags or the legacy form. */
export const upstreamEntrySchema: typeof upstreamSchema = upstreamSchema;

/** The config file's JSON Schema, for editors and `config.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configFileSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: "https://github.com/sampling-proxy/sampling-proxy/config.schema.json" };
}
