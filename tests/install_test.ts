/**
 * `install.sh` against a folder served on loopback that stands in for the release server: it picks the binary for
 * the OS and CPU that `uname` reports (a stand-in `uname` on PATH), refuses a bad checksum with nothing installed
 * and nothing run, and leaves no temporary files.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Sums } from "../scripts/sha256sums.ts";
import { binaryName, TARGETS } from "../scripts/targets.ts";

const INSTALL_SH = fileURLToPath(new URL("../install.sh", import.meta.url));
const VERSION = "1.2.3";
const decoder = new TextDecoder();
/** The script is POSIX sh; Windows installs with install.ps1. */
const WINDOWS = Deno.build.os === "windows";

/** A release server on loopback with one stand-in binary per target, each saying which it is when run. */
interface Release extends AsyncDisposable {
  /** The releases URL (`…/latest/download/FILE`, `…/download/vVERSION/FILE`). */
  url: string;
  /** The temporary folder: `files/` served, `home/` and `tmp/` for the script, `ran` marks a binary that ran. */
  dir: string;
}

async function startRelease(tamper?: string): Promise<Release> {
  const dir = await Deno.makeTempDir();
  const files = join(dir, "files");
  await Deno.mkdir(files);
  await Deno.mkdir(join(dir, "tmp"));
  const paths = [];
  for (const target of TARGETS) {
    const path = join(files, binaryName(VERSION, target));
    await Deno.writeTextFile(path, `#!/bin/sh\necho "stand-in for ${target}"\ntouch "${join(dir, "ran")}"\n`);
    paths.push(path);
  }
  await Deno.writeTextFile(join(files, "SHA256SUMS"), await sha256Sums(paths));
  if (tamper) await Deno.writeTextFile(join(files, binaryName(VERSION, tamper as typeof TARGETS[number])), "evil\n");
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const match = /^\/releases\/(?:latest\/download|download\/v1\.2\.3)\/([^/]+)$/.exec(new URL(request.url).pathname);
    if (!match) return new Response("not found", { status: 404 });
    try {
      return new Response(await Deno.readFile(join(files, match[1])));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/releases`,
    dir,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs `install.sh args` as on a machine whose `uname -s` / `uname -m` print `os` / `arch`. */
async function install(release: Release, os: string, arch: string, args: string[]) {
  const bin = join(release.dir, "fake-bin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(
    join(bin, "uname"),
    `#!/bin/sh\ncase "$1" in -s) echo ${os} ;; -m) echo ${arch} ;; *) exit 1 ;; esac\n`,
    { mode: 0o755 },
  );
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: [INSTALL_SH, ...args],
    env: {
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      HOME: join(release.dir, "home"),
      TMPDIR: join(release.dir, "tmp"),
      SAMPLING_PROXY_DOWNLOAD_URL: release.url,
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test({
  ignore: WINDOWS,
  name: "install.sh installs the Linux x86_64 binary of a given version into --dir after checking it",
  fn: async () => {
    await using release = await startRelease();
    const dir = join(release.dir, "opt", "bin");
    const result = await install(release, "Linux", "x86_64", ["--version", VERSION, "--dir", dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(await Deno.readTextFile(join(dir, "sampling-proxy")), /stand-in for x86_64-unknown-linux-gnu/);
    assert.match(result.stdout, /^stand-in for x86_64-unknown-linux-gnu$/m, "ran --version once installed");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(join(release.dir, "tmp"))), [], "temporary files removed");
  },
});

Deno.test({
  ignore: WINDOWS,
  name: "install.sh installs the latest macOS arm64 binary into ~/.local/bin by default",
  fn: async () => {
    await using release = await startRelease();
    const result = await install(release, "Darwin", "arm64", []);
    assert.equal(result.code, 0, result.stderr);
    const installed = join(release.dir, "home", ".local", "bin", "sampling-proxy");
    assert.match(await Deno.readTextFile(installed), /stand-in for aarch64-apple-darwin/);
    assert.equal((await Deno.stat(installed)).mode! & 0o111, 0o111, "executable");
    assert.match(result.stdout, /Add .*\.local\/bin to PATH/);
  },
});

Deno.test({
  ignore: WINDOWS,
  name: "install.sh refuses a binary whose checksum does not match: nothing installed, nothing run",
  fn: async () => {
    await using release = await startRelease("aarch64-unknown-linux-gnu");
    const dir = join(release.dir, "bin");
    const result = await install(release, "Linux", "aarch64", ["--version", VERSION, "--dir", dir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /checksum mismatch for sampling-proxy-1\.2\.3-aarch64-unknown-linux-gnu/);
    assert.equal(await exists(join(dir, "sampling-proxy")), false);
    assert.equal(await exists(join(release.dir, "ran")), false, "the download never ran");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(join(release.dir, "tmp"))), [], "temporary files removed");
  },
});

Deno.test({
  ignore: WINDOWS,
  name: "install.sh stops with a reason for an OS or CPU without a binary, and for a missing release",
  fn: async () => {
    await using release = await startRelease();
    const windows = await install(release, "MINGW64_NT-10.0", "x86_64", []);
    assert.equal(windows.code, 1);
    assert.match(windows.stderr, /install\.ps1/);
    const cpu = await install(release, "Linux", "riscv64", []);
    assert.equal(cpu.code, 1);
    assert.match(cpu.stderr, /no release binary for the CPU riscv64/);
    const missing = await install(release, "Linux", "x86_64", ["--version", "9.9.9"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot download .*\/download\/v9\.9\.9\/SHA256SUMS/);
    assert.equal(await exists(join(release.dir, "ran")), false);
  },
});
