/** `scripts/check_release_files.ts`: the workflow, action and Dockerfile checks find mistakes and pass ours. */

import assert from "node:assert/strict";
import { dockerfileProblems, yamlProblems } from "../../scripts/check_release_files.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("yamlProblems names a misspelt step key in a workflow and a missing runs in an action", () => {
  const workflow =
    "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - usess: actions/checkout@v4\n";
  const problems = yamlProblems(".github/workflows/x.yml", workflow);
  assert.ok(
    problems.some((line) => /^\.github\/workflows\/x\.yml: \/jobs\/a\/steps\/0.*usess/.test(line)),
    problems.join("\n"),
  );
  const action = yamlProblems("action.yml", "name: x\ndescription: y\n");
  assert.ok(action.some((line) => /runs/.test(line)), action.join("\n"));
});

Deno.test("yamlProblems finds nothing in action.yml and the workflows", async () => {
  for (const file of ["action.yml", ".github/workflows/ci.yml", ".github/workflows/release.yml"]) {
    assert.deepEqual(yamlProblems(file, await Deno.readTextFile(new URL(file, ROOT))), [], file);
  }
});

Deno.test("dockerfileProblems names bad instructions by line, and finds nothing in the Dockerfile", async () => {
  assert.deepEqual(dockerfileProblems("FROM debian\nEXPOSE http\nHEALTHCHECK CMD\n"), [
    "Dockerfile:2: Invalid containerPort: http",
    "Dockerfile:3: Missing command after HEALTHCHECK CMD",
  ]);
  assert.deepEqual(dockerfileProblems(await Deno.readTextFile(new URL("Dockerfile", ROOT))), []);
});
