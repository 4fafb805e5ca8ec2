/**
 * `scripts/ci_service.sh`, the shell steps of the GitHub Action: start waits for the ready file and exports the
 * URL, a bad config fails the start as soon as the proxy exits (not at the ready timeout), a proxy that never gets
 * ready is killed at the timeout, and stop ends the proxy with SIGTERM.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startMockUpstream } from "../support/mock_upstream.ts";

const SCRIPT = fileURLToPath(new URL("../../scripts/ci_service.sh", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The action's `version: source` command (action.yml), which runs from the job's own working folder. */
const FROM_SOURCE = [
  Deno.execPath(),
  "run",
  "--config",
  join(ROOT, "deno.json"),
  "--lock",
  join(ROOT, "deno.lock"),
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-write",
  join(ROOT, "src", "main.ts"),
];
/** The script is bash for the Linux and macOS runners (and Git Bash); these tests send POSIX signals. */
const WINDOWS = Deno.build.os === "windows";
const decoder = new TextDecoder();

async function service(args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: [SCRIPT, ...args],
    cwd: "/", // not the checkout: the command finds its config by its flags, as in a job
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Whether process `pid` still runs. */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  ignore: WINDOWS,
  name: "ci_service.sh start waits until ready and exports the URL; stop ends the proxy with SIGTERM",
  fn: async () => {
    await using mock = await startMockUpstream();
    const state = await Deno.makeTempDir();
    try {
      const githubEnv = join(state, "github_env");
      const config = JSON.stringify({ upstreams: [{ name: "m", base_url: mock.url }] });
      const started = await service(["start", join(state, "proxy"), ...FROM_SOURCE], {
        SAMPLING_PROXY_CONFIG: config,
        GITHUB_ENV: githubEnv,
      });
      assert.equal(started.code, 0, started.stderr);
      const url = /^SAMPLING_PROXY_URL=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(await Deno.readTextFile(githubEnv))?.[1];
      assert.ok(url, await Deno.readTextFile(githubEnv));
      assert.match(started.stdout, new RegExp(`listening on ${url}`));
      const health = await (await fetch(`${url}/health`)).json();
      assert.ok(health.upstreams[0].url.startsWith(mock.url), health.upstreams[0].url);
      const pid = Number(await Deno.readTextFile(join(state, "proxy", "pid")));
      const stopped = await service(["stop", join(state, "proxy")], {});
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, /SIGTERM: shutting down/, "the proxy's log is shown");
      assert.equal(alive(pid), false);
      await assert.rejects(fetch(`${url}/health`), TypeError);
      const again = await service(["stop", join(state, "proxy")], {});
      assert.match(again.stdout, /nothing to stop/);
    } finally {
      await service(["stop", join(state, "proxy")], {});
      await Deno.remove(state, { recursive: true });
    }
  },
});

Deno.test({
  ignore: WINDOWS,
  name: "ci_service.sh start fails as soon as a bad config makes the proxy exit, showing its message",
  fn: async () => {
    const state = await Deno.makeTempDir();
    try {
      const started = await service(["start", state, ...FROM_SOURCE], {
        SAMPLING_PROXY_CONFIG: JSON.stringify({ upstreams: "not a list" }),
        SAMPLING_PROXY_READY_TIMEOUT: "600",
      });
      assert.equal(started.code, 1);
      assert.match(started.stderr, /exited early \(exit code 2\)/, "not the ready timeout");
      assert.match(started.stderr, /upstreams/);
      const stopped = await service(["stop", state], {});
      assert.match(stopped.stdout, /nothing to stop/);
    } finally {
      await Deno.remove(state, { recursive: true });
    }
  },
});

Deno.test({
  ignore: WINDOWS,
  name: "ci_service.sh start kills a proxy that is not ready within the timeout, and refuses a bad timeout",
  fn: async () => {
    const state = await Deno.makeTempDir();
    try {
      // A stand-in that takes the flags and never writes the ready file.
      const never = ["bash", "-c", 'echo "$$" > "$0/never.pid"; exec sleep 30', state];
      const started = await service(["start", join(state, "proxy"), ...never], { SAMPLING_PROXY_READY_TIMEOUT: "0.3" });
      assert.equal(started.code, 1);
      assert.match(started.stderr, /not ready after 0\.3 s; stopping it/);
      assert.equal(alive(Number(await Deno.readTextFile(join(state, "never.pid")))), false);
      const bad = await service(["start", join(state, "proxy"), "true"], { SAMPLING_PROXY_READY_TIMEOUT: "soon" });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /not a number of seconds: soon/);
    } finally {
      await Deno.remove(state, { recursive: true });
    }
  },
});
