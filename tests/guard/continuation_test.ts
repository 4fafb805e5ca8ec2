import type { Dialect } from "../../src/protocols/dialect.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import { AttemptSplicer, continuationBody, retryBody, type SplicedEvent } from "../../src/guard/continuation.ts";
import { Delivery } from "../../src/guard/delivery.ts";
import type { SseEvent } from "../../src/protocols/sse.ts";

const USER = [{ role: "user", content: "Hi" }];

Deno.test("retryBody merges the retry sampling parameters over the body", () => {
  const body = { model: "m", messages: USER, temperature: 0.2 };
  assert.deepEqual(retryBody(body, { temperature: 0.7, presence_penalty: 0.5 }), {
    model: "m",
    messages: USER,
    temperature: 0.7,
    presence_penalty: 0.5,
  });
  assert.equal(body.temperature, 0.2);
});

Deno.test("canPrefill refuses Anthropic requests with thinking on", () => {
  assert.equal(OPENAI_CHAT.guard.canPrefill({ thinking: { type: "enabled" } }), true);
  assert.equal(ANTHROPIC_MESSAGES.guard.canPrefill({}), true);
  assert.equal(ANTHROPIC_MESSAGES.guard.canPrefill({ thinking: { type: "disabled" } }), true);
  assert.equal(ANTHROPIC_MESSAGES.guard.canPrefill({ thinking: { type: "enabled", budget_tokens: 2048 } }), false);
  assert.equal(ANTHROPIC_MESSAGES.guard.canPrefill({ thinking: { type: "adaptive" } }), false);
});

Deno.test("continuationBody appends the delivered text exactly as an OpenAI assistant message", () => {
  const body = { model: "m", messages: USER };
  const continuation = continuationBody(OPENAI_CHAT.guard, body, {
    delivered: "Partial answer ",
    sampling: { seed: 1 },
  });
  assert.deepEqual(continuation, {
    body: { model: "m", seed: 1, messages: [...USER, { role: "assistant", content: "Partial answer " }] },
    trimmed: false,
  });
  assert.equal(body.messages.length, 1);
});

Deno.test("continuationBody leaves trailing whitespace out of an Anthropic prefill", () => {
  const continuation = continuationBody(ANTHROPIC_MESSAGES.guard, { messages: USER }, {
    delivered: "Partial answer \n",
    sampling: {},
  });
  assert.deepEqual(continuation?.body.messages, [...USER, { role: "assistant", content: "Partial answer" }]);
  assert.equal(continuation?.trimmed, true);
});

Deno.test("continuationBody extends the client's own assistant prefill", () => {
  const prefilled = { messages: [...USER, { role: "assistant", content: "{" }] };
  assert.deepEqual(
    continuationBody(OPENAI_CHAT.guard, prefilled, { delivered: '"a": 1', sampling: {} })?.body.messages,
    [
      ...USER,
      { role: "assistant", content: '{"a": 1' },
    ],
  );
  const blocks = { messages: [...USER, { role: "assistant", content: [{ type: "text", text: "Sure" }] }] };
  assert.deepEqual(
    continuationBody(ANTHROPIC_MESSAGES.guard, blocks, { delivered: ", here", sampling: {} })?.body.messages,
    [
      ...USER,
      { role: "assistant", content: [{ type: "text", text: "Sure" }, { type: "text", text: ", here" }] },
    ],
  );
});

Deno.test("continuationBody gives nothing for whitespace only", () => {
  assert.equal(
    continuationBody(ANTHROPIC_MESSAGES.guard, { messages: USER }, { delivered: " \n", sampling: {} }),
    undefined,
  );
});

function openAI(delta: Record<string, unknown>, id = "chatcmpl-new"): SseEvent {
  return { data: JSON.stringify({ id, choices: [{ index: 0, delta, finish_reason: null }] }) };
}

function anthropic(data: Record<string, unknown> & { type: string }): SseEvent {
  return { event: data.type, data: JSON.stringify(data) };
}

function mapAll(splicer: AttemptSplicer, dialect: Dialect, events: SseEvent[]): SplicedEvent[] {
  return events.flatMap((event) => splicer.map(event, dialect.guard.eventFacts(event)));
}

function dataOf(spliced: SplicedEvent[]): unknown[] {
  return spliced.map((item) => JSON.parse(item.event.data));
}

Deno.test("AttemptSplicer drops a repeated OpenAI role chunk and keeps the client's chunk id", () => {
  const delivery = new Delivery(OPENAI_CHAT.guard.delivery);
  delivery.record(OPENAI_CHAT.guard.eventFacts(openAI({ role: "assistant", content: "" }, "chatcmpl-old")));
  const splicer = OPENAI_CHAT.guard.splicer({ delivery, continuation: false, trimLeadingWhitespace: false });
  const out = mapAll(splicer, OPENAI_CHAT, [openAI({ role: "assistant", content: "" }), openAI({ content: "Hi" })]);
  assert.equal(out.length, 1);
  assert.deepEqual(dataOf(out), [{
    id: "chatcmpl-old",
    choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }],
  }]);
  assert.equal(out[0].facts.text.content, "Hi");
});

Deno.test("AttemptSplicer drops leading whitespace of a continuation after a trimmed prefill", () => {
  const delivery = new Delivery(OPENAI_CHAT.guard.delivery);
  const splicer = OPENAI_CHAT.guard.splicer({ delivery, continuation: true, trimLeadingWhitespace: true });
  const out = mapAll(splicer, OPENAI_CHAT, [
    openAI({ content: " " }),
    openAI({ content: " Next" }),
    openAI({ content: " word" }),
  ]);
  assert.deepEqual(out.map((item) => item.facts.text.content), ["", "Next", " word"]);
});

/** A delivery with `message_start` and an open text block 0 holding "Hello". */
function anthropicDelivery(): Delivery {
  const delivery = new Delivery(ANTHROPIC_MESSAGES.guard.delivery);
  for (
    const event of [
      anthropic({ type: "message_start", message: {} }),
      anthropic({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
      anthropic({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } }),
    ]
  ) delivery.record(ANTHROPIC_MESSAGES.guard.eventFacts(event));
  return delivery;
}

/** A splicer continuing after {@link anthropicDelivery}. */
function anthropicContinuation(options: { trimLeadingWhitespace?: boolean } = {}): AttemptSplicer {
  const { trimLeadingWhitespace = false } = options;
  return ANTHROPIC_MESSAGES.guard.splicer({ delivery: anthropicDelivery(), continuation: true, trimLeadingWhitespace });
}

Deno.test("AttemptSplicer moves an Anthropic continuation onto the client's open text block", () => {
  const splicer = anthropicContinuation();
  const out = mapAll(splicer, ANTHROPIC_MESSAGES, [
    anthropic({ type: "message_start", message: {} }),
    anthropic({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    anthropic({ type: "ping" }),
    anthropic({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " world" } }),
    anthropic({ type: "content_block_stop", index: 0 }),
    anthropic({ type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t", name: "x" } }),
    anthropic({ type: "content_block_stop", index: 1 }),
  ]);
  assert.deepEqual(out.map((item) => [item.facts.kind, item.facts.index]), [
    ["ping", undefined],
    ["block_delta", 0],
    ["block_stop", 0],
    ["block_start", 1],
    ["block_stop", 1],
  ]);
});

Deno.test("AttemptSplicer closes the client's text block before a continuation that starts with a tool call", () => {
  const splicer = anthropicContinuation();
  const out = mapAll(splicer, ANTHROPIC_MESSAGES, [
    anthropic({ type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t", name: "x" } }),
    anthropic({ type: "content_block_stop", index: 0 }),
  ]);
  assert.deepEqual(dataOf(out), [
    { type: "content_block_stop", index: 0 },
    { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t", name: "x" } },
    { type: "content_block_stop", index: 1 },
  ]);
  assert.equal(out[0].event.event, "content_block_stop");
});

Deno.test("AttemptSplicer closes the client's text block when a continuation brings no block at all", () => {
  const splicer = anthropicContinuation();
  const out = mapAll(splicer, ANTHROPIC_MESSAGES, [
    anthropic({ type: "message_delta", delta: { stop_reason: "end_turn" } }),
    anthropic({ type: "message_stop" }),
  ]);
  assert.deepEqual(out.map((item) => item.facts.kind), ["block_stop", "tail", "done"]);
});

Deno.test("AttemptSplicer turns text in a continuation's block start into a delta", () => {
  const splicer = anthropicContinuation({ trimLeadingWhitespace: true });
  const out = mapAll(splicer, ANTHROPIC_MESSAGES, [
    anthropic({ type: "content_block_start", index: 0, content_block: { type: "text", text: "  More" } }),
  ]);
  assert.deepEqual(dataOf(out), [{
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: "More" },
  }]);
});
