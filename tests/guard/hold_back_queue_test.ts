import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import type { Dialect } from "../../src/protocols/dialect.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import assert from "node:assert/strict";
import { type ChannelVerdict, HoldBackQueue } from "../../src/guard/hold_back_queue.ts";
import type { SseEvent } from "../../src/protocols/sse.ts";

function chunk(delta: Record<string, unknown>, finish: string | null = null): SseEvent {
  return { data: JSON.stringify({ id: "c", choices: [{ index: 0, delta, finish_reason: finish }] }) };
}

function anthropic(data: Record<string, unknown> & { type: string }): SseEvent {
  return { event: data.type, data: JSON.stringify(data) };
}

function textDelta(index: number, text: string): SseEvent {
  return anthropic({ type: "content_block_delta", index, delta: { type: "text_delta", text } });
}

/** Pushes OpenAI events and returns the verdicts raised. */
function pushAll(queue: HoldBackQueue, events: SseEvent[], dialect: Dialect = OPENAI_CHAT) {
  return events.flatMap((event) => queue.push(event, dialect.guard.eventFacts(event)));
}

/** The `data` of released events. */
function released(queue: HoldBackQueue): string[] {
  return queue.release().map((held) => held.event.data);
}

const WORDS = "Healthy prose keeps changing from one sentence to the next, so nothing here repeats at all. ";

Deno.test("HoldBackQueue holds the text of the last holdBackChars and releases the rest at finish", () => {
  const queue = new HoldBackQueue({ holdBackChars: 64 });
  const pieces = WORDS.split(/(?<= )/);
  pushAll(queue, pieces.map((word) => chunk({ content: word })));
  const early = released(queue).map((data) => JSON.parse(data).choices[0].delta.content).join("");
  assert.ok(early.length > 0 && early.length <= WORDS.length - 64, `released ${early.length}`);
  assert.deepEqual(queue.finish(), []);
  const rest = released(queue).map((data) => JSON.parse(data).choices[0].delta.content).join("");
  assert.equal(early + rest, WORDS);
  assert.equal(queue.length, 0);
  assert.equal(queue.heldChars, 0);
});

Deno.test("HoldBackQueue keeps events without text behind held text", () => {
  const queue = new HoldBackQueue({ holdBackChars: 256 });
  pushAll(queue, [chunk({ role: "assistant", content: "" }), chunk({ content: "Hi" }), chunk({}, "stop")]);
  assert.equal(released(queue).length, 1); // the role chunk only
  queue.finish();
  assert.equal(released(queue).length, 2);
});

Deno.test("HoldBackQueue opens an Anthropic block only together with its first releasable delta", () => {
  const queue = new HoldBackQueue({ holdBackChars: 8 });
  const start = anthropic({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
  pushAll(queue, [anthropic({ type: "message_start", message: {} }), start], ANTHROPIC_MESSAGES);
  assert.deepEqual(released(queue).map((data) => JSON.parse(data).type), ["message_start"]);
  pushAll(queue, [textDelta(0, "Hello")], ANTHROPIC_MESSAGES);
  assert.deepEqual(released(queue), []);
  pushAll(queue, [textDelta(0, " world, how are you?")], ANTHROPIC_MESSAGES);
  assert.deepEqual(released(queue).map((data) => JSON.parse(data).type), [
    "content_block_start",
    "content_block_delta",
  ]);
});

Deno.test("HoldBackQueue releases an empty Anthropic block when its stop arrives", () => {
  const queue = new HoldBackQueue();
  pushAll(queue, [
    anthropic({ type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t", name: "x" } }),
    anthropic({ type: "content_block_stop", index: 0 }),
  ], ANTHROPIC_MESSAGES);
  assert.equal(released(queue).length, 2);
});

Deno.test("HoldBackQueue does not count an empty first delta as the content a tool block opens with", () => {
  const queue = new HoldBackQueue({ holdBackChars: 64 });
  const start = anthropic({
    type: "content_block_start",
    index: 0,
    content_block: { type: "tool_use", id: "toolu_1", name: "Read", input: {} },
  });
  const json = (partial_json: string) =>
    anthropic({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json } });
  pushAll(queue, [start, json(""), json('{"path":"a.ts"}')], ANTHROPIC_MESSAGES);
  assert.deepEqual(released(queue), [], "the block waits for its held arguments, not for the empty delta");
  queue.finish();
  assert.equal(released(queue).length, 3);
});

Deno.test("HoldBackQueue opens an OpenAI tool call only together with its first releasable arguments", () => {
  const queue = new HoldBackQueue({ holdBackChars: 16 });
  const opening = chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "Read" } }] });
  const args = (text: string) => chunk({ tool_calls: [{ index: 0, function: { arguments: text } }] });
  pushAll(queue, [chunk({ role: "assistant", content: null }), opening, args('{"pa')], OPENAI_CHAT);
  assert.equal(released(queue).length, 1, "only the role chunk: the call's opening waits for its arguments");
  pushAll(queue, [args('th":"a very long path that passes the hold-back window"}')], OPENAI_CHAT);
  assert.equal(released(queue).length, 2, "the opening goes out with its first arguments");
});

Deno.test("HoldBackQueue without detection releases every event at once", () => {
  const queue = new HoldBackQueue({ detect: false });
  const verdicts = pushAll(queue, Array.from({ length: 40 }, () => chunk({ content: "again " })));
  assert.deepEqual(verdicts, []);
  assert.equal(released(queue).length, 40);
  assert.equal(queue.detector("content"), undefined);
});

Deno.test("HoldBackQueue reports a loop with its channel and releases none of its repeats", () => {
  const queue = new HoldBackQueue();
  const sentence = "I will now check the configuration file again to be sure. ";
  const verdicts: ChannelVerdict[] = [];
  for (let i = 0; i < 20 && !verdicts.some((found) => found.verdict.level === "loop"); i++) {
    verdicts.push(...pushAll(queue, [chunk({ reasoning_content: sentence })]));
  }
  const loop = verdicts.find((found) => found.verdict.level === "loop");
  assert.equal(loop?.channel, "reasoning");
  const text = released(queue).map((data) => JSON.parse(data).choices[0].delta.reasoning_content).join("");
  assert.ok(text.length <= loop!.verdict.start, `released ${text.length} past the start ${loop!.verdict.start}`);
});

Deno.test("HoldBackQueue.dismissAfter keeps release frozen for the grace, then dismisses", () => {
  const queue = new HoldBackQueue({ holdBackChars: 0 });
  const sentence = "I will now check the configuration file again to be sure. ";
  const raised = pushAll(queue, [chunk({ content: "Let me think. " }), ...Array(3).fill(chunk({ content: sentence }))]);
  assert.equal(raised[0]?.verdict.level, "suspicious");
  queue.dismissAfter("content", 90);
  const frozen = queue.detector("content")!.releasableLength();
  pushAll(queue, [chunk({ content: "Then something else entirely happens in the text. " })]);
  assert.equal(queue.detector("content")!.releasableLength(), frozen);
  assert.equal(queue.detector("content")!.verdict?.level, "suspicious");
  pushAll(queue, [chunk({ content: "And one more different sentence follows it here." })]);
  assert.equal(queue.detector("content")!.verdict, null);
});

Deno.test("HoldBackQueue.finish dismisses a suspicion waiting for its grace", () => {
  const queue = new HoldBackQueue({ holdBackChars: 0 });
  const sentence = "I will now check the configuration file again to be sure. ";
  pushAll(queue, [chunk({ content: "Let me think. " }), ...Array(3).fill(chunk({ content: sentence }))]);
  queue.dismissAfter("content", 10_000);
  queue.finish();
  assert.equal(queue.detector("content")!.verdict, null);
  assert.equal(released(queue).length, 4);
});

Deno.test("HoldBackQueue.discard drops every held event", () => {
  const queue = new HoldBackQueue();
  pushAll(queue, [chunk({ content: "Held text" })]);
  queue.discard();
  queue.finish();
  assert.deepEqual(released(queue), []);
  assert.equal(queue.heldChars, 0);
});
