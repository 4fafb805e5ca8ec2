/**
 * The command-line entry: flags → config → `Deno.serve(app.handler)`, with graceful shutdown on SIGINT/SIGTERM.
 *
 * Prints one line to stdout once listening (`sampling-proxy listening on http://127.0.0.1:8001`), so scripts can
 * start it with `--port 0` and read the URL. Exit codes: 0 after a clean shutdown, 1 when it cannot listen, 2 for
 * a bad flag or config, or for missing client keys (`--require-auth`, or a non-loopback bind without
 * `--insecure-no-auth`).
 *
 * @module
 */

import { App } from "./app.ts";
import { CliError, HELP_TEXT, parseCli } from "./cli.ts";
import { ConfigError, loadConfig } from "./config/load.ts";
import { configJsonSchema } from "./config/schema.ts";
import { configSecrets } from "./config/secrets.ts";
import { authStartupProblem, isLoopback } from "./http/client_auth.ts";
import { createLogger } from "./observability/logger.ts";
import { Redactor } from "./observability/redact.ts";
import { displayUrl } from "./routing/upstream_url.ts";
import { VERSION } from "./version.ts";

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
    console.log(`sampling-proxy ${VERSION}`);
    return 0;
  }
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
    logger.log("info", `Upstream "${u.name}": ${displayUrl(u.baseUrl)} (${protocols})`);
  }
  for (const b of config.bindings) logger.log("info", `Binding: ${b.pattern} → ${b.upstream}`);

  const app = new App(config, { logger });
  const shutdown = new AbortController();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.listen.host,
      port: config.listen.port,
      signal: shutdown.signal,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        console.log(`sampling-proxy listening on http://${host}:${port}${config.listen.basePath}`);
      },
      onError: (error) => {
        logger.log("error", `Unhandled error: ${error instanceof Error ? error.stack : String(error)}`);
        return new Response("Internal error", { status: 500 });
      },
    }, app.handler);
  } catch (error) {
    console.error(`sampling-proxy: cannot listen on ${config.listen.host}:${config.listen.port}: ${String(error)}`);
    return 1;
  }
  const stop = () => {
    logger.log("info", "Shutting down");
    shutdown.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
