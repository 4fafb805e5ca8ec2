import assert from "node:assert/strict";
import { extractSnippets } from "../support/readme_snippets.ts";

Deno.test("extractSnippets reads fenced blocks with the marker on the line before", () => {
  const markdown = [
    "# Title",
    "<!-- test: bash -->",
    "```sh",
    "echo hi",
    "```",
    "",
    "```json",
    "{}",
    "```",
    "```",
    "plain",
    "```",
  ].join("\n");
  assert.deepEqual(extractSnippets(markdown), [
    { kind: "bash", lang: "sh", text: "echo hi\n", line: 3 },
    { kind: undefined, lang: "json", text: "{}\n", line: 7 },
    { kind: undefined, lang: "", text: "plain\n", line: 10 },
  ]);
});

Deno.test("extractSnippets rejects a marker without a block and a block that is never closed", () => {
  assert.throws(() => extractSnippets("<!-- test: bash -->\n\n```sh\nx\n```\n"), /Line 1: a test marker/);
  assert.throws(() => extractSnippets("text\n```sh\nx\n"), /Line 2: the fenced block is never closed/);
});
