import assert from "node:assert/strict";
import { isModelPattern, ModelMatcher } from "../../src/policy/model_matcher.ts";

Deno.test("ModelMatcher prefers an exact key over an earlier glob", () => {
  const matcher = new ModelMatcher([["qwen3-*", "glob"], ["qwen3-coder", "exact"]]);
  assert.deepEqual(matcher.match("qwen3-coder"), { pattern: "qwen3-coder", value: "exact" });
  assert.deepEqual(matcher.match("qwen3-8b"), { pattern: "qwen3-*", value: "glob" });
});

Deno.test("ModelMatcher tries globs in the given order, first match wins", () => {
  const matcher = new ModelMatcher([["glm-4*", "first"], ["glm-*", "second"], ["*", "fallback"]]);
  assert.equal(matcher.match("glm-4.7")?.pattern, "glm-4*");
  assert.equal(matcher.match("glm-5")?.pattern, "glm-*");
  assert.equal(matcher.match("llama")?.pattern, "*");
});

Deno.test("ModelMatcher returns undefined when nothing matches", () => {
  const matcher = new ModelMatcher([["glm-*", 1], ["qwen3", 2]]);
  assert.equal(matcher.match("qwen3-8b"), undefined);
  assert.equal(matcher.match(""), undefined);
});

Deno.test("ModelMatcher matches case-sensitively against the name as sent", () => {
  const matcher = new ModelMatcher([["GLM-5", 1], ["qwen*", 2]]);
  assert.equal(matcher.match("glm-5"), undefined);
  assert.equal(matcher.match("Qwen3"), undefined);
  assert.equal(matcher.match("GLM-5")?.value, 1);
});

Deno.test("ModelMatcher supports extended glob syntax", () => {
  const cases: { pattern: string; matches: string[]; misses: string[] }[] = [
    { pattern: "qwen3-?b", matches: ["qwen3-8b", "qwen3-4b"], misses: ["qwen3-32b"] },
    { pattern: "glm-[45]*", matches: ["glm-4.7", "glm-5-turbo"], misses: ["glm-3"] },
    { pattern: "{glm,kimi}-*", matches: ["glm-5", "kimi-k2"], misses: ["qwen-3"] },
    { pattern: "@(a|b)-model", matches: ["a-model", "b-model"], misses: ["c-model", "ab-model"] },
    { pattern: "org/*", matches: ["org/model", "org/sub/model"], misses: ["other/model"] },
    { pattern: "*:latest", matches: ["llama3:latest"], misses: ["llama3:8b"] },
  ];
  for (const { pattern, matches, misses } of cases) {
    const matcher = new ModelMatcher([[pattern, true]]);
    for (const model of matches) assert.equal(matcher.match(model)?.value, true, `${pattern} should match ${model}`);
    for (const model of misses) assert.equal(matcher.match(model), undefined, `${pattern} should miss ${model}`);
  }
});

Deno.test("ModelMatcher treats regex characters in literal names literally", () => {
  const matcher = new ModelMatcher([["glm-4.5", 1], ["qwen3.5*", 2]]);
  assert.equal(matcher.match("glm-4x5"), undefined);
  assert.equal(matcher.match("qwen3x5-4b"), undefined);
  assert.equal(matcher.match("qwen3.5-4b")?.value, 2);
});

Deno.test("ModelMatcher rejects an invalid pattern with its name", () => {
  assert.throws(() => new ModelMatcher([["qwen[", 1]]), (error: unknown) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /^Invalid model pattern "qwen\["/);
    return true;
  });
});

Deno.test("ModelMatcher rejects a duplicate key", () => {
  assert.throws(() => new ModelMatcher([["a", 1], ["a", 2]]), /Duplicate model pattern "a"/);
});

Deno.test("isModelPattern tells globs from literal names", () => {
  const cases: [string, boolean][] = [
    ["qwen3", false],
    ["qwen3:precise", false],
    ["glm-4.5-air", false],
    ["org/model@v1", false],
    ["qwen3-*", true],
    ["qwen3-?b", true],
    ["glm-[45]", true],
    ["{a,b}", true],
    ["@(a|b)", true],
    ["!(a)", true],
    ["+(a)", true],
  ];
  for (const [key, want] of cases) assert.equal(isModelPattern(key), want, key);
});
