/**
 * The command-line entry point as a user runs it: a real `deno run src/main.ts` process with the permissions of
 * `deno task start`.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";

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
  assert.equal(health.status, "ok");
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
