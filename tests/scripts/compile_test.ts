/**
 * The release build (`scripts/compile.ts`): the staged sources carry the commit and hold everything the program
 * needs at run time, sums are `sha256sum`'s, a failed compile leaves no output folder, and the compiled binary runs
 * end to end wherever `deno compile` can get its runtime (skipped with the reason where it cannot).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chatBody, proxyConfig, waitUntil } from "../e2e/harness.ts";
import { postJson } from "../support/http.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { readSse } from "../support/sse.ts";
import { gitCommit, stageSources } from "../../scripts/build_stage.ts";
import { sha256Sums } from "../../scripts/sha256sums.ts";
import { binaryName, type Target, TARGETS } from "../../scripts/targets.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMPILE = join(ROOT, "scripts", "compile.ts");
const decoder = new TextDecoder();

/** Runs the compile task with `args` and `env`. */
async function runCompile(args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-run", "--allow-read", "--allow-write", "--allow-env", COMPILE, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/**
 * Starts `program args… -c CONFIG --port 0 --ready-file …` in front of a mock upstream, waits for the ready file,
 * checks the status page, /health (with `commit`) and one proxied stream, then stops it with SIGTERM (exit 0).
 * `dir` holds the config and the ready file.
 */
async function exerciseProxy(program: string, args: string[], dir: string, commit: string): Promise<void> {
  await using mock = await startMockUpstream();
  const config = join(dir, "config.json");
  const ready = join(dir, "ready");
  await Deno.writeTextFile(config, JSON.stringify(proxyConfig(mock)));
  const child = new Deno.Command(program, {
    args: [...args, "-c", config, "--port", "0", "--ready-file", ready],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    await waitUntil(() => Deno.stat(ready).then(() => true, () => false), "the ready file")
      .catch(async (error) => {
        child.kill("SIGKILL");
        throw new Error(`${error.message}; stderr: ${await stderr}`);
      });
    const url = (await Deno.readTextFile(ready)).trim();
    const page = await fetch(`${url}/`, { headers: { accept: "text/html" } });
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const health = await (await fetch(`${url}/health`)).json();
    assert.equal(health.version, VERSION);
    assert.equal(health.commit, commit);
    const response = await postJson(`${url}/v1/chat/completions`, chatBody("m", { stream: true }));
    assert.equal(response.status, 200);
    const events = await readSse(response);
    assert.ok(events.some((event) => event.data === "[DONE]"), JSON.stringify(events));
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // It exited early; its status and stderr below say why.
    }
  }
  const status = await child.status;
  assert.equal(status.code, 0, await stderr);
  await assert.rejects(Deno.stat(ready), Deno.errors.NotFound);
}

Deno.test("stageSources writes the commit into a copy that runs reading and writing only the folder of its config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const stage = join(dir, "stage");
    await Deno.mkdir(stage);
    const entry = await stageSources(ROOT, stage, "abc123def456");
    assert.match(await Deno.readTextFile(join(ROOT, "src", "version.ts")), /COMMIT = "source"/, "checkout untouched");
    const deno = [
      "run",
      "--config",
      join(stage, "deno.json"),
      "--lock",
      join(stage, "deno.lock"),
      "--frozen-lockfile",
      "--allow-net",
      "--allow-env",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      entry,
    ];
    const version = await new Deno.Command(Deno.execPath(), { args: [...deno, "--version"], stdout: "piped" }).output();
    assert.equal(decoder.decode(version.stdout).trim(), `sampling-proxy ${VERSION} (commit abc123def456)`);
    await exerciseProxy(Deno.execPath(), deno, dir, "abc123def456");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gitCommit names HEAD in a checkout and says unknown outside one", async () => {
  assert.match(await gitCommit(ROOT), /^[0-9a-f]{12}(-dirty)?$/);
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await gitCommit(dir), "unknown");
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("sha256Sums writes sha256sum's format, sorted by name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "b"), "abc");
    await Deno.writeTextFile(join(dir, "a"), "");
    assert.equal(
      await sha256Sums([join(dir, "b"), join(dir, "a")]),
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n" +
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("binaryName names every target with the version, .exe on Windows", () => {
  assert.deepEqual(TARGETS.map((target: Target) => binaryName("1.2.3", target)), [
    "sampling-proxy-1.2.3-x86_64-unknown-linux-gnu",
    "sampling-proxy-1.2.3-aarch64-unknown-linux-gnu",
    "sampling-proxy-1.2.3-x86_64-apple-darwin",
    "sampling-proxy-1.2.3-aarch64-apple-darwin",
    "sampling-proxy-1.2.3-x86_64-pc-windows-msvc.exe",
  ]);
});

Deno.test("compile refuses an unknown target, and a cross target with one local runtime (exit 2)", async () => {
  const unknown = await runCompile(["--target", "riscv64-linux"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown target "riscv64-linux"/);
  const other = TARGETS.find((target) => target !== Deno.build.target) ?? TARGETS[0];
  const cross = await runCompile(["--target", other], { DENORT_BIN: "/nonexistent/denort" });
  assert.equal(cross.code, 2);
  assert.match(cross.stderr, /DENORT_BIN/);
});

Deno.test("a compile that fails leaves no output folder and no work folder behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runCompile(["--out-dir", join(dir, "dist")], { DENORT_BIN: join(dir, "no-denort") });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^deno compile failed: .+$/m);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** This machine's compile, once: the output folder, or why it cannot run here. */
const HOST_BUILD = await (async () => {
  const dir = await Deno.makeTempDir();
  const result = await runCompile(["--out-dir", join(dir, "dist")]);
  const blocked = result.code !== 0 && /could not get the Deno runtime/.test(result.stderr);
  return { dir, result, blocked };
})();
if (HOST_BUILD.blocked) await Deno.remove(HOST_BUILD.dir, { recursive: true });

Deno.test({
  name: HOST_BUILD.blocked
    ? "compiled binary end to end (skipped: deno compile cannot get its runtime on this machine)"
    : "compiled binary end to end: version, sums, status page, health, one stream, SIGTERM",
  ignore: HOST_BUILD.blocked,
  async fn() {
    const { dir, result } = HOST_BUILD;
    try {
      assert.equal(result.code, 0, result.stderr);
      const dist = join(dir, "dist");
      const name = binaryName(VERSION, Deno.build.target as Target);
      const binary = join(dist, name);
      assert.equal(await Deno.readTextFile(join(dist, "SHA256SUMS")), await sha256Sums([binary]));
      const version = await new Deno.Command(binary, { args: ["--version"], stdout: "piped" }).output();
      const commit = /\(commit (\S+)\)/.exec(decoder.decode(version.stdout))?.[1];
      assert.equal(commit, await gitCommit(ROOT));
      await exerciseProxy(binary, [], dir, commit);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
