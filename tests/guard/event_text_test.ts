import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import { isContentBearing } from "../../src/guard/event_text.ts";

function openAIChunk(delta: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { data: JSON.stringify({ id: "c1", choices: [{ index: 0, delta, finish_reason: null }], ...extra }) };
}

function anthropicEvent(data: Record<string, unknown> & { type: string }) {
  return { event: data.type, data: JSON.stringify(data) };
}

Deno.test("eventFacts reads OpenAI content, reasoning and tool arguments", () => {
  const content = OPENAI_CHAT.guard.eventFacts(openAIChunk({ content: "Hi" }));
  assert.deepEqual([content.kind, content.text], ["chunk", { content: "Hi", reasoning: "", tool: "" }]);
  assert.equal(OPENAI_CHAT.guard.eventFacts(openAIChunk({ reasoning_content: "Hmm" })).text.reasoning, "Hmm");
  assert.equal(OPENAI_CHAT.guard.eventFacts(openAIChunk({ reasoning: "Hmm" })).text.reasoning, "Hmm");
  const tools = OPENAI_CHAT.guard.eventFacts(
    openAIChunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }, { index: 1, function: {} }] }),
  );
  assert.equal(tools.kind, "chunk");
  assert.equal(tools.tool, true);
  assert.equal(tools.text.tool, '{"a":');
});

Deno.test("eventFacts tells the OpenAI role chunk, the finish chunk, [DONE] and errors apart", () => {
  assert.equal(OPENAI_CHAT.guard.eventFacts(openAIChunk({ role: "assistant", content: "" })).kind, "start");
  const finish = { data: JSON.stringify({ id: "c1", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) };
  assert.equal(OPENAI_CHAT.guard.eventFacts(finish).kind, "tail");
  assert.equal(
    OPENAI_CHAT.guard.eventFacts({ data: JSON.stringify({ id: "c1", choices: [], usage: {} }) }).kind,
    "tail",
  );
  assert.equal(OPENAI_CHAT.guard.eventFacts({ data: "[DONE]" }).kind, "done");
  assert.equal(OPENAI_CHAT.guard.eventFacts({ data: '{"error":{"message":"boom"}}' }).kind, "error");
  assert.equal(OPENAI_CHAT.guard.eventFacts({ data: "not json" }).kind, "other");
  // vLLM's `tool_calls: []` beside text is text only.
  assert.equal(OPENAI_CHAT.guard.eventFacts(openAIChunk({ content: "x", tool_calls: [] })).tool, false);
});

Deno.test("eventFacts reads Anthropic deltas and block starts with their index", () => {
  const text = ANTHROPIC_MESSAGES.guard.eventFacts(
    anthropicEvent({ type: "content_block_delta", index: 2, delta: { type: "text_delta", text: "Hi" } }),
  );
  assert.deepEqual([text.kind, text.index, text.text.content], ["block_delta", 2, "Hi"]);
  const thinking = anthropicEvent({
    type: "content_block_delta",
    index: 0,
    delta: { type: "thinking_delta", thinking: "Hm" },
  });
  assert.equal(ANTHROPIC_MESSAGES.guard.eventFacts(thinking).text.reasoning, "Hm");
  const json = anthropicEvent({
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: "{" },
  });
  assert.equal(ANTHROPIC_MESSAGES.guard.eventFacts(json).text.tool, "{");
  const start = ANTHROPIC_MESSAGES.guard.eventFacts(
    anthropicEvent({ type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t", name: "x" } }),
  );
  assert.deepEqual([start.kind, start.blockType, start.tool], ["block_start", "tool_use", true]);
  const withText = anthropicEvent({
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "Hey" },
  });
  assert.equal(ANTHROPIC_MESSAGES.guard.eventFacts(withText).text.content, "Hey");
});

Deno.test("eventFacts tells the Anthropic message events apart", () => {
  const kinds = ["message_start", "ping", "content_block_stop", "message_delta", "message_stop", "error", "unknown"]
    .map((type) => ANTHROPIC_MESSAGES.guard.eventFacts(anthropicEvent({ type, index: 0 })).kind);
  assert.deepEqual(kinds, ["start", "ping", "block_stop", "tail", "done", "error", "other"]);
  assert.equal(ANTHROPIC_MESSAGES.guard.eventFacts({ data: "{" }).kind, "other");
});

Deno.test("isContentBearing is true for text, tool calls and blocks, false for the stream's frame", () => {
  assert.equal(isContentBearing(OPENAI_CHAT.guard.eventFacts(openAIChunk({ content: "x" }))), true);
  assert.equal(
    isContentBearing(OPENAI_CHAT.guard.eventFacts(openAIChunk({ tool_calls: [{ index: 0, id: "c" }] }))),
    true,
  );
  assert.equal(isContentBearing(OPENAI_CHAT.guard.eventFacts(openAIChunk({ role: "assistant" }))), false);
  assert.equal(
    isContentBearing(ANTHROPIC_MESSAGES.guard.eventFacts(anthropicEvent({ type: "content_block_stop", index: 0 }))),
    true,
  );
  assert.equal(isContentBearing(ANTHROPIC_MESSAGES.guard.eventFacts(anthropicEvent({ type: "message_start" }))), false);
  assert.equal(isContentBearing(ANTHROPIC_MESSAGES.guard.eventFacts(anthropicEvent({ type: "ping" }))), false);
});

Deno.test("answerText reads an OpenAI answer's channels and tool calls", () => {
  const body = {
    choices: [{
      index: 0,
      message: {
        content: "Answer",
        reasoning_content: "Thought",
        tool_calls: [{ function: { name: "a", arguments: "{}" } }, { function: { name: "b", arguments: '{"x":1}' } }],
      },
    }],
  };
  assert.deepEqual(OPENAI_CHAT.guard.answerText(body), {
    text: { content: "Answer", reasoning: "Thought", tool: '{}\n{"x":1}' },
    toolCalls: [{ name: "a", args: "{}" }, { name: "b", args: '{"x":1}' }],
  });
  const parts = { choices: [{ message: { content: [{ type: "text", text: "A" }, { type: "text", text: "B" }] } }] };
  assert.equal(OPENAI_CHAT.guard.answerText(parts).text.content, "AB");
});

Deno.test("answerText reads an Anthropic answer's blocks", () => {
  const body = {
    content: [
      { type: "thinking", thinking: "Thought", signature: "s" },
      { type: "text", text: "Answer" },
      { type: "tool_use", id: "t", name: "read", input: { path: "a" } },
    ],
  };
  assert.deepEqual(ANTHROPIC_MESSAGES.guard.answerText(body), {
    text: { content: "Answer", reasoning: "Thought", tool: '{"path":"a"}' },
    toolCalls: [{ name: "read", args: { path: "a" } }],
  });
  assert.deepEqual(ANTHROPIC_MESSAGES.guard.answerText(null).text, { content: "", reasoning: "", tool: "" });
});

/** Mistral's reasoning models: content as an array of a thinking part (itself text parts) and text parts. */
const MISTRAL_PARTS = [
  { type: "thinking", thinking: [{ type: "text", text: "Plan " }, { type: "text", text: "it." }] },
  { type: "text", text: "Hello" },
  { type: "image_url", image_url: { url: "data:," } },
  { type: "text", text: " there" },
];

Deno.test("eventFacts reads array content parts: text as content, thinking as reasoning", () => {
  const facts = OPENAI_CHAT.guard.eventFacts(openAIChunk({ content: MISTRAL_PARTS }));
  assert.deepEqual([facts.kind, facts.text], ["chunk", { content: "Hello there", reasoning: "Plan it.", tool: "" }]);
  const thinking = OPENAI_CHAT.guard.eventFacts(openAIChunk({ content: [{ type: "reasoning", reasoning: "Hm" }] }));
  assert.deepEqual([thinking.kind, thinking.text.reasoning], ["chunk", "Hm"]);
});

Deno.test("answerText reads array content parts of a whole OpenAI answer, after the reasoning field", () => {
  const body = {
    choices: [{ index: 0, message: { role: "assistant", reasoning_content: "First. ", content: MISTRAL_PARTS } }],
  };
  assert.deepEqual(OPENAI_CHAT.guard.answerText(body).text, {
    content: "Hello there",
    reasoning: "First. Plan it.",
    tool: "",
  });
});
