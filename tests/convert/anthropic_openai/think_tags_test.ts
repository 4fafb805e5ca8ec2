import assert from "node:assert/strict";
import { type ContentPiece, ThinkTagSplitter } from "../../../src/convert/anthropic_openai/think_tags.ts";

/** Feeds the chunks and merges neighbouring pieces of the same kind, so only the split itself is compared. */
function split(chunks: readonly string[]): ContentPiece[] {
  const splitter = new ThinkTagSplitter();
  const pieces = [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.flush()];
  const merged: ContentPiece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if (last?.kind === piece.kind) last.text += piece.text;
    else merged.push({ ...piece });
  }
  return merged;
}

Deno.test("ThinkTagSplitter splits a leading think element from the answer", () => {
  assert.deepEqual(split(["<think>\nThe user wants a haiku.\n</think>\n\nAutumn moonlight"]), [
    { kind: "thinking", text: "The user wants a haiku.\n" },
    { kind: "text", text: "Autumn moonlight" },
  ]);
});

Deno.test("ThinkTagSplitter finds tags split across chunks at every position", () => {
  const content = "  <think>Plan: 读取文件 🙂</think>Done — 完成.";
  const want = split([content]);
  assert.deepEqual(want, [{ kind: "thinking", text: "Plan: 读取文件 🙂" }, { kind: "text", text: "Done — 完成." }]);
  for (let cut = 0; cut <= content.length; cut++) {
    for (let second = cut; second <= content.length; second += 3) {
      assert.deepEqual(
        split([content.slice(0, cut), content.slice(cut, second), content.slice(second)]),
        want,
        `cut at ${cut} and ${second}`,
      );
    }
  }
});

Deno.test("ThinkTagSplitter leaves a think tag that is not at the start as text", () => {
  const content = "Wrap reasoning in <think> and </think> tags.";
  assert.deepEqual(split([content]), [{ kind: "text", text: content }]);
  assert.deepEqual(split(["<think>a</think>b <think>c</think>"]), [
    { kind: "thinking", text: "a" },
    { kind: "text", text: "b <think>c</think>" },
  ]);
});

Deno.test("ThinkTagSplitter keeps text that only looks like the start of a tag", () => {
  assert.deepEqual(split(["<th", "ings>"]), [{ kind: "text", text: "<things>" }]);
  assert.deepEqual(split(["<thi"]), [{ kind: "text", text: "<thi" }]);
  assert.deepEqual(split(["  "]), []);
});

Deno.test("ThinkTagSplitter keeps an unterminated think element as thinking", () => {
  assert.deepEqual(split(["<think>still going </thi"]), [{ kind: "thinking", text: "still going </thi" }]);
});

Deno.test("ThinkTagSplitter flush releases a held partial tag before a delta of another kind", () => {
  const splitter = new ThinkTagSplitter();
  assert.deepEqual(splitter.push("<think>step one</thi"), [{ kind: "thinking", text: "step one" }]);
  assert.deepEqual(splitter.flush(), [{ kind: "thinking", text: "</thi" }]);
  assert.deepEqual(splitter.push("nk>"), [{ kind: "thinking", text: "nk>" }]);
});
