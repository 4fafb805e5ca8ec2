/**
 * Loading the configuration: file → JSON → schema → legacy wrapping → defaults → CLI flags → cross-checks →
 * {@link Config}.
 *
 * Phases, in order:
 * 1. Read the file (`--config`, else `./config.json` when present, else built-in defaults).
 * 2. Parse JSON with comments and trailing commas (JSONC); a syntax error names the file, the line and the column.
 * 3. Validate the file as written; unknown keys become warnings and are dropped, except at the top level, where a
 *    misspelt section (`upstream`) would silently leave the defaults in force, so it is an error; each names the
 *    nearest known key. Anything else is an error naming the file and, for every problem, its JSON path and what
 *    is wrong.
 * 4. Move the legacy `server.sampling_proxy_*` keys into `listen` where it does not set them, and fill in every
 *    default of the schema (the only place defaults live).
 * 5. Merge CLI flags (CLI > file > defaults).
 * 6. Wrap the legacy `server` form into one upstream, check cross-references (binding names, duplicate upstreams),
 *    resolve every section into the camelCase {@link Config} and freeze. An unset `api_key_env` variable is a
 *    warning, not an error: that upstream answers 401 naming the variable, and the rest of the proxy works.
 *
 * @module
 */

import { DIALECT_NAMES } from "../protocols/dialect.ts";
import { isJsonObject } from "../protocols/json_object.ts";
import { apiRoot, baseUrlProblem, displayUrl } from "../routing/upstream_url.ts";
import { join } from "node:path";
import type { Config, UpstreamConfig } from "./config.ts";
import { type ConfigFile, configFileSchema, upstreamEntrySchema, type UpstreamFileEntry } from "./schema.ts";
import { parseJsonc } from "./jsonc.ts";
import type { Problem } from "./shape.ts";
import { didYouMean } from "./suggest.ts";

/** A config that cannot be used; the message names the file, the JSON path and the problem. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The upstream of a config without `upstreams` or `server`: llama.cpp's `llama-server` on its default port. */
const DEFAULT_UPSTREAM_URL = "http://127.0.0.1:8080/v1";
/** The seed's legacy default `server.target_base_url`, kept for legacy files that omit it. */
const LEGACY_DEFAULT_UPSTREAM_URL = "http://127.0.0.1:8000/v1";
/** Legacy `server` keys and the `listen` keys they stand for when `listen` omits them. */
const LEGACY_LISTEN_KEYS = [
  ["sampling_proxy_host", "host"],
  ["sampling_proxy_port", "port"],
  ["sampling_proxy_base_path", "base_path"],
] as const;

/** Values given on the command line; each replaces the file's value. */
export interface CliOverrides {
  host?: string;
  port?: number;
  basePath?: string;
  /** `--target-base-url`: a bare URL replaces the only upstream's URL; `name=URL` replaces or adds one. */
  targets?: Array<{ name?: string; url: string }>;
  /** `--model-bindings`: replaces the whole binding map. */
  bindings?: Record<string, string>;
  debug?: boolean;
  overrideLogs?: boolean;
  /** `--override-sampling-params` / `--enforce-params`: replaces `override.sampling_params`. */
  forceParams?: Record<string, unknown>;
  overrideModelName?: string;
  onlyAnthropic?: boolean;
  /** `--parallel-limits`: replaces the whole `parallel_limits` map. */
  parallelLimits?: Record<string, number>;
}

/** A loaded config and the warnings found while loading it. */
export interface LoadedConfig {
  config: Config;
  warnings: string[];
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Flag values. */
  cli?: CliOverrides;
  /** Environment, for `api_key_env`. @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** Folder where `config.json` is looked up when no path is given. @default Deno.cwd() */
  cwd?: string;
}

/**
 * Loads the config from `path`, or `./config.json` when it exists, or the defaults; then applies the CLI flags.
 *
 * @throws {ConfigError} when the file is missing, unreadable, not JSON(C) or invalid
 */
export async function loadConfig(path: string | undefined, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? Deno.cwd();
  let source = "defaults";
  let text: string | undefined;
  if (path !== undefined) {
    source = path;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound ? "file not found" : errorMessage(error);
      throw new ConfigError(`Cannot load config ${path}: ${reason}`);
    }
  } else {
    const implicit = join(cwd, "config.json");
    try {
      text = await Deno.readTextFile(implicit);
      source = implicit;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new ConfigError(`Cannot load config ${implicit}: ${errorMessage(error)}`);
      }
    }
  }
  return parseConfig(text ?? "{}", { ...options, source });
}

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions extends LoadConfigOptions {
  /** Name of the file, for messages. @default "config" */
  source?: string;
}

/**
 * Parses and validates config text. Pure apart from reading `env` and `auth.keys_file`.
 *
 * @throws {ConfigError} when the text is not JSON or not a valid config
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): LoadedConfig {
  const source = options.source ?? "config";
  const env = options.env ?? Deno.env.toObject();
  const fail = (message: string): never => {
    throw new ConfigError(`Cannot load config ${source}: ${message}`);
  };
  const parsed = parseJsonc(text);
  if (!parsed.ok) return fail(`invalid JSON: ${parsed.error}`);
  const raw = parsed.value;
  if (!isJsonObject(raw)) return fail("the top level must be an object");
  const warnings: string[] = [];
  const cli = options.cli ?? {};
  validate(raw, warnings, fail);
  const basePathKey = isJsonObject(raw.listen) && Object.hasOwn(raw.listen, "base_path") || cli.basePath !== undefined
    ? "listen.base_path"
    : "server.sampling_proxy_base_path";
  const file = applyCli(withDefaults(withLegacyListen(raw)), cli, fail);
  return { config: build(file, { source, env, warnings, fail, basePathKey }), warnings };
}

/** Checks the file as written: unknown keys become warnings (errors at the top level), problems fail. */
function validate(raw: Record<string, unknown>, warnings: string[], fail: (message: string) => never): void {
  const result = configFileSchema.validate(raw);
  for (const { path, keys, known } of result.unknownKeys) {
    const parent = path.length === 0 ? "the top level" : formatPath(path);
    const hint = (key: string) =>
      path.length === 0 && Object.hasOwn(RENAMED, key) ? ` (now ${RENAMED[key]})` : didYouMean(key, known);
    const named = keys.map((key) => `"${key}"${hint(key)}`).join(", ");
    const message = `Unknown key${keys.length > 1 ? "s" : ""} ${named} in ${parent}`;
    if (path.length === 0) fail(message);
    warnings.push(`${message} (ignored)`);
  }
  if (!result.ok) fail(formatProblems(result.problems));
}

/** The legacy `server.sampling_proxy_*` keys moved into `listen`, where it does not set them itself. */
function withLegacyListen(raw: Record<string, unknown>): Record<string, unknown> {
  const { server, listen } = raw;
  if (!isJsonObject(server)) return raw;
  const moved = Object.fromEntries(
    LEGACY_LISTEN_KEYS.filter(([legacy]) => server[legacy] !== undefined).map(([legacy, key]) => [key, server[legacy]]),
  );
  return { ...raw, listen: { ...moved, ...(isJsonObject(listen) ? listen : {}) } };
}

/** A valid file (see {@link validate}) with every default of the schema filled in. */
function withDefaults(raw: Record<string, unknown>): ConfigFile {
  const result = configFileSchema.validate(raw);
  if (!result.ok) throw new TypeError("Cannot fill the defaults of a config that was not validated first");
  return result.value;
}

/** Top-level keys of older seed versions, and where their settings live now. */
const RENAMED: Readonly<Record<string, string>> = { enforced_sampling_params: "override.sampling_params" };

function applyCli(file: ConfigFile, cli: CliOverrides, fail: (message: string) => never): ConfigFile {
  const out: ConfigFile = structuredClone(file);
  if (cli.host !== undefined) out.listen.host = cli.host;
  if (cli.port !== undefined) out.listen.port = cli.port;
  if (cli.basePath !== undefined) out.listen.base_path = cli.basePath;
  if (cli.targets && cli.targets.length > 0) {
    out.upstreams = out.upstreams ?? [legacyUpstream(out)];
    delete out.server?.target_base_url;
    for (const target of cli.targets) {
      if (target.name === undefined) {
        if (out.upstreams.length !== 1) {
          fail(
            `--target-base-url ${target.url} is ambiguous with ${out.upstreams.length} upstreams; ` +
              `use name=URL (names: ${out.upstreams.map((u) => u.name).join(", ")})`,
          );
        }
        out.upstreams[0] = { ...out.upstreams[0], base_url: target.url };
        continue;
      }
      const index = out.upstreams.findIndex((u) => u.name === target.name);
      if (index >= 0) out.upstreams[index] = { ...out.upstreams[index], base_url: target.url };
      else out.upstreams.push(parseUpstreamEntry({ name: target.name, base_url: target.url }, fail));
    }
  }
  if (cli.bindings) out.model_upstream_binding = cli.bindings;
  if (cli.debug) out.logging.enable_debug_logs = true;
  if (cli.overrideLogs) out.logging.enable_override_logs = true;
  if (cli.forceParams) out.override.sampling_params = cli.forceParams;
  if (cli.overrideModelName !== undefined) out.override.model_name = cli.overrideModelName;
  if (cli.onlyAnthropic) out.override.only_anthropic = true;
  if (cli.parallelLimits) out.parallel_limits = cli.parallelLimits;
  return out;
}

function parseUpstreamEntry(entry: Record<string, unknown>, fail: (message: string) => never) {
  const result = upstreamEntrySchema.validate(entry);
  return result.ok ? result.value : fail(formatProblems(result.problems, "upstream "));
}

/**
 * The validator LLM as an upstream entry, so that it is called like any upstream (URL rules, credentials, headers,
 * timeouts): `validator_url`, `validator_api_key_env`, `supports_openai` / `supports_anthropic`,
 * `connect_timeout_seconds` and `timeout_seconds` (for the response and the whole call). None when garbage
 * detection or the validator is off, or no `validator_url` is set.
 */
function validatorUpstreamEntry(
  validation: ConfigFile["validation"],
  fail: (message: string) => never,
): UpstreamFileEntry | undefined {
  if (!validation.enabled || !validation.validator_enabled || validation.validator_url === undefined) {
    return undefined;
  }
  // The schema reads an undefined key as absent: unset settings take the upstream defaults.
  const entry = {
    name: "validator",
    base_url: validation.validator_url,
    timeout_seconds: validation.timeout_seconds,
    api_key_env: validation.validator_api_key_env,
    connect_timeout_seconds: validation.connect_timeout_seconds,
    supports_openai: validation.supports_openai,
    supports_anthropic: validation.supports_anthropic,
  };
  return parseUpstreamEntry(entry, (message) => fail(`validation: ${message}`));
}

/** The one upstream of the legacy `server` form (or of no config at all). */
function legacyUpstream(file: ConfigFile) {
  const server = file.server;
  const entry: Record<string, unknown> = {
    name: "default",
    base_url: server?.target_base_url ?? (server ? LEGACY_DEFAULT_UPSTREAM_URL : DEFAULT_UPSTREAM_URL),
  };
  if (server?.connect_timeout_seconds !== undefined) entry.connect_timeout_seconds = server.connect_timeout_seconds;
  if (server?.timeout_seconds !== undefined) entry.timeout_seconds = server.timeout_seconds;
  if (server?.supports_openai !== undefined) entry.supports_openai = server.supports_openai;
  if (server?.supports_anthropic !== undefined) entry.supports_anthropic = server.supports_anthropic;
  return parseUpstreamEntry(entry, (message) => {
    throw new ConfigError(message);
  });
}

interface BuildContext {
  source: string;
  env: Record<string, string>;
  warnings: string[];
  fail: (message: string) => never;
  /** The key `listen.base_path` was given by, for messages. */
  basePathKey: string;
}

function build(file: ConfigFile, ctx: BuildContext): Config {
  const { fail, warnings } = ctx;
  if (file.upstreams && file.server?.target_base_url !== undefined) {
    warnings.push("server.target_base_url is ignored because upstreams is set");
  }
  const entries = file.upstreams ?? [legacyUpstream(file)];
  // Every upstream the proxy calls, the validator LLM included, is built here from an entry.
  const toUpstream = (entry: UpstreamFileEntry, at: string): UpstreamConfig => {
    if (!entry.supports_openai && !entry.supports_anthropic) {
      fail(`${at}: supports_openai and supports_anthropic cannot both be false`);
    }
    if (entry.api_key !== undefined && entry.api_key_env !== undefined) {
      fail(`${at}: give api_key or api_key_env, not both`);
    }
    let apiKey = entry.api_key;
    let missingKeyEnv: string | undefined;
    if (entry.api_key_env !== undefined) {
      apiKey = ctx.env[entry.api_key_env] || undefined;
      if (apiKey === undefined) {
        missingKeyEnv = entry.api_key_env;
        warnings.push(
          `${at}.api_key_env: environment variable ${missingKeyEnv} is not set; requests for upstream ` +
            `"${entry.name}" are answered 401 until it is set and the proxy restarted`,
        );
      }
    }
    const urlProblem = baseUrlProblem(entry.base_url);
    if (urlProblem) warnings.push(`${at}.base_url: ${displayUrl(entry.base_url)} ${urlProblem}`);
    const idleTimeoutMs = entry.timeout_seconds * 1000;
    // `protocols` wins; the legacy booleans map to the list in the registry's order.
    const protocols = entry.protocols ??
      DIALECT_NAMES.filter((name) => name === "openai_chat" ? entry.supports_openai : entry.supports_anthropic);
    return Object.freeze({
      name: entry.name,
      baseUrl: entry.base_url.replace(/\/+$/, ""),
      api: apiRoot(entry.base_url),
      apiKey,
      missingKeyEnv,
      connectTimeoutMs: entry.connect_timeout_seconds * 1000,
      responseTimeoutMs: (entry.response_timeout_seconds ?? entry.timeout_seconds) * 1000,
      idleTimeoutMs,
      maxDurationMs: entry.max_duration_seconds * 1000,
      maxResponseBytes: entry.max_response_bytes,
      maxEventBytes: entry.max_event_bytes,
      protocols,
      supportsOpenAI: protocols.includes("openai_chat"),
      supportsAnthropic: protocols.includes("anthropic_messages"),
      headers: Object.freeze({ ...entry.headers }),
      reasoningStyle: entry.reasoning_style,
      defaultMaxTokens: entry.default_max_tokens,
      sanitizeToolSchemas: entry.sanitize_tool_schemas,
      tokenize: entry.tokenize,
      forwardPaths: entry.forward_paths,
    });
  };
  const seen = new Set<string>();
  const upstreams = entries.map((entry, index) => {
    const at = file.upstreams ? `upstreams[${index}]` : "server";
    if (seen.has(entry.name)) fail(`${at}.name: duplicate upstream name "${entry.name}"`);
    seen.add(entry.name);
    return toUpstream(entry, at);
  });
  const validatorEntry = validatorUpstreamEntry(file.validation, fail);

  const bindingMap = file.model_upstream_binding ?? { "*": upstreams[0].name };
  if (!file.model_upstream_binding && upstreams.length > 1) {
    warnings.push(`model_upstream_binding is not set: every model goes to the first upstream "${upstreams[0].name}"`);
  }
  const bindings = Object.entries(bindingMap).map(([pattern, upstream]) => {
    if (!seen.has(upstream)) {
      fail(`model_upstream_binding["${pattern}"]: unknown upstream "${upstream}" (upstreams: ${[...seen].join(", ")})`);
    }
    return Object.freeze({ pattern, upstream });
  });

  const { listen, override, validation, queue, throttle } = file;
  const maxBodyBytes = listen.max_body_bytes;
  // A per-model pause key that is absent takes the global one; `null` stays (off).
  const globalPauses = {
    startPauseSeconds: throttle.global.start_pause_seconds,
    endPauseSeconds: throttle.global.end_pause_seconds,
  };
  const config: Config = {
    source: ctx.source,
    listen: {
      host: listen.host,
      port: listen.port,
      basePath: normaliseBasePath(listen.base_path, (message) => fail(`${ctx.basePathKey}: ${message}`)),
      maxBodyBytes,
      maxJsonDepth: listen.max_json_depth,
      maxJsonElements: listen.max_json_elements,
      bodyBudgetBytes: Math.max(listen.body_budget_bytes, maxBodyBytes),
      bodyWaitMs: listen.body_wait_seconds * 1000,
      maxConnections: listen.max_connections,
      headerTimeoutSeconds: listen.header_timeout_seconds,
      bodyTimeoutSeconds: listen.body_timeout_seconds,
      keepAliveTimeoutSeconds: listen.keep_alive_timeout_seconds,
      shutdownGraceSeconds: listen.shutdown_grace_seconds,
      allowedHosts: listen.allowed_hosts,
    },
    auth: { keys: clientKeys(file.auth, ctx) },
    upstreams,
    bindings,
    validator: validatorEntry && toUpstream(validatorEntry, "validation"),
    logging: {
      debug: file.logging.enable_debug_logs,
      overrides: file.logging.enable_override_logs,
      validation: file.logging.enable_validation_logs,
      dumpDir: expandHome(file.logging.dump_dir, ctx.env),
      dumpMaxBytes: file.logging.dump_max_bytes,
    },
    cors: { origins: file.cors.origins },
    healthCheck: {
      intervalMs: file.health_check.interval_seconds * 1000,
      timeoutMs: file.health_check.timeout_seconds * 1000,
    },
    sampling: {
      defaultParams: file.default_sampling_params,
      modelParams: file.model_sampling_params,
      forceParams: override.sampling_params,
      onlyAnthropic: override.only_anthropic,
      overrideModelName: override.model_name ?? undefined,
      developerToSystem: override.developer_to_system,
      rules: mapValues(file.models, (rule) => ({
        defaults: rule.defaults,
        force: rule.force,
        strip: rule.strip,
        rename: rule.rename,
        maxTokensCap: rule.max_tokens_cap,
        retrySampling: rule.retry_sampling,
      })),
    },
    parallelLimits: file.parallel_limits,
    queue: {
      maxWaiting: queue.max_waiting,
      timeoutSeconds: queue.timeout_seconds,
      status: queue.status,
      perModel: mapValues(queue.per_model, (bounds) => ({
        maxWaiting: bounds.max_waiting ?? queue.max_waiting,
        timeoutSeconds: bounds.timeout_seconds ?? queue.timeout_seconds,
      })),
    },
    throttle: {
      enabled: throttle.enabled,
      global: globalPauses,
      perModel: mapValues(throttle.per_model, (own) => ({
        startPauseSeconds: own.start_pause_seconds === undefined
          ? globalPauses.startPauseSeconds
          : own.start_pause_seconds,
        endPauseSeconds: own.end_pause_seconds === undefined ? globalPauses.endPauseSeconds : own.end_pause_seconds,
      })),
    },
    validation: {
      enabled: validation.enabled,
      localDetection: validation.local_detection,
      holdBackChars: validation.hold_back_chars,
      maxRetries: validation.max_retries,
      retryBaseDelaySeconds: validation.retry_base_delay_seconds,
      retryMultiplier: validation.retry_multiplier,
      retrySampling: validation.retry_sampling,
      onExhausted: validation.on_exhausted,
      midStreamValidationEnabled: validation.mid_stream_validation_enabled,
      midStreamValidationIntervalWords: validation.mid_stream_validation_interval_words,
      validatorModel: validation.validator_model,
      confidenceThreshold: validation.confidence_threshold,
    },
  };
  return deepFreeze(config);
}

/** `record` with each value mapped by `map`, keys in the same order. */
function mapValues<T, U>(record: Readonly<Record<string, T>>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

/** The client keys of `auth.keys`, `auth.keys_env` (comma-separated) and `auth.keys_file` (one per line). */
function clientKeys(auth: ConfigFile["auth"], ctx: BuildContext): string[] {
  const keys = [...auth.keys];
  if (auth.keys_env !== undefined) {
    const value = ctx.env[auth.keys_env];
    if (value === undefined || value.trim() === "") {
      ctx.fail(`auth.keys_env: environment variable ${auth.keys_env} is not set`);
    }
    keys.push(...value.split(","));
  }
  if (auth.keys_file !== undefined) {
    let text: string;
    try {
      text = Deno.readTextFileSync(auth.keys_file);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound ? "file not found" : errorMessage(error);
      return ctx.fail(`auth.keys_file: cannot read ${auth.keys_file}: ${reason}`);
    }
    keys.push(...text.split("\n").filter((line) => !line.trimStart().startsWith("#")));
  }
  const trimmed = [...new Set(keys.map((key) => key.trim()).filter((key) => key !== ""))];
  if (trimmed.length === 0 && (auth.keys_env !== undefined || auth.keys_file !== undefined)) {
    ctx.fail("auth: the configured key sources hold no key");
  }
  return trimmed;
}

function normaliseBasePath(value: string, fail: (message: string) => never): string {
  const trimmed = value.trim().replace(/\/{2,}/g, "/").replace(/\/+$/, "");
  if (trimmed === "") return "";
  if (/[?#\s]/.test(trimmed)) fail(`"${value}" is not a path`);
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

/** The user's home folder from the environment (`node:os` `homedir()` would need `--allow-sys`). */
function homedir(env: Record<string, string>): string {
  return env.HOME ?? env.USERPROFILE ?? ".";
}

function expandHome(path: string, env: Record<string, string>): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(env), path.slice(1)) : path;
}

/** Formats a JSON path the way a user reads it: `upstreams[0].base_url`, `models["qwen*"].force`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(top level)" : out;
}

/** Every problem as `path: message`, each after `prefix`, joined with semicolons. */
function formatProblems(problems: readonly Problem[], prefix = ""): string {
  return problems.map((problem) => `${prefix}${formatPath(problem.path)}: ${problem.message}`).join("; ");
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
