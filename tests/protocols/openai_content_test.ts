import assert from "node:assert/strict";
import { contentParts, readContentPart, withPartText } from "../../src/protocols/openai_content.ts";

Deno.test("contentParts reads a string, an array of parts in order, and nothing else", () => {
  assert.deepEqual(contentParts("Hi"), [{ kind: "text", text: "Hi" }]);
  assert.deepEqual(contentParts(null), []);
  assert.deepEqual(
    contentParts([
      { type: "thinking", thinking: [{ type: "text", text: "Plan" }, { type: "text", text: " more" }] },
      "bare ",
      { type: "image_url", image_url: { url: "data:," } },
      { type: "text", text: "answer" },
      { type: "reasoning", reasoning: "late" },
      { type: "thinking", thinking: null },
    ]),
    [
      { kind: "thinking", text: "Plan more" },
      { kind: "text", text: "bare " },
      { kind: "text", text: "answer" },
      { kind: "thinking", text: "late" },
      { kind: "thinking", text: "" },
    ],
  );
});

Deno.test("withPartText replaces a part's text in the part's own shape", () => {
  assert.equal(withPartText("abc", "a"), "a");
  assert.deepEqual(withPartText({ type: "text", text: "abc", extra: 1 }, "a"), { type: "text", text: "a", extra: 1 });
  const listed = withPartText({
    type: "thinking",
    thinking: [{ type: "text", text: "ab" }, { type: "text", text: "c" }],
  }, "a");
  assert.deepEqual(listed, { type: "thinking", thinking: [{ type: "text", text: "a" }] });
  assert.deepEqual(withPartText({ type: "reasoning", reasoning: "abc" }, "a"), { type: "reasoning", reasoning: "a" });
  assert.deepEqual(readContentPart(withPartText({ type: "thinking", text: "abc" }, "ab")), {
    kind: "thinking",
    text: "ab",
  });
});
