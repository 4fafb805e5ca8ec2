/**
 * The command-line entry point as a user runs it: a real `deno run src/main.ts` process with the permissions of
 * `deno task start`.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { startMockUpstream } from "./support/mock_upstream.ts";

const MAIN = fromFileUrl(new URL("../src/main.ts", import.meta.url));
const CONFIG = fromFileUrl(new URL("../deno.json", import.meta.url));
/** The permissions `deno task start` grants, minus the dump folder (tests write nothing there). */
const PERMISSIONS = ["--allow-net", "--allow-read", "--allow-env"];

function command(args: string[], env: Record<string, string> = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", CONFIG, ...PERMISSIONS, MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await command(args).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("main prints the listening URL, serves /health and exits 0 on SIGTERM", async () => {
  const child = command(["--port", "0", "--target-base-url", "http://127.0.0.1:9/v1"]).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { done, value } = await lines.read();
    if (done) break;
    out += value;
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
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
  assert.match(version.stdout, /^sampling-proxy \d+\.\d+\.\d+/);
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
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { done, value } = await lines.read();
    if (done) break;
    out += value;
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
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
