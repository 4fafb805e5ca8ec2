/**
 * Every README snippet that can run is run: fenced blocks preceded by `<!-- test: KIND -->` are extracted and
 * executed against the proxy in front of the mock upstream (see the README's Development section for the kinds).
 * README examples address the proxy as `http://127.0.0.1:8001`; the test points that address at its own proxy on
 * port 0, and the CI script's `ci-config.json` at a config file it writes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseToml } from "npm:smol-toml@1.9.1";
import { parseConfig } from "../src/config/load.ts";
import { isRecord } from "./support/json_guards.ts";
import { startMockUpstream } from "./support/mock_upstream.ts";
import { DEFAULT_REPLY_TEXT } from "./support/mock_reply_plan.ts";
import { startProxy, type TestProxy } from "./support/proxy_server.ts";
import { extractSnippets, type Snippet } from "./support/readme_snippets.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = await Deno.readTextFile(join(ROOT, "README.md"));
const SNIPPETS = extractSnippets(README);
/** How README examples address the proxy. */
const README_PROXY = "http://127.0.0.1:8001";
/** The config file name in the README's CI script. */
const CI_CONFIG = "ci-config.json";
/** The marker kinds this test knows how to run. */
const KINDS = new Set(["bash", "deno", "config", "toml", "ci"]);
/** Blocks in these languages are always checkable, so they must carry a marker. */
const MUST_BE_MARKED = new Set(["json", "jsonc", "toml", "ts", "typescript"]);
/** Languages of shell blocks. */
const SHELL = new Set(["sh", "bash", "shell"]);
/** A safety net for a snippet that never ends (a snippet that hangs fails instead of hanging the suite). */
const SNIPPET_TIMEOUT_MS = 60_000;

/** The snippets marked `kind`; fails when there are none, so a test cannot pass by running nothing. */
function snippetsOf(kind: string): Snippet[] {
  const found = SNIPPETS.filter((snippet) => snippet.kind === kind);
  assert.ok(found.length > 0, `README has no snippet marked "${kind}"`);
  return found;
}

/** Where a snippet is, for assertion messages. */
function where(snippet: Snippet): string {
  return `README.md:${snippet.line}`;
}

/** The README text with its proxy address pointed at `proxy`. */
function pointedAt(text: string, proxy: TestProxy): string {
  return text.replaceAll(README_PROXY, proxy.url);
}

/** Text with runs of whitespace collapsed, so streamed pieces printed one per line compare as one text. */
function collapsed(text: string): string {
  return text.replace(/\s+/g, " ");
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /**
   * The safety net fired: the command, or a process it left behind holding its output open (a proxy the CI
   * script did not stop), was still running, and its whole process group was killed.
   */
  timedOut: boolean;
}

/**
 * Runs a command in the repository's root, in a session of its own (`setsid`), so that the safety net can kill
 * everything it started, background processes included.
 */
async function run(command: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const child = new Deno.Command("setsid", {
    args: [command, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  }, SNIPPET_TIMEOUT_MS);
  try {
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    return { code: status.code, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the mock upstream (SGLang's `/generate` included) and a proxy in front of it. */
async function proxyAndMock() {
  const mock = await startMockUpstream({ sglang: true });
  const proxy = await startProxy({ upstreams: [{ name: "mock", base_url: mock.url }] });
  return {
    mock,
    proxy,
    async [Symbol.asyncDispose]() {
      await proxy.close();
      await mock.close();
    },
  };
}

Deno.test("README: markers name known kinds, and every json, toml and TypeScript block is marked", () => {
  for (const snippet of SNIPPETS) {
    if (snippet.kind !== undefined) assert.ok(KINDS.has(snippet.kind), `${where(snippet)}: kind "${snippet.kind}"`);
    else assert.ok(!MUST_BE_MARKED.has(snippet.lang), `${where(snippet)}: a ${snippet.lang} block without a marker`);
  }
});

Deno.test("README: shell blocks that need an outside service (Claude Code, Codex, a model server) parse", async () => {
  const unmarked = SNIPPETS.filter((snippet) => snippet.kind === undefined && SHELL.has(snippet.lang));
  assert.ok(unmarked.length > 0);
  for (const snippet of unmarked) {
    const result = await run("bash", ["-n", "-c", snippet.text]);
    assert.equal(result.code, 0, `${where(snippet)}: ${result.stderr}`);
  }
});

Deno.test("README: config snippets load with the config loader, without warnings", () => {
  for (const snippet of snippetsOf("config")) {
    const text = snippet.text.trim();
    // A fragment (`"models": {…}`) is a part of the top-level object.
    const file = text.startsWith("{") ? text : `{${text}}`;
    const { warnings } = parseConfig(file, { source: where(snippet), env: {} });
    assert.deepEqual(warnings, [], where(snippet));
  }
});

Deno.test("README: bash snippets run against the proxy in front of the mock upstream", async () => {
  await using setup = await proxyAndMock();
  for (const snippet of snippetsOf("bash")) {
    const before = setup.mock.requests.length;
    const result = await run("bash", ["-euo", "pipefail", "-c", pointedAt(snippet.text, setup.proxy)]);
    assert.equal(result.code, 0, `${where(snippet)}: ${result.stderr}`);
    assert.ok(setup.mock.requests.length > before, `${where(snippet)} reached the upstream`);
    assert.ok(result.stdout.includes(DEFAULT_REPLY_TEXT), `${where(snippet)} printed ${result.stdout}`);
  }
});

Deno.test("README: TypeScript SDK snippets type-check and run through Deno against the proxy", async () => {
  await using setup = await proxyAndMock();
  const dir = await Deno.makeTempDir();
  // The snippets import the SDKs by their npm names, as a reader's project would; run them with the versions the
  // tests pin (tests/support/sdk.ts, tests/deno.lock).
  const sdkSource = await Deno.readTextFile(join(ROOT, "tests/support/sdk.ts"));
  const pinned = [...sdkSource.matchAll(/"npm:((?:@[^/"]+\/)?[^@"]+)@[^"]+"/g)].map((m) => ({
    name: m[1],
    specifier: m[0],
  }));
  const withPinnedImports = (text: string) =>
    pinned.reduce((code, { name, specifier }) => code.replaceAll(`from "${name}"`, `from ${specifier}`), text);
  const lock = join(ROOT, "tests/deno.lock");
  const deno = (command: string, args: string[]) =>
    run(Deno.execPath(), [command, "--config", join(ROOT, "deno.json"), `--lock=${lock}`, "--frozen", ...args]);
  try {
    const files = await Promise.all(
      snippetsOf("deno").map(async (snippet) => {
        const file = join(dir, `readme_${snippet.line}.ts`);
        await Deno.writeTextFile(file, withPinnedImports(pointedAt(snippet.text, setup.proxy)));
        return { snippet, file };
      }),
    );
    const checked = await deno("check", files.map(({ file }) => file));
    assert.equal(checked.code, 0, checked.stderr);
    for (const { snippet, file } of files) {
      const result = await deno("run", ["--allow-net", "--allow-env", "--allow-read", file]);
      assert.equal(result.code, 0, `${where(snippet)}: ${result.stderr}`);
      assert.ok(collapsed(result.stdout).includes(DEFAULT_REPLY_TEXT), `${where(snippet)} printed ${result.stdout}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README: the Codex config parses, its env_key is exported, and its provider reaches the proxy", async () => {
  await using setup = await proxyAndMock();
  for (const snippet of snippetsOf("toml")) {
    const toml = parseToml(snippet.text);
    const providers = toml.model_providers;
    const provider = isRecord(providers) ? providers[String(toml.model_provider)] : undefined;
    assert.ok(isRecord(provider), `${where(snippet)}: model_provider names a [model_providers] entry`);
    assert.equal(provider.wire_api, "responses");
    const envKey = String(provider.env_key);
    assert.match(README, new RegExp(`^export ${envKey}=`, "m"), `README exports ${envKey}`);
    const url = `${pointedAt(String(provider.base_url), setup.proxy)}/responses`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer anything" },
      body: JSON.stringify({ model: toml.model, input: "Hi" }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.ok(JSON.stringify(await response.json()).includes(DEFAULT_REPLY_TEXT));
    assert.equal(setup.mock.requests.at(-1)?.path, "/v1/responses");
  }
});

/**
 * Runs the README's CI script with `ci-config.json` holding `config`, in a fresh temporary folder that is also the
 * script's `TMPDIR`; returns the result and what the script left in that folder.
 */
async function runCiScript(snippet: Snippet, config: unknown): Promise<RunResult & { leftovers: string[] }> {
  const dir = await Deno.makeTempDir();
  try {
    const configPath = join(dir, CI_CONFIG);
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    const script = snippet.text.replaceAll(CI_CONFIG, configPath);
    const result = await run("bash", ["-euo", "pipefail", "-c", script], { TMPDIR: dir });
    const leftovers = (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name);
    return { ...result, leftovers: leftovers.filter((name) => name !== CI_CONFIG) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("README: the CI script starts the proxy, checks it and stops it when done", async () => {
  await using mock = await startMockUpstream();
  for (const snippet of snippetsOf("ci")) {
    const result = await runCiScript(snippet, { upstreams: [{ name: "test-model", base_url: mock.url }] });
    assert.ok(!result.timedOut, `${where(snippet)} left the proxy running`);
    assert.equal(result.code, 0, `${where(snippet)}: ${result.stderr}`);
    assert.equal(JSON.parse(result.stdout.split("\n").find((line) => line.startsWith("{")) ?? "").status, "ok");
    const url = /sampling-proxy at (http:\/\/\S+)/.exec(result.stdout)?.[1];
    assert.ok(url, `${where(snippet)} printed the proxy's URL: ${result.stdout}`);
    // The trap waited for the proxy to exit, so nothing listens there any more.
    await assert.rejects(fetch(`${url}/health`), TypeError);
    assert.deepEqual(result.leftovers, [], "the trap removed the script's temporary file");
  }
});

Deno.test("README: the CI script fails at once, without looping, when the proxy exits early", async () => {
  for (const snippet of snippetsOf("ci")) {
    const result = await runCiScript(snippet, { upstreams: "not a list" });
    assert.ok(!result.timedOut, `${where(snippet)} kept waiting for a proxy that had exited`);
    assert.equal(result.code, 1, `${where(snippet)}: ${result.stderr}`);
    assert.match(result.stderr, /exited early/);
    assert.match(result.stderr, /upstreams/, "the proxy's own message is shown");
    assert.deepEqual(result.leftovers, [], "the trap removed the script's temporary file");
  }
});
