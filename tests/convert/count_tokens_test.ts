import assert from "node:assert/strict";
import type { AnthropicCountTokensRequest, AnthropicTool } from "../../src/protocols/anthropic.ts";
import {
  estimateAnthropicInputTokens,
  IMAGE_TOKENS,
  imageTokenEstimate,
  textTokenWeight,
  toTokenizeText,
} from "../../src/convert/count_tokens.ts";
import claudeCodeTools from "../testdata/convert/claude_code_tools.json" with { type: "json" };
import claudeCodeRequest from "../testdata/convert/claude_code_request.json" with { type: "json" };

const ENGLISH = "The proxy converts each request before it forwards it to the upstream server, and it converts " +
  "the streamed answer back so that the client never notices the difference between the two protocols. ";

Deno.test("textTokenWeight counts about 3.5 to 4 English characters per token", () => {
  const text = ENGLISH.repeat(20);
  const charsPerToken = text.length / textTokenWeight(text);
  assert.ok(charsPerToken >= 3.5 && charsPerToken <= 4, `${charsPerToken} characters per token`);
});

Deno.test("textTokenWeight counts about one token per CJK character", () => {
  assert.equal(textTokenWeight("你好世界こんにちは안녕하세요"), 14);
  assert.equal(textTokenWeight("🙂"), 1.5);
});

Deno.test("estimateAnthropicInputTokens counts the system prompt and the tools", () => {
  const bare: AnthropicCountTokensRequest = { model: "m", messages: [{ role: "user", content: "Hi" }] };
  const withSystem = { ...bare, system: [{ type: "text" as const, text: ENGLISH.repeat(10) }] };
  const withTools = { ...withSystem, tools: claudeCodeTools as AnthropicTool[] };
  const [a, b, c] = [bare, withSystem, withTools].map(estimateAnthropicInputTokens);
  assert.ok(a < 10, `bare request: ${a}`);
  assert.ok(b - a > 400, `system adds ${b - a}`);
  assert.ok(c - b > 4000, `Claude Code's tools add ${c - b}, in the thousands`);
});

Deno.test("estimateAnthropicInputTokens counts tool calls, tool results, thinking and images", () => {
  const request = claudeCodeRequest as unknown as AnthropicCountTokensRequest;
  const withoutMessages = estimateAnthropicInputTokens({ ...request, messages: [] });
  const total = estimateAnthropicInputTokens(request);
  assert.ok(total - withoutMessages >= IMAGE_TOKENS + 80, `messages add ${total - withoutMessages}`);
  assert.equal(imageTokenEstimate(request), IMAGE_TOKENS);
  const text = toTokenizeText(request);
  for (const part of ["ls -la src | head -20", "drwxr-xr-x", "read the image and list src", "Use deno fmt"]) {
    assert.ok(text.includes(part), part);
  }
  assert.equal(text.includes("iVBORw0KGgo"), false, "image data is not text");
});

Deno.test("toTokenizeText renders the system prompt, the tools and each message", () => {
  const text = toTokenizeText({
    model: "m",
    system: "Be brief",
    tools: [{ name: "Bash", description: "Runs a command", input_schema: { type: "object" } }],
    messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: [{ type: "text", text: "Hello" }] }],
  });
  assert.equal(
    text,
    'Be brief\n\n{"name":"Bash","description":"Runs a command","input_schema":{"type":"object"}}\n\nuser: Hi\n\n' +
      "assistant: Hello",
  );
});

Deno.test("estimateAnthropicInputTokens tolerates a body without messages", () => {
  assert.equal(estimateAnthropicInputTokens({ model: "m" } as AnthropicCountTokensRequest), 0);
});
