import type { Dialect } from "../../src/protocols/dialect.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import { Delivery } from "../../src/guard/delivery.ts";
import type { SseEvent } from "../../src/protocols/sse.ts";

function openAIAnswer(message: Record<string, unknown>): Record<string, unknown> {
  return {
    id: "c1",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: "stop" }],
    usage: { prompt_tokens: 10, completion_tokens: 400, total_tokens: 410 },
  };
}

const call = (args: string) => ({ id: "x", type: "function", function: { name: "Bash", arguments: args } });

Deno.test("cutAnswer ends OpenAI content at the offset, drops later tool calls and keeps usage", () => {
  const body = openAIAnswer({ content: "abcdefgh", reasoning_content: "think", tool_calls: [call("{}")] });
  const cut = OPENAI_CHAT.guard.cutAnswer(body, { channel: "content", at: 3 });
  assert.deepEqual(cut.choices, [{
    index: 0,
    message: { role: "assistant", content: "abc", reasoning_content: "think" },
    finish_reason: "length",
  }]);
  assert.deepEqual(cut.usage, body.usage);
});

Deno.test("cutAnswer ends OpenAI reasoning at the offset and drops the content after it", () => {
  const cut = OPENAI_CHAT.guard.cutAnswer(openAIAnswer({ content: "answer", reasoning: "wait wait" }), {
    channel: "reasoning",
    at: 5,
  });
  assert.deepEqual((cut.choices as Record<string, unknown>[])[0].message, {
    role: "assistant",
    content: "",
    reasoning: "wait ",
  });
});

Deno.test("cutAnswer drops OpenAI tool calls from the cut on, by offset or by call", () => {
  const body = openAIAnswer({ content: null, tool_calls: [call('{"a":1}'), call('{"b":2}'), call('{"b":2}')] });
  const message = (answer: Record<string, unknown>) =>
    (answer.choices as Record<string, Record<string, unknown>>[])[0].message;
  assert.equal(
    (message(OPENAI_CHAT.guard.cutAnswer(body, { channel: "tool", at: 10 })).tool_calls as unknown[]).length,
    1,
  );
  assert.equal(
    (message(OPENAI_CHAT.guard.cutAnswer(body, { channel: "tool", call: 2 })).tool_calls as unknown[]).length,
    2,
  );
  assert.equal(message(OPENAI_CHAT.guard.cutAnswer(body, { channel: "tool", at: 0 })).tool_calls, undefined);
});

Deno.test("cutAnswer without a cut only marks an answer as a length cut", () => {
  const body = openAIAnswer({ content: "all of it" });
  const cut = OPENAI_CHAT.guard.cutAnswer(body, undefined);
  assert.equal((cut.choices as Record<string, unknown>[])[0].finish_reason, "length");
  assert.deepEqual((cut.choices as Record<string, unknown>[])[0].message, { role: "assistant", content: "all of it" });
  const anthropic = ANTHROPIC_MESSAGES.guard.cutAnswer(
    { content: [{ type: "text", text: "x" }], stop_reason: "end_turn" },
    undefined,
  );
  assert.deepEqual(anthropic, {
    content: [{ type: "text", text: "x" }],
    stop_reason: "max_tokens",
    stop_sequence: null,
  });
});

Deno.test("cutAnswer ends Anthropic text across blocks, and drops a thinking or tool block the cut falls into", () => {
  const body = {
    type: "message",
    content: [
      { type: "thinking", thinking: "hmm hmm", signature: "sig" },
      { type: "text", text: "abc" },
      { type: "tool_use", id: "t1", name: "Bash", input: { a: 1 } },
      { type: "text", text: "defgh" },
    ],
    stop_reason: "end_turn",
    usage: { input_tokens: 5, output_tokens: 50 },
  };
  const text = ANTHROPIC_MESSAGES.guard.cutAnswer(body, { channel: "content", at: 5 });
  assert.deepEqual(text.content, [body.content[0], body.content[1], body.content[2], { type: "text", text: "de" }]);
  assert.equal(text.stop_reason, "max_tokens");
  assert.deepEqual(text.usage, body.usage);
  assert.deepEqual(ANTHROPIC_MESSAGES.guard.cutAnswer(body, { channel: "reasoning", at: 4 }).content, []);
  assert.deepEqual(
    ANTHROPIC_MESSAGES.guard.cutAnswer(body, { channel: "tool", at: 2 }).content,
    body.content.slice(0, 2),
  );
  assert.deepEqual(
    ANTHROPIC_MESSAGES.guard.cutAnswer(body, { channel: "tool", call: 0 }).content,
    body.content.slice(0, 2),
  );
  assert.deepEqual(
    ANTHROPIC_MESSAGES.guard.cutAnswer(body, { channel: "content", at: 3 }).content,
    body.content.slice(0, 3),
  );
});

function delivered(dialect: Dialect, events: SseEvent[]): Delivery {
  const delivery = new Delivery(dialect.guard.delivery);
  for (const event of events) delivery.record(dialect.guard.eventFacts(event));
  return delivery;
}

Deno.test("lengthCutEvents closes the open Anthropic block and ends with max_tokens and the output estimate", () => {
  const delivery = delivered(ANTHROPIC_MESSAGES, [
    { event: "message_start", data: JSON.stringify({ type: "message_start", message: { id: "m" } }) },
    {
      event: "content_block_start",
      data: JSON.stringify({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    },
    {
      event: "content_block_delta",
      data: JSON.stringify({
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "x".repeat(40) },
      }),
    },
  ]);
  const events = ANTHROPIC_MESSAGES.guard.lengthCutEvents(delivery, { includeUsage: false, body: {} });
  assert.deepEqual(events.map((event) => JSON.parse(event.data)), [
    { type: "content_block_stop", index: 0 },
    {
      type: "message_delta",
      delta: { stop_reason: "max_tokens", stop_sequence: null },
      usage: { output_tokens: Math.ceil(delivery.outputWeight) },
    },
    { type: "message_stop" },
  ]);
  assert.ok(delivery.outputWeight > 0);
});

Deno.test("lengthCutEvents ends an OpenAI stream with finish_reason length, usage when asked, and [DONE]", () => {
  const chunk = { id: "c1", object: "chat.completion.chunk", created: 7, model: "m" };
  const delivery = delivered(OPENAI_CHAT, [
    { data: JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: "hello there" } }] }) },
  ]);
  const body = { messages: [{ role: "user", content: "Explain the loader" }] };
  const events = OPENAI_CHAT.guard.lengthCutEvents(delivery, { includeUsage: true, body });
  assert.equal(events.length, 3);
  assert.deepEqual(JSON.parse(events[0].data), {
    ...chunk,
    choices: [{ index: 0, delta: {}, finish_reason: "length" }],
  });
  const usage = JSON.parse(events[1].data);
  assert.deepEqual(usage.choices, []);
  assert.ok(usage.usage.prompt_tokens > 0 && usage.usage.completion_tokens > 0);
  assert.equal(usage.usage.total_tokens, usage.usage.prompt_tokens + usage.usage.completion_tokens);
  assert.equal(events[2].data, "[DONE]");
  assert.equal(OPENAI_CHAT.guard.lengthCutEvents(delivery, { includeUsage: false, body }).length, 2);
});

/** Array content (Mistral): a thinking part given as text parts, then text parts. */
const PARTS = [
  { type: "thinking", thinking: [{ type: "text", text: "Plan. " }, { type: "text", text: "wait wait" }] },
  { type: "text", text: "abc" },
  { type: "text", text: "defgh" },
];

Deno.test("cutAnswer cuts array content in its text parts and keeps the thinking part before it", () => {
  const cut = OPENAI_CHAT.guard.cutAnswer(openAIAnswer({ content: PARTS }), { channel: "content", at: 5 });
  assert.deepEqual((cut.choices as Record<string, Record<string, unknown>>[])[0].message.content, [
    PARTS[0],
    PARTS[1],
    { type: "text", text: "de" },
  ]);
});

Deno.test("cutAnswer cuts the reasoning of array content after the reasoning field, in the part's shape", () => {
  const body = openAIAnswer({ reasoning_content: "Think. ", content: PARTS });
  const message = (at: number) =>
    (OPENAI_CHAT.guard.cutAnswer(body, { channel: "reasoning", at }).choices as Record<
      string,
      Record<string, unknown>
    >[])[0]
      .message;
  assert.deepEqual(message(7 + 10), {
    role: "assistant",
    reasoning_content: "Think. ",
    content: [{ type: "thinking", thinking: [{ type: "text", text: "Plan. wait" }] }],
  });
  assert.deepEqual(message(3), { role: "assistant", reasoning_content: "Thi", content: "" });
});
