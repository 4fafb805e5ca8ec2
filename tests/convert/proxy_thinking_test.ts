import assert from "node:assert/strict";
import { SYNTHETIC_THINKING_SIGNATURE } from "../../src/convert/anthropic_openai/synthetic.ts";
import { dropProxyThinking, mentionsProxyThinking } from "../../src/convert/proxy_thinking.ts";

const PROXY_THINKING = {
  type: "thinking",
  thinking: "Reasoning from an OpenAI upstream",
  signature: SYNTHETIC_THINKING_SIGNATURE,
};
const REAL_THINKING = { type: "thinking", thinking: "Reasoning from Claude", signature: "EqQBCkYIBxgCKkB" };
const TOOL_USE = { type: "tool_use", id: "toolu_01", name: "Bash", input: { command: "ls" } };
const TOOL_RESULT = { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "a.ts" }] };

Deno.test("mentionsProxyThinking finds the proxy's signature in a raw body", () => {
  assert.equal(mentionsProxyThinking(JSON.stringify({ messages: [{ content: [PROXY_THINKING] }] })), true);
  assert.equal(mentionsProxyThinking(JSON.stringify({ messages: [{ content: [REAL_THINKING] }] })), false);
});

Deno.test("dropProxyThinking drops only proxy-signed thinking blocks and empty assistant turns", () => {
  const body: Record<string, unknown> = {
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", content: [PROXY_THINKING, { type: "text", text: "Hello" }] },
      { role: "user", content: "Go on" },
      { role: "assistant", content: [PROXY_THINKING] },
      { role: "user", content: [{ type: "text", text: "Again" }] },
      { role: "assistant", content: [REAL_THINKING, { type: "text", text: "Sure" }] },
    ],
  };
  assert.equal(dropProxyThinking(body), true);
  assert.deepEqual(body.messages, [
    { role: "user", content: "Hi" },
    { role: "assistant", content: [{ type: "text", text: "Hello" }] },
    { role: "user", content: "Go on" },
    { role: "user", content: [{ type: "text", text: "Again" }] },
    { role: "assistant", content: [REAL_THINKING, { type: "text", text: "Sure" }] },
  ]);
  const untouched = { messages: [{ role: "assistant", content: [REAL_THINKING] }] };
  assert.equal(dropProxyThinking(untouched), false);
  assert.deepEqual(untouched, { messages: [{ role: "assistant", content: [REAL_THINKING] }] });
});

Deno.test("dropProxyThinking turns thinking off when the last tool turn lost its thinking block", () => {
  const thinking = { type: "enabled", budget_tokens: 2048 };
  const body: Record<string, unknown> = {
    thinking,
    messages: [
      { role: "user", content: "List" },
      { role: "assistant", content: [PROXY_THINKING, TOOL_USE] },
      TOOL_RESULT,
    ],
  };
  assert.equal(dropProxyThinking(body), true);
  assert.equal(body.thinking, undefined);
  const earlier: Record<string, unknown> = {
    thinking,
    messages: [
      { role: "user", content: "List" },
      { role: "assistant", content: [PROXY_THINKING, { type: "text", text: "Done" }] },
      { role: "user", content: "Now list" },
      { role: "assistant", content: [REAL_THINKING, TOOL_USE] },
      TOOL_RESULT,
    ],
  };
  assert.equal(dropProxyThinking(earlier), true);
  assert.deepEqual(earlier.thinking, thinking, "the last tool turn still starts with real thinking");
});
