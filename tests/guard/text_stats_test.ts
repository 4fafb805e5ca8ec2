import assert from "node:assert/strict";
import { countWords } from "../../src/guard/text_stats.ts";

Deno.test("countWords counts words of several scripts", () => {
  const cases: [string, number][] = [
    ["", 0],
    ["  ", 0],
    ["the cat sat", 3],
    ["line one\nline two\tend", 5],
    ["don't stop-now, ok?", 3],
    ["缓存失效", 4],
    ["Deno 是一个运行时", 7],
    ["ひらがな カタカナ", 8],
  ];
  for (const [text, want] of cases) assert.equal(countWords(text), want, JSON.stringify(text));
});
