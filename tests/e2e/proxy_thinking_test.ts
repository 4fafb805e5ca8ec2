/**
 * End-to-end: thinking blocks the proxy signed for an OpenAI upstream's reasoning never reach an Anthropic upstream,
 * which would reject their signature; bodies without one still pass through byte for byte.
 */

import assert from "node:assert/strict";
import { Anthropic } from "../support/sdk.ts";
import { OpenAI } from "../support/sdk.ts";
import { SYNTHETIC_THINKING_SIGNATURE } from "../../src/convert/anthropic_openai/synthetic.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";
import { upstreamJson } from "./harness.ts";

const MODEL = "claude-sonnet-4-5";
const PROXY_THINKING = { type: "thinking", thinking: "From an OpenAI model", signature: SYNTHETIC_THINKING_SIGNATURE };

Deno.test("a conversation that switched to an Anthropic upstream loses the proxy's thinking blocks on the way", async () => {
  await using mock = await startMockUpstream({ protocols: { openai: false, anthropic: true } });
  await using proxy = await startProxy({
    upstreams: [{ name: "claude", base_url: mock.url, supports_openai: false, supports_anthropic: true }],
  });
  const client = new Anthropic({ baseURL: proxy.url, apiKey: "k", maxRetries: 0 });
  await client.messages.create({
    model: MODEL,
    max_tokens: 2048,
    thinking: { type: "enabled", budget_tokens: 1024 },
    messages: [
      { role: "user", content: "List the files" },
      {
        role: "assistant",
        content: [
          PROXY_THINKING as Anthropic.ThinkingBlockParam,
          { type: "tool_use", id: "toolu_sp_Kx1aB2", name: "Bash", input: { command: "ls" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_sp_Kx1aB2", content: "a.ts" }] },
    ],
  });
  const sent = upstreamJson(mock, 0);
  assert.ok(!mock.requests[0].body.includes(SYNTHETIC_THINKING_SIGNATURE));
  assert.deepEqual((sent.messages as { content: unknown }[])[1].content, [
    { type: "tool_use", id: "toolu_sp_Kx1aB2", name: "Bash", input: { command: "ls" } },
  ]);
  assert.equal(sent.thinking, undefined, "Anthropic wants thinking first in the last tool turn, so it is off");
});

Deno.test("a passthrough body without proxy-made thinking is still forwarded byte for byte", async () => {
  await using mock = await startMockUpstream({ protocols: { openai: false, anthropic: true } });
  await using proxy = await startProxy({
    upstreams: [{ name: "claude", base_url: mock.url, supports_openai: false, supports_anthropic: true }],
  });
  const text = `{"model":"${MODEL}",  "max_tokens":64,"messages":[{"role":"assistant","content":[` +
    `{"type":"thinking","thinking":"x","signature":"EqQBCkYIBxgC"},{"type":"text","text":"Hi"}]},` +
    `{"role":"user","content":"Go on"}]}`;
  const response = await fetch(`${proxy.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
    body: text,
  });
  await response.body?.cancel();
  assert.equal(response.status, 200);
  assert.equal(mock.requests[0].body, text);
});

Deno.test("an OpenAI client's proxy-signed thinking_blocks do not reach the Anthropic upstream", async () => {
  await using mock = await startMockUpstream({ protocols: { openai: false, anthropic: true } });
  await using proxy = await startProxy({
    upstreams: [{ name: "claude", base_url: mock.url, supports_openai: false, supports_anthropic: true }],
  });
  const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "k", maxRetries: 0 });
  await client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello", thinking_blocks: [PROXY_THINKING] } as OpenAI.ChatCompletionMessageParam,
      { role: "user", content: "Go on" },
    ],
  });
  assert.ok(!mock.requests[0].body.includes(SYNTHETIC_THINKING_SIGNATURE));
  assert.deepEqual((upstreamJson(mock, 0).messages as { content: unknown }[])[1].content, [{
    type: "text",
    text: "Hello",
  }]);
});
