/**
 * Loading the configuration: file → JSON → legacy wrapping → CLI flags → schema → cross-checks → {@link Config}.
 *
 * Phases, in order:
 * 1. Read the file (`--config`, else `./config.json` when present, else built-in defaults).
 * 2. Parse JSON with comments and trailing commas (JSONC); a syntax error names the file, the line and the column.
 * 3. Merge CLI flags into the raw object (CLI > file > defaults).
 * 4. Validate with the schema; unknown keys become warnings and are dropped, except at the top level, where a
 *    misspelt section (`upstream`) would silently leave the defaults in force, so it is an error; each names the
 *    nearest known key. Anything else is an error naming the file and, for every problem, its JSON path and what
 *    is wrong.
 * 5. Wrap the legacy `server` form into one upstream, apply defaults, check cross-references (binding names,
 *    duplicate upstreams) and freeze. An unset `api_key_env` variable is a warning, not an error: that upstream
 *    answers 401 naming the variable, and the rest of the proxy works.
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

/** The default upstream: llama.cpp's `llama-server` on its default port. */
export const DEFAULT_UPSTREAM_URL = "http://127.0.0.1:8080/v1";
/** The seed's legacy default `server.target_base_url`, kept for legacy files that omit it. */
const LEGACY_DEFAULT_UPSTREAM_URL = "http://127.0.0.1:8000/v1";
/** Loopback by default: the proxy forwards credentials, so exposing it is a decision the user makes. */
export const DEFAULT_HOST = "127.0.0.1";
/** The seed's port. */
export const DEFAULT_PORT = 8001;
/** 16 MiB: far above what coding agents send (a long session is a few MiB), far below what hurts to parse. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Real requests nest tool schemas a few dozen levels deep at most. */
export const DEFAULT_MAX_JSON_DEPTH = 128;
/** A long agent session has tens of thousands of values; `{},{},…` bombs have millions. */
export const DEFAULT_MAX_JSON_ELEMENTS = 500_000;
/** Four largest bodies at once. */
const DEFAULT_BODY_BUDGET_BYTES = 64 * 1024 * 1024;
const DEFAULT_BODY_WAIT_SECONDS = 10;
/** Slow-client timeouts, as nginx's `client_header_timeout`, `client_body_timeout` and `keepalive_timeout`. */
const DEFAULT_HEADER_TIMEOUT_SECONDS = 60;
const DEFAULT_BODY_TIMEOUT_SECONDS = 60;
const DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS = 75;
/** Time in-flight requests get on SIGTERM/SIGINT, within systemd's 90 s stop timeout. */
const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;
/** The validator's `timeout_seconds`: the seed's 300 s would freeze a held stream that long. */
const DEFAULT_VALIDATOR_TIMEOUT_SECONDS = 30;
/** Seconds between upstream probes. */
export const DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS = 30;
/** A probe is a model list: a live upstream answers it at once. */
export const DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS = 5;
/** Failure dumps are capped so a looping model cannot fill the disk. */
const DEFAULT_DUMP_MAX_BYTES = 50 * 1024 * 1024;

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
  const file = validate(raw as Record<string, unknown>, warnings, fail);
  const merged = applyCli(file, options.cli ?? {}, fail);
  return { config: build(merged, { source, env, warnings, fail }), warnings };
}

function validate(
  raw: Record<string, unknown>,
  warnings: string[],
  fail: (message: string) => never,
): ConfigFile {
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
  return result.value;
}

/** Top-level keys of older seed versions, and where their settings live now. */
const RENAMED: Readonly<Record<string, string>> = { enforced_sampling_params: "override.sampling_params" };

function applyCli(file: ConfigFile, cli: CliOverrides, fail: (message: string) => never): ConfigFile {
  const out: ConfigFile = structuredClone(file);
  if (cli.host !== undefined || cli.port !== undefined || cli.basePath !== undefined) {
    const legacy = out.server ?? {};
    out.listen = {
      host: legacy.sampling_proxy_host,
      port: legacy.sampling_proxy_port,
      base_path: legacy.sampling_proxy_base_path,
      ...out.listen,
      ...(cli.host !== undefined ? { host: cli.host } : {}),
      ...(cli.port !== undefined ? { port: cli.port } : {}),
      ...(cli.basePath !== undefined ? { base_path: cli.basePath } : {}),
    };
  }
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
  if (cli.debug || cli.overrideLogs) {
    out.logging = {
      ...out.logging,
      ...(cli.debug ? { enable_debug_logs: true } : {}),
      ...(cli.overrideLogs ? { enable_override_logs: true } : {}),
    };
  }
  if (cli.forceParams || cli.overrideModelName !== undefined || cli.onlyAnthropic) {
    out.override = {
      ...out.override,
      ...(cli.forceParams ? { sampling_params: cli.forceParams } : {}),
      ...(cli.overrideModelName !== undefined ? { model_name: cli.overrideModelName } : {}),
      ...(cli.onlyAnthropic ? { only_anthropic: true } : {}),
    };
  }
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
 * `connect_timeout_seconds` and `timeout_seconds` (default 30, for the response and the whole call). None when
 * garbage detection or the validator is off, or no `validator_url` is set.
 */
function validatorUpstreamEntry(
  validation: NonNullable<ConfigFile["validation"]>,
  fail: (message: string) => never,
): UpstreamFileEntry | undefined {
  if (!validation.enabled || validation.validator_enabled === false || validation.validator_url === undefined) {
    return undefined;
  }
  // The schema reads an undefined key as absent: unset settings take the upstream defaults.
  const entry = {
    name: "validator",
    base_url: validation.validator_url,
    timeout_seconds: validation.timeout_seconds ?? DEFAULT_VALIDATOR_TIMEOUT_SECONDS,
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
  const validatorEntry = validatorUpstreamEntry(file.validation ?? {}, fail);

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

  const legacy = file.server;
  const host = file.listen?.host ?? legacy?.sampling_proxy_host ?? DEFAULT_HOST;
  const basePathKey = file.listen?.base_path === undefined ? "server.sampling_proxy_base_path" : "listen.base_path";
  const basePath = normaliseBasePath(
    file.listen?.base_path ?? legacy?.sampling_proxy_base_path ?? "",
    (message) => fail(`${basePathKey}: ${message}`),
  );
  const maxBodyBytes = file.listen?.max_body_bytes ?? DEFAULT_MAX_BODY_BYTES;
  const listen = Object.freeze({
    host,
    port: file.listen?.port ?? legacy?.sampling_proxy_port ?? DEFAULT_PORT,
    basePath,
    maxBodyBytes,
    maxJsonDepth: file.listen?.max_json_depth ?? DEFAULT_MAX_JSON_DEPTH,
    maxJsonElements: file.listen?.max_json_elements ?? DEFAULT_MAX_JSON_ELEMENTS,
    bodyBudgetBytes: Math.max(file.listen?.body_budget_bytes ?? DEFAULT_BODY_BUDGET_BYTES, maxBodyBytes),
    bodyWaitMs: (file.listen?.body_wait_seconds ?? DEFAULT_BODY_WAIT_SECONDS) * 1000,
    maxConnections: file.listen?.max_connections,
    headerTimeoutSeconds: file.listen?.header_timeout_seconds ?? DEFAULT_HEADER_TIMEOUT_SECONDS,
    bodyTimeoutSeconds: file.listen?.body_timeout_seconds ?? DEFAULT_BODY_TIMEOUT_SECONDS,
    keepAliveTimeoutSeconds: file.listen?.keep_alive_timeout_seconds ?? DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
    shutdownGraceSeconds: file.listen?.shutdown_grace_seconds ?? DEFAULT_SHUTDOWN_GRACE_SECONDS,
    allowedHosts: file.listen?.allowed_hosts ?? [],
  });

  const override = file.override ?? {};
  const config: Config = {
    source: ctx.source,
    listen,
    auth: { keys: clientKeys(file.auth ?? {}, ctx) },
    upstreams: Object.freeze(upstreams),
    bindings: Object.freeze(bindings),
    validator: validatorEntry && toUpstream(validatorEntry, "validation"),
    logging: Object.freeze({
      debug: file.logging?.enable_debug_logs ?? false,
      overrides: file.logging?.enable_override_logs ?? false,
      validation: file.logging?.enable_validation_logs ?? false,
      dumpDir: expandHome(file.logging?.dump_dir ?? join(homedir(ctx.env), ".sampling-proxy", "logs"), ctx.env),
      dumpMaxBytes: file.logging?.dump_max_bytes ?? DEFAULT_DUMP_MAX_BYTES,
    }),
    cors: { origins: file.cors?.origins ?? [] },
    healthCheck: Object.freeze({
      intervalMs: (file.health_check?.interval_seconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS) * 1000,
      timeoutMs: (file.health_check?.timeout_seconds ?? DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS) * 1000,
    }),
    sampling: {
      defaultParams: file.default_sampling_params ?? {},
      modelParams: file.model_sampling_params ?? {},
      forceParams: override.sampling_params ?? {},
      onlyAnthropic: override.only_anthropic ?? false,
      overrideModelName: override.model_name ?? undefined,
      developerToSystem: override.developer_to_system ?? false,
      rules: file.models ?? {},
    },
    parallelLimits: file.parallel_limits ?? {},
    queue: file.queue ?? {},
    throttle: file.throttle ?? {},
    validation: file.validation ?? {},
  };
  return deepFreeze(config);
}

/** The client keys of `auth.keys`, `auth.keys_env` (comma-separated) and `auth.keys_file` (one per line). */
function clientKeys(auth: NonNullable<ConfigFile["auth"]>, ctx: BuildContext): string[] {
  const keys = [...(auth.keys ?? [])];
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
