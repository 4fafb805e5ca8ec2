/**
 * Every default lives on the schema: what `load` resolves from an empty file equals the `default` of each key in
 * `config.schema.json`, and the README's config reference shows the same defaults.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../../src/config/config.ts";
import { parseConfig } from "../../src/config/load.ts";
import { configJsonSchema } from "../../src/config/schema.ts";
import { isRecord } from "../support/json_guards.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HOME = "/home/someone";

/** Resolved from `{}`, and from a file that turns the validator on (its connection keys resolve into an upstream). */
const DEFAULTS = parseConfig("{}", { env: { HOME } }).config;
const WITH_VALIDATOR = parseConfig(
  JSON.stringify({ validation: { enabled: true, validator_url: "http://127.0.0.1:9/v1" } }),
  { env: { HOME } },
).config;

/** Where each schema default ends up in the resolved config, in the schema's units. */
const RESOLVED: Record<string, (config: Config) => unknown> = {
  "listen.host": (c) => c.listen.host,
  "listen.port": (c) => c.listen.port,
  "listen.base_path": (c) => c.listen.basePath,
  "listen.max_body_bytes": (c) => c.listen.maxBodyBytes,
  "listen.max_json_depth": (c) => c.listen.maxJsonDepth,
  "listen.max_json_elements": (c) => c.listen.maxJsonElements,
  "listen.body_budget_bytes": (c) => c.listen.bodyBudgetBytes,
  "listen.body_wait_seconds": (c) => c.listen.bodyWaitMs / 1000,
  "listen.allowed_hosts": (c) => c.listen.allowedHosts,
  "listen.header_timeout_seconds": (c) => c.listen.headerTimeoutSeconds,
  "listen.body_timeout_seconds": (c) => c.listen.bodyTimeoutSeconds,
  "listen.keep_alive_timeout_seconds": (c) => c.listen.keepAliveTimeoutSeconds,
  "listen.shutdown_grace_seconds": (c) => c.listen.shutdownGraceSeconds,
  "cors.origins": (c) => c.cors.origins,
  "auth.keys": (c) => c.auth.keys,
  "upstreams[].connect_timeout_seconds": (c) => c.upstreams[0].connectTimeoutMs / 1000,
  "upstreams[].timeout_seconds": (c) => c.upstreams[0].idleTimeoutMs / 1000,
  "upstreams[].max_duration_seconds": (c) => c.upstreams[0].maxDurationMs / 1000,
  "upstreams[].max_response_bytes": (c) => c.upstreams[0].maxResponseBytes,
  "upstreams[].max_event_bytes": (c) => c.upstreams[0].maxEventBytes,
  "upstreams[].supports_openai": (c) => c.upstreams[0].supportsOpenAI,
  "upstreams[].supports_anthropic": (c) => c.upstreams[0].supportsAnthropic,
  "upstreams[].headers": (c) => c.upstreams[0].headers,
  "upstreams[].reasoning_style": (c) => c.upstreams[0].reasoningStyle,
  "upstreams[].default_max_tokens": (c) => c.upstreams[0].defaultMaxTokens,
  "upstreams[].sanitize_tool_schemas": (c) => c.upstreams[0].sanitizeToolSchemas,
  "upstreams[].tokenize": (c) => c.upstreams[0].tokenize,
  "upstreams[].forward_paths": (c) => c.upstreams[0].forwardPaths,
  "default_sampling_params": (c) => c.sampling.defaultParams,
  "model_sampling_params": (c) => c.sampling.modelParams,
  "override.only_anthropic": (c) => c.sampling.onlyAnthropic,
  "override.model_name": (c) => c.sampling.overrideModelName ?? null,
  "override.sampling_params": (c) => c.sampling.forceParams,
  "override.developer_to_system": (c) => c.sampling.developerToSystem,
  "models": (c) => c.sampling.rules,
  "parallel_limits": (c) => c.parallelLimits,
  "queue.max_waiting": (c) => c.queue.maxWaiting,
  "queue.timeout_seconds": (c) => c.queue.timeoutSeconds,
  "queue.status": (c) => c.queue.status,
  "queue.per_model": (c) => c.queue.perModel,
  "throttle.enabled": (c) => c.throttle.enabled,
  "throttle.global.start_pause_seconds": (c) => c.throttle.global.startPauseSeconds,
  "throttle.global.end_pause_seconds": (c) => c.throttle.global.endPauseSeconds,
  "throttle.per_model": (c) => c.throttle.perModel,
  "validation.enabled": (c) => c.validation.enabled,
  "validation.validator_model": (c) => c.validation.validatorModel,
  "validation.connect_timeout_seconds": () => WITH_VALIDATOR.validator!.connectTimeoutMs / 1000,
  "validation.timeout_seconds": () => WITH_VALIDATOR.validator!.idleTimeoutMs / 1000,
  "validation.max_retries": (c) => c.validation.maxRetries,
  "validation.retry_base_delay_seconds": (c) => c.validation.retryBaseDelaySeconds,
  "validation.retry_multiplier": (c) => c.validation.retryMultiplier,
  "validation.mid_stream_validation_enabled": (c) => c.validation.midStreamValidationEnabled,
  "validation.mid_stream_validation_interval_words": (c) => c.validation.midStreamValidationIntervalWords,
  "validation.confidence_threshold": (c) => c.validation.confidenceThreshold,
  "validation.local_detection": (c) => c.validation.localDetection,
  "validation.validator_enabled": () => WITH_VALIDATOR.validator !== undefined,
  "validation.hold_back_chars": (c) => c.validation.holdBackChars,
  "validation.retry_sampling": (c) => c.validation.retrySampling,
  "validation.on_exhausted": (c) => c.validation.onExhausted,
  "health_check.interval_seconds": (c) => c.healthCheck.intervalMs / 1000,
  "health_check.timeout_seconds": (c) => c.healthCheck.timeoutMs / 1000,
  "logging.enable_debug_logs": (c) => c.logging.debug,
  "logging.enable_override_logs": (c) => c.logging.overrides,
  "logging.enable_validation_logs": (c) => c.logging.validation,
  "logging.dump_dir": (c) => c.logging.dumpDir.replace(HOME, "~"),
  "logging.dump_max_bytes": (c) => c.logging.dumpMaxBytes,
};

/** Every key of a JSON Schema node with a `default` (objects filled from their fields' defaults left out). */
function schemaDefaults(node: unknown, path = ""): Map<string, unknown> {
  const found = new Map<string, unknown>();
  if (!isRecord(node)) return found;
  if ("default" in node && !isRecord(node.properties)) found.set(path, node.default);
  if (isRecord(node.properties)) {
    for (const [key, child] of Object.entries(node.properties)) {
      for (const entry of schemaDefaults(child, path === "" ? key : `${path}.${key}`)) found.set(...entry);
    }
  }
  if (isRecord(node.items)) { for (const entry of schemaDefaults(node.items, `${path}[]`)) found.set(...entry); }
  return found;
}

const SCHEMA_DEFAULTS = schemaDefaults(JSON.parse(await Deno.readTextFile(join(ROOT, "config.schema.json"))));

Deno.test("config.schema.json carries the defaults of the schema in src/config/schema.ts", () => {
  assert.deepEqual(SCHEMA_DEFAULTS, schemaDefaults(configJsonSchema()));
  assert.ok(SCHEMA_DEFAULTS.size > 50, `only ${SCHEMA_DEFAULTS.size} defaults found`);
});

Deno.test("load resolves an empty file to exactly the schema's defaults", () => {
  assert.deepEqual([...SCHEMA_DEFAULTS.keys()].filter((key) => !(key in RESOLVED)), [], "defaults nobody resolves");
  assert.deepEqual(
    Object.keys(RESOLVED).filter((key) => !SCHEMA_DEFAULTS.has(key)),
    [],
    "resolved keys the schema lacks",
  );
  for (const [key, value] of SCHEMA_DEFAULTS) assert.deepEqual(RESOLVED[key](DEFAULTS), value, key);
});

/** README sections with a `| key | default | meaning |` table, and where their keys are in the schema. */
const README_TABLES: Record<string, string> = {
  "### `listen`": "listen.",
  "### `cors`": "cors.",
  "### `auth` (client keys)": "auth.",
  "### `upstreams` and `model_upstream_binding`": "upstreams[].",
  "### `health_check`": "health_check.",
};

/** The rows of the key/default table under `heading`: key → the default cell. */
function readmeDefaults(readme: string, heading: string): Map<string, string> {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README lacks ${heading}`);
  const section = readme.slice(start + heading.length + 2).split("\n### ")[0];
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const cells = line.split(" | ");
    if (!line.startsWith("| `") || cells.length < 3) continue;
    const keys = [...cells[0].matchAll(/`([a-z_]+)`/g)].map((match) => match[1]);
    const values = cells[1].split(" / ");
    keys.forEach((key, index) => rows.set(key, (values.length === keys.length ? values[index] : cells[1]).trim()));
  }
  return rows;
}

/** The value a README default cell shows: the first backticked literal, read as JSON when it is JSON. */
function shownValue(cell: string): unknown {
  const literal = /^`([^`]*)`/.exec(cell)?.[1];
  if (literal === undefined) return undefined;
  try {
    return JSON.parse(literal);
  } catch {
    return literal;
  }
}

Deno.test("the README's config reference shows the schema's defaults", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  for (const [heading, prefix] of Object.entries(README_TABLES)) {
    const rows = readmeDefaults(readme, heading);
    for (const [key, value] of SCHEMA_DEFAULTS) {
      if (!key.startsWith(prefix) || key.slice(prefix.length).includes(".")) continue;
      const name = key.slice(prefix.length);
      assert.ok(rows.has(name), `README ${heading} has no row for ${name}`);
      assert.deepEqual(shownValue(rows.get(name)!), value, `README ${heading}: ${name}`);
    }
    for (const [name, cell] of rows) {
      if (SCHEMA_DEFAULTS.has(prefix + name)) continue;
      const shown = shownValue(cell);
      assert.ok(shown === undefined || typeof shown === "string", `README ${heading}: ${name} shows a default`);
    }
  }
});
