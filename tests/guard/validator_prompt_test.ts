import assert from "node:assert/strict";
import { buildLoopPrompt, type LoopAnswer, parseLoopAnswer } from "../../src/guard/validator_prompt.ts";

Deno.test("parseLoopAnswer reads verdicts in the shapes models produce", () => {
  const cases: { name: string; reply: string; want: LoopAnswer }[] = [
    {
      name: "plain object",
      reply: '{"is_loop": true, "confidence": 0.93, "issue": "same sentence"}',
      want: { isLoop: true, confidence: 0.93, issue: "same sentence" },
    },
    {
      name: "code fence",
      reply: '```json\n{"is_loop": false, "confidence": 0.99, "issue": ""}\n```',
      want: { isLoop: false, confidence: 0.99, issue: null },
    },
    {
      name: "thinking block first",
      reply: '<think>It says {"is_loop": false}… a loop.</think>\n{"is_loop":true,"confidence":0.9,"issue":"x"}',
      want: { isLoop: true, confidence: 0.9, issue: "x" },
    },
    {
      name: "prose around and braces inside strings",
      reply: 'Sure! Here: {"is_loop": true, "confidence": 0.88, "issue": "repeats \\"{a}\\" forever"} Hope it helps.',
      want: { isLoop: true, confidence: 0.88, issue: 'repeats "{a}" forever' },
    },
    {
      name: "seed format is_valid",
      reply: '{"is_valid": false, "issue_type": "repetition", "confidence": 0.95}',
      want: { isLoop: true, confidence: 0.95, issue: "repetition" },
    },
    {
      name: "string values and a percentage",
      reply: '{"is_loop": "true", "confidence": "87", "issue": null}',
      want: { isLoop: true, confidence: 0.87, issue: null },
    },
    {
      name: "an unrelated object before the verdict",
      reply: 'Example {"a": 1} then {"is_loop": false, "confidence": 1}',
      want: { isLoop: false, confidence: 1, issue: null },
    },
  ];
  for (const { name, reply, want } of cases) assert.deepEqual(parseLoopAnswer(reply), want, name);
});

Deno.test("parseLoopAnswer rejects replies without a usable verdict", () => {
  const replies = [
    "",
    "I think this is a loop.",
    '<think>still thinking {"is_loop": true, "confidence": 1}',
    '{"is_loop": true}',
    '{"is_loop": "maybe", "confidence": 0.9}',
    '{"is_loop": true, "confidence": 250}',
    '{"is_loop": true, "confidence": 0.9',
  ];
  for (const reply of replies) assert.throws(() => parseLoopAnswer(reply), SyntaxError, JSON.stringify(reply));
});

Deno.test("buildLoopPrompt wraps the excerpt and quotes the detector's reason on one line", () => {
  const prompt = buildLoopPrompt("I will check. I will check.", {
    truncated: true,
    reason: "periodic-tail,\nperiod 14",
  });
  assert.match(prompt, /<text>\nI will check\. I will check\.\n<\/text>/);
  assert.match(prompt, /\(periodic-tail, period 14\)/);
  assert.match(prompt, /may begin mid-sentence/);
  assert.match(prompt, /"is_loop"/);
  const plain = buildLoopPrompt("x", { truncated: false });
  assert.doesNotMatch(plain, /detector|mid-sentence/);
});
