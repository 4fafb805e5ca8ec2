/**
 * The release files' lint, run by `deno task check`: the GitHub workflows and `action.yml` are validated against
 * GitHub's schemas (`@action-validator/core`, pinned in `tests/deno.lock`), and the shell scripts by `shellcheck`
 * (`.ci/run` installs it where it is missing), and the `Dockerfile` by `dockerfile-utils` (the linter of the
 * Dockerfile language server; hadolint is neither on npm nor in Debian). Exit codes: 0 clean, 1 problems found
 * (each printed as `file: where: what`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { validate as validateDockerfile } from "npm:dockerfile-utils@0.16.3";
import { validateAction, validateWorkflow, type ValidationError } from "npm:@action-validator/core@0.6.0";

/** The shell scripts `shellcheck` reads. */
export const SHELL_SCRIPTS = ["install.sh", "scripts/ci_service.sh", ".ci/run"];

/** One line per innermost schema error of a validation result. */
function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => {
    const nested = "states" in error && error.states ? error.states.flatMap((state) => describe(state.errors)) : [];
    if (nested.length > 0) return nested;
    const where = "path" in error ? error.path : `line ${error.location?.line ?? "?"}`;
    return [`${where}: ${error.title}${error.detail ? ` (${error.detail})` : ""}`];
  });
}

/** The schema problems of the workflow or action file `name` (an action when named `action.yml`) with `text`. */
export function yamlProblems(name: string, text: string): string[] {
  const result = name.endsWith("action.yml") ? validateAction(text) : validateWorkflow(text);
  return [...new Set(describe(result.errors))].map((line) => `${name}: ${line}`);
}

/** What the Dockerfile linter finds in the `Dockerfile` text `text`, one `Dockerfile:line: message` each. */
export function dockerfileProblems(text: string): string[] {
  return validateDockerfile(text).map((d) => `Dockerfile:${d.range.start.line + 1}: ${d.message}`);
}

/** What `shellcheck` finds in `paths`; a missing `shellcheck` is a problem too. */
async function shellProblems(paths: string[]): Promise<string[]> {
  try {
    const { success, stdout } = await new Deno.Command("shellcheck", { args: ["--format=gcc", ...paths] }).output();
    const text = new TextDecoder().decode(stdout).trim();
    return success ? [] : text === "" ? ["shellcheck failed"] : text.split("\n");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return ["shellcheck is not installed (apt-get install shellcheck, or brew install shellcheck)"];
  }
}

async function main(): Promise<number> {
  const root = new URL("../", import.meta.url);
  const files = ["action.yml"];
  for await (const entry of Deno.readDir(new URL(".github/workflows/", root))) {
    if (/\.ya?ml$/.test(entry.name)) files.push(`.github/workflows/${entry.name}`);
  }
  const problems = [];
  for (const file of files.sort()) problems.push(...yamlProblems(file, await Deno.readTextFile(new URL(file, root))));
  problems.push(...dockerfileProblems(await Deno.readTextFile(new URL("Dockerfile", root))));
  problems.push(...await shellProblems(SHELL_SCRIPTS.map((path) => fileURLToPath(new URL(path, root)))));
  for (const problem of problems) console.error(problem);
  if (problems.length === 0) {
    console.log(`Release files ok: ${files.length} workflow files, ${SHELL_SCRIPTS.length} scripts, Dockerfile`);
  }
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
