import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import { Delivery } from "../../src/guard/delivery.ts";

function openAI(delta: Record<string, unknown>, id = "chatcmpl-1") {
  return OPENAI_CHAT.guard.eventFacts({ data: JSON.stringify({ id, choices: [{ index: 0, delta }] }) });
}

function anthropic(data: Record<string, unknown> & { type: string }) {
  return ANTHROPIC_MESSAGES.guard.eventFacts({ event: data.type, data: JSON.stringify(data) });
}

const TEXT_START = { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } };
const TEXT_DELTA = { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } };

Deno.test("Delivery counts nothing of the answer until text or a block is sent", () => {
  const delivery = new Delivery(OPENAI_CHAT.guard.delivery);
  delivery.record(openAI({ role: "assistant", content: "" }));
  assert.equal(delivery.started, true);
  assert.equal(delivery.contentSent, false);
  assert.equal(delivery.chunkId, "chatcmpl-1");
  delivery.record(openAI({ content: "Hi" }, "chatcmpl-2"));
  assert.equal(delivery.contentSent, true);
  assert.equal(delivery.chunkId, "chatcmpl-1");
});

Deno.test("Delivery is continuable after plain OpenAI content only", () => {
  const delivery = new Delivery(OPENAI_CHAT.guard.delivery);
  assert.equal(delivery.continuable, false);
  delivery.record(openAI({ content: "Hello " }));
  delivery.record(openAI({ content: "world" }));
  assert.equal(delivery.text, "Hello world");
  assert.equal(delivery.continuable, true);
});

Deno.test("Delivery is not continuable after reasoning or a tool call", () => {
  const reasoning = new Delivery(OPENAI_CHAT.guard.delivery);
  reasoning.record(openAI({ reasoning_content: "Hmm" }));
  reasoning.record(openAI({ content: "Hello" }));
  assert.equal(reasoning.continuable, false);
  const tool = new Delivery(OPENAI_CHAT.guard.delivery);
  tool.record(openAI({ content: "Hello" }));
  tool.record(openAI({ tool_calls: [{ index: 0, id: "c", type: "function", function: { name: "x" } }] }));
  assert.equal(tool.continuable, false);
});

Deno.test("Delivery is continuable with exactly one open Anthropic text block", () => {
  const delivery = new Delivery(ANTHROPIC_MESSAGES.guard.delivery);
  delivery.record(anthropic({ type: "message_start", message: {} }));
  delivery.record(anthropic(TEXT_START));
  delivery.record(anthropic(TEXT_DELTA));
  assert.equal(delivery.openTextIndex, 0);
  assert.equal(delivery.continuable, true);
  delivery.record(anthropic({ type: "content_block_stop", index: 0 }));
  assert.equal(delivery.openTextIndex, undefined);
  assert.equal(delivery.continuable, false);
});

Deno.test("Delivery is not continuable after an Anthropic thinking block", () => {
  const delivery = new Delivery(ANTHROPIC_MESSAGES.guard.delivery);
  delivery.record(
    anthropic({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
  );
  delivery.record(anthropic({ type: "content_block_stop", index: 0 }));
  delivery.record(anthropic({ ...TEXT_START, index: 1 }));
  delivery.record(anthropic({ ...TEXT_DELTA, index: 1 }));
  assert.equal(delivery.continuable, false);
});

Deno.test("Delivery records the stream's end", () => {
  const openai = new Delivery(OPENAI_CHAT.guard.delivery);
  openai.record(OPENAI_CHAT.guard.eventFacts({ data: "[DONE]" }));
  assert.equal(openai.ended, true);
  const anthropicError = new Delivery(ANTHROPIC_MESSAGES.guard.delivery);
  anthropicError.record(anthropic({ type: "error", error: { type: "api_error", message: "x" } }));
  assert.equal(anthropicError.ended, true);
});
