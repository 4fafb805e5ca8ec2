/**
 * The command-line entry: flags → config → `app.handler` behind the connection gate, with graceful shutdown on
 * SIGINT/SIGTERM (`shutdown.ts`).
 *
 * Prints one line to stdout once listening (`sampling-proxy listening on http://127.0.0.1:8001`), so scripts can
 * start it with `--port 0` and read the URL; with `--ready-file PATH` the URL is also written to PATH
 * (`ready_file.ts`). Logs go to stderr. Exit codes: 0 after a clean shutdown, 1 when it cannot listen, 2 for
 * a bad flag or config, or a dump folder or ready file it may not write, or missing client keys
 * (`--require-auth`, or a non-loopback bind without `--insecure-no-auth`); 130 or 143 when a second SIGINT or
 * SIGTERM cuts the shutdown short.
 *
 * `--probe URL` GETs a running proxy's URL and exits 0 on a 2xx answer, 1 otherwise (container health checks).
 *
 * `--check` resolves the config, prints each upstream's URLs, probes them and exits: 0 when every upstream's
 * models endpoint answered 2xx, 1 otherwise.
 *
 * @module
 */

import { App } from "./app.ts";
import { CliError, HELP_TEXT, parseCli } from "./cli.ts";
import { ConfigError, loadConfig } from "./config/load.ts";
import { configJsonSchema } from "./config/schema.ts";
import type { Config } from "./config/config.ts";
import { configSecrets } from "./config/secrets.ts";
import { authStartupProblem, isLoopback } from "./http/client_auth.ts";
import { type ConnectionGate, serveGated } from "./http/connection_gate.ts";
import { dumpDirProblem } from "./observability/dump_permission.ts";
import { createLogger } from "./observability/logger.ts";
import { Redactor } from "./observability/redact.ts";
import { probe } from "./probe.ts";
import { readyFileProblem, removeReadyFile, writeReadyFile } from "./ready_file.ts";
import { countOf } from "./observability/wording.ts";
import { displayUrl, upstreamEndpoints } from "./routing/upstream_url.ts";
import { stopOnSignal } from "./shutdown.ts";
import { COMMIT, VERSION } from "./version.ts";

/** Runs the proxy with `args`; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  let command;
  try {
    command = parseCli(args);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`sampling-proxy: ${error.message}\nRun sampling-proxy --help for usage.`);
      return 2;
    }
    throw error;
  }
  if (command.help) {
    console.log(HELP_TEXT);
    return 0;
  }
  if (command.version) {
    console.log(`sampling-proxy ${VERSION} (commit ${COMMIT})`);
    return 0;
  }
  if (command.probe !== undefined) return await probe(command.probe);
  if (command.printSchema) {
    console.log(JSON.stringify(configJsonSchema(), null, 2));
    return 0;
  }
  let loaded;
  try {
    loaded = await loadConfig(command.configPath, { cli: command.overrides });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`sampling-proxy: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const { config, warnings } = loaded;
  const authProblem = authStartupProblem({
    host: config.listen.host,
    hasKeys: config.auth.keys.length > 0,
    requireAuth: command.requireAuth,
    insecureNoAuth: command.insecureNoAuth,
  });
  if (authProblem) {
    console.error(`sampling-proxy: ${authProblem}`);
    return 2;
  }
  const logger = createLogger({ debug: config.logging.debug, redactor: new Redactor(configSecrets(config)) });
  for (const warning of warnings) logger.log("warn", warning);
  if (!isLoopback(config.listen.host) && config.auth.keys.length === 0) {
    logger.log("warn", `Listening on ${config.listen.host} without client keys (--insecure-no-auth)`);
  }
  logger.log("info", `Config: ${config.source}`);
  for (const u of config.upstreams) {
    const protocols = [u.supportsOpenAI && "openai", u.supportsAnthropic && "anthropic"].filter(Boolean).join("+");
    const endpoints = Object.entries(upstreamEndpoints(u)).map(([name, url]) => `${name} ${url}`).join(", ");
    logger.log("info", `Upstream "${u.name}": ${displayUrl(u.baseUrl)} (${protocols}) → ${endpoints}`);
  }
  for (const b of config.bindings) logger.log("info", `Binding: ${b.pattern} → ${b.upstream}`);

  const app = new App(config, { logger });
  logger.log("info", garbageDetectionLine(config, app));
  const dumpProblem = app.context.garbage.settings.enabled ? dumpDirProblem(config.logging.dumpDir) : undefined;
  if (command.check) return await check(app, dumpProblem);
  const startProblem = dumpProblem ?? (command.readyFile ? await readyFileProblem(command.readyFile) : undefined);
  if (startProblem) {
    console.error(`sampling-proxy: ${startProblem}`);
    return 2;
  }
  let gate: ConnectionGate;
  try {
    gate = serveGated(app.handler, {
      hostname: config.listen.host,
      port: config.listen.port,
      maxConnections: config.listen.maxConnections,
      headerTimeoutSeconds: config.listen.headerTimeoutSeconds,
      bodyTimeoutSeconds: config.listen.bodyTimeoutSeconds,
      keepAliveTimeoutSeconds: config.listen.keepAliveTimeoutSeconds,
      log: (level, message) => logger.log(level, message),
      onError: (error) => {
        logger.log("error", `Unhandled error: ${error instanceof Error ? error.stack : String(error)}`);
        return new Response("Internal error", { status: 500 });
      },
    });
  } catch (error) {
    console.error(`sampling-proxy: cannot listen on ${config.listen.host}:${config.listen.port}: ${String(error)}`);
    return 1;
  }
  app.upstreamHealth.start();
  // Signals are handled from before the listening line, which scripts take as "ready".
  const stopped = stopOnSignal(gate, app.context.drain, {
    graceSeconds: config.listen.shutdownGraceSeconds,
    log: (level, message) => logger.log(level, message),
  });
  const { hostname, port } = gate.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `http://${host}:${port}${config.listen.basePath}`;
  if (command.readyFile) {
    try {
      await writeReadyFile(command.readyFile, url);
    } catch (error) {
      logger.log("error", `Cannot write --ready-file ${command.readyFile}: ${String(error)}`);
      await app.upstreamHealth.stop();
      await gate.close();
      return 1;
    }
  }
  console.log(`sampling-proxy listening on ${url}`);
  await stopped;
  await app.upstreamHealth.stop();
  if (command.readyFile) await removeReadyFile(command.readyFile);
  return 0;
}

/**
 * `--check`: probes every upstream once and prints what it found, and the dump folder problem start would refuse;
 * 0 when all answered 2xx and there is none.
 */
async function check(app: App, dumpProblem: string | undefined): Promise<number> {
  const results = await app.upstreamHealth.probeAll();
  const lines: string[] = [];
  for (const u of app.context.config.upstreams) {
    const probe = results.find((r) => r.upstream === u.name);
    lines.push(`upstream "${u.name}": ${displayUrl(u.baseUrl)}`);
    for (const [name, url] of Object.entries(upstreamEndpoints(u))) lines.push(`  ${name.padEnd(9)}${url}`);
    lines.push(`  ${"probe".padEnd(9)}${probe?.lastError ? `FAILED: ${probe.lastError}` : `ok (${probe?.status})`}`);
  }
  const failed = results.filter((r) => r.lastError !== null).length;
  const total = results.length;
  lines.push(
    failed === 0 ? `All ${countOf(total, "upstream")} answered` : `${failed} of ${countOf(total, "upstream")} failed`,
  );
  if (dumpProblem) lines.push(`FAILED: ${dumpProblem}`);
  console.log(lines.join("\n"));
  return failed === 0 && !dumpProblem ? 0 : 1;
}

/** The start line that says whether garbage detection is on, and with which validator. */
function garbageDetectionLine(config: Config, app: App): string {
  const { settings, validator, attempts } = app.context.garbage;
  if (!settings.enabled) return "Garbage detection: off (validation.enabled is false)";
  const url = config.validator?.baseUrl;
  const second = validator && url
    ? `validator ${config.validation.validatorModel} at ${displayUrl(url)}`
    : "no validator";
  const local = settings.localDetection ? "local loop detector" : "local loop detector off";
  return `Garbage detection: on (${local}, ${second}, up to ${countOf(attempts, "attempt")} per request)`;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
