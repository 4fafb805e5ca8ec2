/**
 * `deno task compile` builds the binary for this machine, `deno task compile:all` for every release target
 * (`scripts/targets.ts`), into `dist/` (or `--out-dir DIR`), named `sampling-proxy-<version>-<target>`, with a
 * `SHA256SUMS` file beside them. `--target T` (repeatable) picks targets by name.
 *
 * The sources are compiled from a staged copy that carries the git commit (`build_stage.ts`; `SAMPLING_PROXY_COMMIT`
 * names it where there is no git checkout, as in a container build). Everything happens in
 * a temporary folder beside the output folder; binaries move into it only once every target compiled, so a failed
 * run leaves no empty or partial `dist/`.
 *
 * Permissions baked into the binary: network, environment (`api_key_env` names any variable), and file read and
 * write. Read and write stay unscoped because their paths (`--config`, `logging.dump_dir`, `--ready-file`) are
 * chosen at run time, after compiling; nothing else (no subprocesses, FFI or system information) is granted.
 *
 * `deno compile` downloads the runtime it embeds (`denort`) from Deno's own host the first time, or takes a local
 * one from `DENORT_BIN`; where neither works the task fails with one clear line. Exit codes: 0 built, 1 failed,
 * 2 bad flag.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { VERSION } from "../src/version.ts";
import { gitCommit, stageSources } from "./build_stage.ts";
import { sha256Sums } from "./sha256sums.ts";
import { binaryName, isTarget, type Target, TARGETS } from "./targets.ts";

/** The permission flags of the compiled binary (see the module doc). */
export const BINARY_PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];

/** Why `deno compile` failed, in one line. */
function failureLine(stderr: string, code: number): string {
  const unreachable = /dl\.deno\.land|denort|download|error sending request|dns error|Connection refused/i.test(
    stderr,
  );
  return unreachable
    ? "deno compile failed: it could not get the Deno runtime it embeds (is dl.deno.land reachable, or DENORT_BIN set?)"
    : `deno compile failed: ${stderr.trim().split("\n").filter(Boolean).pop() ?? `exit code ${code}`}`;
}

/** Compiles `entry` (in a stage whose config is `config`) for `target` into `output`; the failure line, if any. */
async function compile(entry: string, config: string, target: Target, output: string): Promise<string | undefined> {
  const args = [
    "compile",
    "--config",
    config,
    "--lock",
    join(dirname(config), "deno.lock"),
    "--frozen-lockfile",
    ...BINARY_PERMISSIONS,
    "--unstable-no-legacy-abort",
    "--target",
    target,
    "--output",
    output,
    entry,
  ];
  const { code, stderr } = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "piped" })
    .output();
  return code === 0 ? undefined : failureLine(new TextDecoder().decode(stderr), code);
}

/** Runs the task with `args`; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: { all: { type: "boolean" }, target: { type: "string", multiple: true }, "out-dir": { type: "string" } },
    }).values;
  } catch (error) {
    console.error(`compile: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const wanted = values.all ? [...TARGETS] : values.target ?? [Deno.build.target];
  const unknown = wanted.find((target) => !isTarget(target));
  if (unknown !== undefined) {
    console.error(`compile: unknown target "${unknown}"; one of ${TARGETS.join(", ")}`);
    return 2;
  }
  const targets = wanted.filter(isTarget);
  if (Deno.env.get("DENORT_BIN") && targets.some((target) => target !== Deno.build.target)) {
    console.error(
      `compile: DENORT_BIN is one runtime, for this machine (${Deno.build.target}); build other targets without it`,
    );
    return 2;
  }
  const root = fileURLToPath(new URL("..", import.meta.url));
  const outDir = resolve(values["out-dir"] ?? join(root, "dist"));
  await Deno.mkdir(dirname(outDir), { recursive: true });
  const work = await Deno.makeTempDir({ dir: dirname(outDir), prefix: ".sampling-proxy-build-" });
  try {
    const commit = Deno.env.get("SAMPLING_PROXY_COMMIT") || await gitCommit(root);
    const stage = join(work, "stage");
    await Deno.mkdir(stage);
    const entry = await stageSources(root, stage, commit);
    const built: string[] = [];
    for (const target of targets) {
      const output = join(work, binaryName(VERSION, target));
      console.log(`Compiling ${VERSION} (commit ${commit}) for ${target}`);
      const failure = await compile(entry, join(stage, "deno.json"), target, output);
      if (failure) {
        console.error(failure);
        return 1;
      }
      built.push(output);
    }
    await Deno.mkdir(outDir, { recursive: true });
    const moved = [];
    for (const path of built) {
      const to = join(outDir, path.slice(work.length + 1));
      await Deno.rename(path, to);
      moved.push(to);
    }
    await Deno.writeTextFile(join(outDir, "SHA256SUMS"), await sha256Sums(moved));
    for (const path of moved) console.log(`Built ${path}`);
    console.log(`Wrote ${join(outDir, "SHA256SUMS")}`);
    return 0;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
