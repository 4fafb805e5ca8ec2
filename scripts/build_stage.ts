/**
 * The copy of the sources that `deno compile` builds: `src/`, `deno.json` and `deno.lock` copied into a staging
 * folder, with the git commit written into the copy's `src/version.ts`, so the binary's `--version` and `/health`
 * name the commit it was built from while the checkout stays untouched.
 *
 * @module
 */

import { join } from "node:path";

/** The line of `src/version.ts` that a stage replaces. */
const COMMIT_LINE = /^export const COMMIT = "source";$/m;

/** The files and folders of the repository that make up the program. */
const PROGRAM = ["src", "deno.json", "deno.lock"];

/**
 * The commit of the checkout at `root`: git's 12-digit short hash, with `-dirty` when the program's files have
 * uncommitted changes; `"unknown"` outside a git checkout or without git.
 */
export async function gitCommit(root: string): Promise<string> {
  const git = (args: string[]) =>
    new Deno.Command("git", { args, cwd: root, stdout: "piped", stderr: "null" }).output();
  try {
    const head = await git(["rev-parse", "--short=12", "HEAD"]);
    if (!head.success) return "unknown";
    const hash = new TextDecoder().decode(head.stdout).trim();
    const status = await git(["status", "--porcelain", "--", ...PROGRAM]);
    return status.success && status.stdout.length === 0 ? hash : `${hash}-dirty`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "unknown";
    throw error;
  }
}

/**
 * Copies the program of the repository at `root` into `stage` (an existing, empty folder) and writes `commit` into
 * the copy's `src/version.ts`; returns the path of the copy's entry module.
 *
 * @throws {Error} when `src/version.ts` no longer has the `COMMIT` line this replaces
 */
export async function stageSources(root: string, stage: string, commit: string): Promise<string> {
  for (const name of PROGRAM) await copy(join(root, name), join(stage, name));
  const versionFile = join(stage, "src", "version.ts");
  const text = await Deno.readTextFile(versionFile);
  if (!COMMIT_LINE.test(text)) throw new Error(`${versionFile} has no line 'export const COMMIT = "source";'`);
  await Deno.writeTextFile(versionFile, text.replace(COMMIT_LINE, `export const COMMIT = ${JSON.stringify(commit)};`));
  return join(stage, "src", "main.ts");
}

async function copy(from: string, to: string): Promise<void> {
  if (!(await Deno.stat(from)).isDirectory) return await Deno.copyFile(from, to);
  await Deno.mkdir(to);
  for await (const entry of Deno.readDir(from)) await copy(join(from, entry.name), join(to, entry.name));
}
