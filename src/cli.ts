/**
 * Command-line flags → config overrides. Keeps the seed's flags (including the README's `--enforce-params`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CliOverrides } from "./config/load.ts";
import { didYouMean } from "./config/suggest.ts";

/** A flag that cannot be used; the message says which and why. Exit code 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** What the command line asks for. */
export interface CliCommand {
  /** `--help`: print {@link HELP_TEXT} and exit. */
  help: boolean;
  /** `--version`: print the version and exit. */
  version: boolean;
  /** `--print-schema`: print the config JSON Schema and exit. */
  printSchema: boolean;
  /** `--check`: resolve the config, probe every upstream, report and exit. */
  check: boolean;
  /** `--require-auth`: refuse to start without client keys. */
  requireAuth: boolean;
  /** `--insecure-no-auth`: start without client keys even when not on loopback. */
  insecureNoAuth: boolean;
  /** `--config`, if given. */
  configPath: string | undefined;
  /** `--probe URL`: GET URL and exit 0 on a 2xx answer, 1 otherwise (`probe.ts`). */
  probe: string | undefined;
  /** `--ready-file`, if given: where the URL is written once listening (`ready_file.ts`). */
  readyFile: string | undefined;
  /** Values that replace the config file's. */
  overrides: CliOverrides;
}

/** The `--help` text. */
export const HELP_TEXT = `sampling-proxy: an LLM proxy for OpenAI and Anthropic clients and servers

Usage: sampling-proxy [options]

Options:
  -c, --config PATH              Config file (default: ./config.json when present, else built-in defaults)
      --host HOST                Address to listen on (default 127.0.0.1)
      --port PORT                Port to listen on (default 8001; 0 picks a free port)
      --base-path PATH           Prefix of every route, e.g. /proxy
      --ready-file PATH          Once listening, write the URL to PATH (atomically; removed on a clean stop)
      --target-base-url URL      Upstream URL; repeatable. URL replaces the only upstream's URL,
                                 name=URL replaces that upstream's URL or adds an upstream
      --model-bindings JSON      Model → upstream bindings, e.g. '{"glm-*":"zai","*":"local"}'
  -e, --enforce-params JSON      Forced sampling params, e.g. '{"temperature":0.6}'
      --override-sampling-params JSON   Same as --enforce-params (the seed's name)
      --override-model-name NAME Model name sent upstream instead of the client's
      --override-only-anthropic  Apply overrides to Anthropic clients only
      --parallel-limits JSON     Concurrency limits, e.g. '{"global":4,"qwen*":1}'
      --require-auth             Refuse to start unless client keys (auth.keys) are configured
      --insecure-no-auth         Start without client keys on a non-loopback address (anyone who
                                 can reach the port can use the upstreams and their keys)
  -d, --debug-logs               Debug logging
  -o, --override-logs            Log every parameter override
      --check                    Resolve the config, print each upstream's URLs, probe them and exit
                                 (0 when every upstream answers, 1 otherwise)
      --print-schema             Print the config file's JSON Schema and exit
      --probe URL                GET URL (e.g. http://127.0.0.1:8001/health) and exit 0 on a 2xx
                                 answer, 1 otherwise (a container health check)
  -V, --version                  Print the version and exit
  -h, --help                     Print this help and exit

Precedence: command line > config file > built-in defaults.
Logs go to stderr; stdout carries only the "listening on URL" line.
Exit codes: 0 ok, 1 runtime failure (e.g. port in use), 2 bad flag or config (or missing client keys).`;

const OPTIONS = {
  config: { type: "string", short: "c" },
  host: { type: "string" },
  port: { type: "string" },
  "base-path": { type: "string" },
  "ready-file": { type: "string" },
  "target-base-url": { type: "string", multiple: true },
  "model-bindings": { type: "string" },
  "enforce-params": { type: "string", short: "e" },
  "override-sampling-params": { type: "string" },
  "override-model-name": { type: "string" },
  "override-only-anthropic": { type: "boolean" },
  "parallel-limits": { type: "string" },
  "require-auth": { type: "boolean" },
  "insecure-no-auth": { type: "boolean" },
  "debug-logs": { type: "boolean", short: "d" },
  "override-logs": { type: "boolean", short: "o" },
  check: { type: "boolean" },
  "print-schema": { type: "boolean" },
  probe: { type: "string" },
  version: { type: "boolean", short: "V" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Parses `args` (without the program name).
 *
 * @throws {CliError} for unknown flags, missing values and values of the wrong form
 */
export function parseCli(args: string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: OPTIONS,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    const unknown = /^Unknown option '(-[^']*)'$/.exec(message)?.[1];
    const flags = Object.keys(OPTIONS).map((name) => `--${name}`);
    throw new CliError(unknown === undefined ? message : `${message}${didYouMean(unknown, flags)}`);
  }
  const v = parsed.values;
  const overrides: CliOverrides = {};
  if (v.host !== undefined) {
    if (v.host.trim() === "") throw new CliError("--host needs an address");
    overrides.host = v.host;
  }
  if (v.port !== undefined) overrides.port = parsePort(v.port);
  if (v["base-path"] !== undefined) overrides.basePath = v["base-path"];
  if (v.probe !== undefined) parseHttpUrl("--probe", v.probe);
  if (v["ready-file"] !== undefined && v["ready-file"].trim() === "") throw new CliError("--ready-file needs a path");
  if (v["target-base-url"]) overrides.targets = v["target-base-url"].map(parseTarget);
  if (v["model-bindings"] !== undefined) {
    overrides.bindings = parseJsonObject("--model-bindings", v["model-bindings"], (key, value) => {
      if (typeof value !== "string") throw new CliError(`--model-bindings: "${key}" must map to an upstream name`);
      return value;
    });
  }
  const forced = v["enforce-params"] ?? v["override-sampling-params"];
  if (v["enforce-params"] !== undefined && v["override-sampling-params"] !== undefined) {
    throw new CliError("--enforce-params and --override-sampling-params are the same flag; give one");
  }
  if (forced !== undefined) {
    const flag = v["enforce-params"] === undefined ? "--override-sampling-params" : "--enforce-params";
    overrides.forceParams = parseJsonObject(flag, forced, (_key, value) => value);
  }
  if (v["override-model-name"] !== undefined) overrides.overrideModelName = v["override-model-name"];
  if (v["override-only-anthropic"]) overrides.onlyAnthropic = true;
  if (v["parallel-limits"] !== undefined) {
    overrides.parallelLimits = parseJsonObject("--parallel-limits", v["parallel-limits"], (key, value) => {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
        throw new CliError(`--parallel-limits: "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
      }
      return value;
    });
  }
  if (v["debug-logs"]) overrides.debug = true;
  if (v["override-logs"]) overrides.overrideLogs = true;
  return {
    help: v.help ?? false,
    version: v.version ?? false,
    printSchema: v["print-schema"] ?? false,
    check: v.check ?? false,
    requireAuth: v["require-auth"] ?? false,
    insecureNoAuth: v["insecure-no-auth"] ?? false,
    configPath: v.config,
    probe: v.probe,
    readyFile: v["ready-file"],
    overrides,
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new CliError(`--port must be a number from 0 to 65535, got "${text}"`);
  return port;
}

function parseTarget(text: string): { name?: string; url: string } {
  const match = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(text);
  const name = match?.[1];
  const url = match ? match[2] : text;
  parseHttpUrl("--target-base-url", url, " (expected http://host:port[/path] or name=URL)");
  return name === undefined ? { url } : { name, url };
}

function parseHttpUrl(flag: string, url: string, expected = ""): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`${flag}: "${url}" is not a URL${expected}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CliError(`${flag}: "${url}" must use http or https`);
  }
}

function parseJsonObject<T>(flag: string, text: string, check: (key: string, value: unknown) => T): Record<string, T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${flag}: invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CliError(`${flag}: expected a JSON object, got ${JSON.stringify(value)}`);
  }
  const out: Record<string, T> = {};
  for (const [key, item] of Object.entries(value)) out[key] = check(key, item);
  return out;
}
