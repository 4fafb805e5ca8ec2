/**
 * The command-line entry point as a user runs it: a real `deno run src/main.ts` process with the permissions of
 * `deno task start`.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { chatBody, messagesBody, proxyConfig, waitUntil } from "./e2e/harness.ts";
import { closedPort } from "./support/black_hole.ts";
import { postJson } from "./support/http.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "./support/mock_upstream.ts";
import { readSse } from "./support/sse.ts";

const MAIN = fromFileUrl(new URL("../src/main.ts", import.meta.url));
const CONFIG = fromFileUrl(new URL("../deno.json", import.meta.url));
/** The permissions `deno task start` grants, minus the dump folder (tests write nothing there). */
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-env"];

/**
 * The proxy as a command; with `fdLimit`, started by `sh` under `ulimit -n fdLimit` (not on Windows); `write`
 * grants write permission to those paths.
 */
function command(args: string[], fdLimit?: number, write: string[] = []): Deno.Command {
  const writable = write.length > 0 ? [`--allow-write=${write.join(",")}`] : [];
  const deno = [Deno.execPath(), "run", "--config", CONFIG, ...PERMISSIONS, ...writable, MAIN, ...args];
  const [program, ...rest] = fdLimit === undefined
    ? deno
    : ["sh", "-c", `ulimit -n ${fdLimit} && exec "$@"`, "sh", ...deno];
  return new Deno.Command(program, {
    args: rest,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(args: string[], write: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await command(args, undefined, write).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Reads `child`'s stdout up to its first line: the URL it says it listens on, and the reader to cancel afterwards. */
async function listening(
  child: Deno.ChildProcess,
): Promise<{ url: string | undefined; out: string; stdout: ReadableStreamDefaultReader<string> }> {
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { done, value } = await stdout.read();
    if (done) break;
    out += value;
  }
  return { url: /listening on (http:\/\/\S+)/.exec(out)?.[1], out, stdout };
}

Deno.test("main prints the listening URL, serves /health and exits 0 on SIGTERM", async () => {
  const child = command(["--port", "0", "--target-base-url", "http://127.0.0.1:9/v1"]).spawn();
  const { url, out, stdout: lines } = await listening(child);
  assert.ok(url, `no listening line in ${JSON.stringify(out)}`);
  const health = await (await fetch(`${url}/health`)).json();
  assert.ok(["ok", "degraded"].includes(health.status), health.status);
  assert.equal(health.upstreams[0].url, "http://127.0.0.1:9/v1");
  child.kill("SIGTERM");
  const status = await child.status;
  await lines.cancel();
  await child.stderr.cancel();
  assert.equal(status.code, 0);
});

Deno.test("main exits 2 with a clear message for a bad flag", async () => {
  const result = await run(["--port", "abc"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--port must be a number from 0 to 65535, got "abc"/);
});

Deno.test("main exits 2 naming the file and the JSON path for a bad config", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, JSON.stringify({ upstreams: [{ name: "a", base_url: "not a url" }] }));
    const result = await run(["-c", path]);
    assert.equal(result.code, 2);
    assert.ok(result.stderr.includes(path), result.stderr);
    assert.match(result.stderr, /upstreams\[0\]\.base_url/);
    const missing = await run(["-c", `${path}.missing`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /file not found/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("main prints help and version", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--target-base-url URL/);
  const version = await run(["-V"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^sampling-proxy \d+\.\d+\.\d+ \(commit source\)$/m);
});

Deno.test("main --ready-file writes the URL once listening, over a stale file, and removes it after SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const ready = `${dir}/ready`;
  await Deno.writeTextFile(ready, "http://stale.invalid\n");
  const child = command(
    ["--port", "0", "--ready-file", ready, "--target-base-url", "http://127.0.0.1:9/v1"],
    undefined,
    [
      dir,
    ],
  ).spawn();
  const { url, out, stdout: lines } = await listening(child);
  assert.ok(url, `no listening line in ${JSON.stringify(out)}`);
  assert.equal(await Deno.readTextFile(ready), `${url}\n`);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["ready"], "no temporary file left");
  const health = await (await fetch(`${(await Deno.readTextFile(ready)).trim()}/health`)).json();
  assert.equal(health.commit, "source");
  child.kill("SIGTERM");
  const status = await child.status;
  await lines.cancel();
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  await assert.rejects(Deno.stat(ready), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("main --probe exits 0 when the URL answers 2xx and 1 with a reason when it does not", async () => {
  const child = command(["--port", "0", "--target-base-url", "http://127.0.0.1:9/v1"]).spawn();
  const { url, out, stdout: lines } = await listening(child);
  try {
    assert.ok(url, `no listening line in ${JSON.stringify(out)}`);
    assert.equal((await run(["--probe", `${url}/health`])).code, 0);
    const missing = await run(["--probe", `${url}/no-such-route`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /answered 404/);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await lines.cancel();
    await child.stderr.cancel();
  }
  const closed = await run(["--probe", `http://127.0.0.1:${closedPort()}/health`]);
  assert.equal(closed.code, 1);
  assert.match(closed.stderr, /sampling-proxy: http:\/\/127\.0\.0\.1:\d+\/health: /);
});

Deno.test("main --ready-file exits 2 before listening when the file cannot be written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const denied = await run(["--port", "0", "--ready-file", `${dir}/ready`]);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /--ready-file .*ready: no read and write permission/);
    assert.doesNotMatch(denied.stdout, /listening/);
    const missing = await run(["--port", "0", "--ready-file", `${dir}/no/such/ready`], [dir]);
    assert.match(missing.stderr, /NotFound/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--ready-file .*no[/\\]such/);
    assert.doesNotMatch(missing.stdout, /listening/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A running `main` child with a config around `mock`: its URL, and its stderr as it comes. */
interface Child extends AsyncDisposable {
  process: Deno.ChildProcess;
  url: string;
  /** Resolves once stderr has a line containing `text`. */
  logged(text: string): Promise<void>;
}

async function startChild(
  mock: MockUpstream,
  options: { listen?: Record<string, unknown>; config?: Record<string, unknown>; fdLimit?: number } = {},
): Promise<Child> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  const config = { ...proxyConfig(mock, { config: options.config }), listen: { port: 0, ...options.listen } };
  await Deno.writeTextFile(path, JSON.stringify(config));
  const process = command(["-c", path], options.fdLimit).spawn();
  const { url, out, stdout } = await listening(process);
  let err = "";
  const stderrDone = process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (err += text) }),
  );
  assert.ok(url, `no listening line in ${JSON.stringify(out)}`);
  return {
    process,
    url,
    logged: (text) => waitUntil(() => err.includes(text), `"${text}" in the log`),
    async [Symbol.asyncDispose]() {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await process.status;
      await stdout.cancel();
      await stderrDone;
      await Deno.remove(path);
    },
  };
}

Deno.test("main on SIGTERM lets a stream in flight finish, answers a queued request 503, refuses new connections and exits 0", async () => {
  await using mock = await startMockUpstream({
    scenario: (): Scenario => ({ text: "one two three four five", chunks: 5, chunkDelayMs: 300 }),
  });
  await using child = await startChild(mock, {
    listen: { shutdown_grace_seconds: 20 },
    config: { parallel_limits: { global: 1 } },
  });
  const response = await postJson(`${child.url}/v1/messages`, messagesBody("m", { stream: true }));
  const queued = postJson(`${child.url}/v1/chat/completions`, chatBody("m"));
  await child.logged("Queueing for global limit");
  child.process.kill("SIGTERM");
  await child.logged("SIGTERM: shutting down");
  const refused = await queued;
  assert.equal(refused.status, 503);
  assert.match((await refused.json()).error.message, /shutting down/);
  await assert.rejects(fetch(`${child.url}/health`));
  const events = await readSse(response);
  assert.equal(events.at(-1)?.event, "message_stop");
  assert.equal((await child.process.status).code, 0);
});

Deno.test("main ends a stream with an error event after the grace, and a second signal exits at once", async () => {
  await using mock = await startMockUpstream({
    scenario: (): Scenario => ({ text: "never", hang: { afterChunks: 1 } }),
  });
  {
    await using child = await startChild(mock, { listen: { shutdown_grace_seconds: 0.2 } });
    const response = await postJson(`${child.url}/v1/chat/completions`, chatBody("m", { stream: true }));
    child.process.kill("SIGTERM");
    const events = await readSse(response);
    assert.match(JSON.parse(events.at(-1)?.data ?? "{}").error?.message, /shut down/);
    assert.equal((await child.process.status).code, 0);
  }
  await using child = await startChild(mock, { listen: { shutdown_grace_seconds: 60 } });
  const response = await postJson(`${child.url}/v1/chat/completions`, chatBody("m", { stream: true }));
  child.process.kill("SIGTERM");
  await child.logged("SIGTERM: shutting down");
  child.process.kill("SIGTERM");
  assert.equal((await child.process.status).code, 143);
  await response.body?.cancel();
});

Deno.test("main logs SIGHUP and keeps serving", async () => {
  await using mock = await startMockUpstream();
  await using child = await startChild(mock);
  child.process.kill("SIGHUP");
  await child.logged("SIGHUP: config reload is not supported");
  const health = await fetch(`${child.url}/health`);
  assert.equal((await health.json()).status, "ok");
  await stopCleanly(child);
});

/** Sends SIGTERM to `child` and checks that it exits 0. */
async function stopCleanly(child: Child): Promise<void> {
  child.process.kill("SIGTERM");
  assert.equal((await child.process.status).code, 0);
}

/**
 * Opens `count` idle connections to `child` and runs `during` (which may open more with `connect`), closes them all,
 * then checks that `/health` answers again and that the child still stops cleanly.
 */
async function recoversFromIdleConnections(
  child: Child,
  count: number,
  during: (connect: () => Promise<Deno.Conn>) => Promise<void>,
): Promise<void> {
  const port = Number(new URL(child.url).port);
  const idle: Deno.Conn[] = [];
  const connect = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    idle.push(conn);
    return conn;
  };
  try {
    for (let i = 0; i < count; i++) await connect();
    await during(connect);
  } finally {
    for (const conn of idle) conn.close();
  }
  await waitUntil(async () => {
    const response = await fetch(`${child.url}/health`).catch(() => undefined);
    await response?.body?.cancel();
    return response?.status === 200;
  }, "/health to answer again");
  await stopCleanly(child);
}

Deno.test({
  name: "main survives more idle connections than its open-file limit and serves again once they close",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using mock = await startMockUpstream();
    // 256 descriptors, which Deno does not let the proxy read without --allow-all: 300 connections exhaust them,
    // and the gate learns the limit from the first "too many open files".
    await using child = await startChild(mock, { fdLimit: 256 });
    await recoversFromIdleConnections(child, 300, async (connect) => {
      // Connections are accepted in order: once this one is answered (503) or closed, all before it were handled.
      const last = await connect();
      await last.write(new TextEncoder().encode("GET /health HTTP/1.1\r\nhost: x\r\n\r\n"));
      const buffer = new Uint8Array(1024);
      const n = await last.read(buffer).catch(() => null);
      if (n !== null) assert.match(new TextDecoder().decode(buffer.subarray(0, n)), /^HTTP\/1\.1 503 /);
      await child.logged("listen.max_connections lowered to");
    });
  },
});

Deno.test({
  name: "main recovers when the process runs out of descriptors beyond a too-high max_connections",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using mock = await startMockUpstream();
    // The cap does not protect here: descriptors run out inside the gate or its inner server, which restarts.
    await using child = await startChild(mock, { fdLimit: 128, listen: { max_connections: 1000 } });
    await recoversFromIdleConnections(child, 150, () => child.logged("Too many open files"));
  },
});

/** Runs `main` with `args` and a config file holding `config`; removes the file afterwards. */
async function runWithConfig(
  config: Record<string, unknown>,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, JSON.stringify(config));
    return await run(["-c", path, ...args]);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("main --check prints each upstream's resolved URLs, probes them and exits 0 when all answer", async () => {
  await using mock = await startMockUpstream();
  const result = await runWithConfig({
    upstreams: [{ name: "local", base_url: `${mock.origin}?key=secret-in-url`, supports_anthropic: true }],
  }, ["--check"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /upstream "local": http:\/\/127\.0\.0\.1:\d+\/\?key=\*\*\*/);
  assert.match(result.stdout, /chat {5}http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\?key=\*\*\*/);
  assert.match(result.stdout, /messages http:\/\/127\.0\.0\.1:\d+\/v1\/messages/);
  assert.match(result.stdout, /probe {4}ok \(200\)/);
  assert.match(result.stdout, /All 1 upstream answered/);
  assert.doesNotMatch(result.stdout + result.stderr, /secret-in-url/);
  assert.match(result.stderr, /Upstream "local": .* → chat http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
  assert.equal(mock.requests.length, 1);
});

Deno.test("main --check exits 1 naming the upstream that does not answer", async () => {
  const mock = await startMockUpstream();
  await mock.close();
  await using live = await startMockUpstream();
  const result = await runWithConfig({
    upstreams: [{ name: "dead", base_url: mock.url }, { name: "live", base_url: live.url }],
    model_upstream_binding: { "*": "live" },
  }, ["--check"]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /upstream "dead"[^]*probe {4}FAILED: /);
  assert.match(result.stdout, /upstream "live"[^]*probe {4}ok \(200\)/);
  assert.match(result.stdout, /1 of 2 upstreams failed/);
});

Deno.test("main starts config_sample.json as shipped, without ZAI_API_KEY, and says so", async () => {
  const sample = fromFileUrl(new URL("../config_sample.json", import.meta.url));
  const child = command(["-c", sample, "--port", "0"]).spawn();
  const { url, stdout: lines } = await listening(child);
  const health = url ? await (await fetch(`${url}/health`)).json() : undefined;
  child.kill("SIGTERM");
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  await lines.cancel();
  assert.ok(url, stderr);
  assert.equal(health.upstreams.length, 2);
  assert.equal(status.code, 0);
  assert.match(stderr, / WARN .*ZAI_API_KEY is not set/);
  assert.match(stderr, / INFO .*Garbage detection: off/);
});

Deno.test("main refuses to start when garbage detection is on and logging.dump_dir may not be written", async () => {
  const dumpDir = "/tmp/sampling-proxy-dumps-elsewhere";
  const result = await runWithConfig({
    upstreams: [{ name: "m", base_url: "http://127.0.0.1:9/v1" }],
    validation: { enabled: true },
    logging: { dump_dir: dumpDir },
  }, ["--port", "0"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`logging\\.dump_dir ${dumpDir} cannot be written`));
  assert.match(result.stderr, new RegExp(`--allow-write=${dumpDir}`));
  assert.match(
    result.stderr,
    /Garbage detection: on \(local loop detector, no validator, up to 4 attempts per request\)/,
  );
});

Deno.test("main --check reports a dump folder that start would refuse, and exits 1", async () => {
  await using mock = await startMockUpstream();
  const result = await runWithConfig({
    upstreams: [{ name: "m", base_url: mock.url }],
    validation: { enabled: true },
    logging: { dump_dir: "/tmp/sampling-proxy-dumps-elsewhere" },
  }, ["--check"]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /probe {4}ok \(200\)/);
  assert.match(result.stdout, /FAILED: logging\.dump_dir \/tmp\/sampling-proxy-dumps-elsewhere cannot be written/);
});

Deno.test("main refuses to start without client keys for --require-auth or a non-loopback bind (exit 2)", async () => {
  const required = await run(["--port", "0", "--require-auth"]);
  assert.equal(required.code, 2);
  assert.match(required.stderr, /--require-auth is given but no client key is configured: set auth\.keys/);
  const exposed = await run(["--port", "0", "--host", "0.0.0.0"]);
  assert.equal(exposed.code, 2);
  assert.match(
    exposed.stderr,
    /listening on 0\.0\.0\.0 lets anyone who can reach it use your upstreams.*--insecure-no-auth/,
  );
  assert.doesNotMatch(exposed.stdout, /listening on http/);
});
