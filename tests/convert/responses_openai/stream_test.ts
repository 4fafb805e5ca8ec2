import assert from "node:assert/strict";
import { assertValidResponsesStream } from "../../support/responses_stream_grammar.ts";
import {
  chunk,
  convertBytes,
  convertEvents,
  CTX,
  DONE,
  normalised,
  payloads,
  sseText,
  toolDelta,
  usageChunk,
} from "./stream_helpers.ts";

const USAGE = {
  prompt_tokens: 12,
  completion_tokens: 7,
  total_tokens: 19,
  prompt_tokens_details: { cached_tokens: 4 },
  completion_tokens_details: { reasoning_tokens: 3 },
};

Deno.test("ChatToResponsesStream streams text as one message item and completes with usage", async () => {
  const events = await convertEvents([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hel" }),
    chunk({ content: "lo" }),
    chunk({}, "stop"),
    usageChunk(USAGE),
    DONE,
  ]);
  const summary = assertValidResponsesStream(events);
  assert.equal(summary.status, "completed");
  assert.equal(summary.text, "Hello");
  assert.deepEqual(summary.items, ["message"]);
  assert.deepEqual(summary.usage, {
    input_tokens: 12,
    input_tokens_details: { cached_tokens: 4 },
    output_tokens: 7,
    output_tokens_details: { reasoning_tokens: 3 },
    total_tokens: 19,
  });
  assert.deepEqual(payloads(events).map((event) => event.type), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  const completed = payloads(events).at(-1)!.response as Record<string, unknown>;
  assert.equal(completed.model, "qwen-local");
  assert.deepEqual((completed.output as Array<{ content: unknown }>)[0].content, [
    { type: "output_text", text: "Hello", annotations: [] },
  ]);
});

Deno.test("ChatToResponsesStream streams reasoning as a reasoning item with reasoning_text, then the message", async () => {
  const events = await convertEvents([
    chunk({ role: "assistant", reasoning_content: "Think" }),
    chunk({ reasoning: " more" }),
    chunk({ content: "Answer" }),
    chunk({ reasoning_content: "Again" }),
    chunk({}, "stop"),
    DONE,
  ]);
  const summary = assertValidResponsesStream(events);
  assert.deepEqual(summary.items, ["reasoning", "message", "reasoning"]);
  assert.equal(summary.reasoning, "Think moreAgain");
  assert.equal(summary.text, "Answer");
  const types = payloads(events).map((event) => event.type);
  assert.ok(types.includes("response.reasoning_text.delta"));
  assert.ok(types.includes("response.reasoning_text.done"));
});

Deno.test("ChatToResponsesStream reads Mistral's array content: thinking parts are reasoning", async () => {
  const events = await convertEvents([
    chunk({
      content: [{ type: "thinking", thinking: [{ type: "text", text: "Plan" }] }, { type: "text", text: "Hi" }],
    }),
    chunk({}, "stop"),
    DONE,
  ]);
  const summary = assertValidResponsesStream(events);
  assert.equal(summary.reasoning, "Plan");
  assert.equal(summary.text, "Hi");
  assert.equal(summary.usage, undefined, "no usage is made up when the upstream sent none");
});

Deno.test("ChatToResponsesStream turns parallel tool calls, interleaved by index, into function_call items", async () => {
  const events = await convertEvents([
    chunk({ role: "assistant", content: "Let me look." }),
    chunk(toolDelta(0, "", "call_a", "read")),
    chunk(toolDelta(1, '{"cmd":', "call_b", "bash")),
    chunk(toolDelta(0, '{"path":"a.txt"}')),
    chunk(toolDelta(1, '"ls"}')),
    chunk({}, "tool_calls"),
    usageChunk(USAGE),
    DONE,
  ]);
  const summary = assertValidResponsesStream(events);
  assert.equal(summary.status, "completed");
  assert.deepEqual(summary.items, ["message", "function_call", "function_call"]);
  assert.deepEqual(summary.calls, [
    { callId: "call_a", name: "read", arguments: '{"path":"a.txt"}' },
    { callId: "call_b", name: "bash", arguments: '{"cmd":"ls"}' },
  ]);
  const deltas = payloads(events).filter((event) => event.type === "response.function_call_arguments.delta");
  assert.deepEqual(deltas.map((event) => event.output_index), [2, 1, 2]);
});

Deno.test("ChatToResponsesStream gives a call without argument text {} and a call without an id a call_ id", async () => {
  const events = await convertEvents([
    chunk({ tool_calls: [{ index: 0, type: "function", function: { name: "now" } }] }),
    chunk({}, "tool_calls"),
    usageChunk(USAGE),
    DONE,
  ]);
  const summary = assertValidResponsesStream(events);
  assert.equal(summary.calls[0].arguments, "{}");
  assert.match(summary.calls[0].callId, /^call_/);
});

Deno.test("ChatToResponsesStream ends a length cut with response.incomplete and max_output_tokens", async () => {
  const events = await convertEvents([chunk({ content: "Long" }), chunk({}, "length"), usageChunk(USAGE), DONE]);
  const summary = assertValidResponsesStream(events);
  assert.equal(summary.status, "incomplete");
  const last = payloads(events).at(-1)!;
  assert.equal(last.type, "response.incomplete");
  assert.deepEqual((last.response as Record<string, unknown>).incomplete_details, { reason: "max_output_tokens" });
});

Deno.test("ChatToResponsesStream completes a stream that ends after its finish_reason without [DONE]", async () => {
  const summary = assertValidResponsesStream(
    await convertEvents([chunk({ content: "Hi" }), chunk({}, "stop"), usageChunk(USAGE)]),
  );
  assert.equal(summary.status, "completed");
});

Deno.test("ChatToResponsesStream fails the response on an upstream error chunk, keeping the partial item", async () => {
  const events = await convertEvents([
    chunk({ content: "Par" }),
    { data: JSON.stringify({ error: { message: "Model crashed", type: "server_error", code: "model_error" } }) },
    chunk({ content: "ignored" }),
    DONE,
  ]);
  const summary = assertValidResponsesStream(events);
  assert.equal(summary.status, "failed");
  assert.deepEqual(summary.error, { code: "model_error", message: "Model crashed" });
  const failed = payloads(events).at(-1)!.response as { output: Array<Record<string, unknown>> };
  assert.equal(failed.output[0].status, "incomplete");
  assert.deepEqual(failed.output[0].content, [{ type: "output_text", text: "Par", annotations: [] }]);
});

Deno.test("ChatToResponsesStream fails a stream cut short or carrying an event that is not JSON", async () => {
  const cut = assertValidResponsesStream(await convertEvents([chunk({ content: "Par" })]));
  assert.equal(cut.status, "failed");
  assert.match(String(cut.error?.message), /ended before/);
  const garbage = assertValidResponsesStream(await convertEvents([chunk({ content: "A" }), { data: "{oops" }]));
  assert.equal(garbage.status, "failed");
  assert.match(String(garbage.error?.message), /not JSON/);
  const empty = assertValidResponsesStream(await convertEvents([]));
  assert.equal(empty.status, "failed");
});

Deno.test("ChatToResponsesStream echoes the request's settings in the Response object", async () => {
  const request = {
    model: "m",
    input: "x",
    instructions: "Be brief",
    temperature: 0.2,
    tools: [{ type: "web_search" }],
    metadata: { run: "7" },
  };
  const events = await convertEvents([chunk({ content: "ok" }), chunk({}, "stop"), usageChunk(USAGE)], { request });
  const created = payloads(events)[0].response as Record<string, unknown>;
  assert.equal(created.instructions, "Be brief");
  assert.equal(created.temperature, 0.2);
  assert.deepEqual(created.tools, [{ type: "web_search" }]);
  assert.deepEqual(created.metadata, { run: "7" });
  assert.equal(created.status, "in_progress");
});

/** A chat stream with multi-byte text, reasoning, parallel calls and usage, as wire text. */
const SPLIT_SOURCE = sseText([
  chunk({ role: "assistant", reasoning_content: "Überlege 🤔" }),
  chunk({ content: "Grüße, 世界! " }),
  chunk(toolDelta(0, '{"q":"é', "call_a", "search")),
  chunk(toolDelta(1, '{"n":1}', "call_b", "count")),
  chunk(toolDelta(0, '€"}')),
  chunk({}, "tool_calls"),
  usageChunk(USAGE),
  DONE,
]).replaceAll("\n", "\r\n");

Deno.test("ChatToResponsesStream gives the same events whatever the byte split (every position, UTF-8 included)", async () => {
  const bytes = new TextEncoder().encode(SPLIT_SOURCE);
  const reference = normalised(await convertBytes([bytes]));
  const summary = assertValidResponsesStream(reference);
  assert.equal(summary.text, "Grüße, 世界! ");
  assert.equal(summary.reasoning, "Überlege 🤔");
  assert.deepEqual(summary.calls.map((call) => call.arguments), ['{"q":"é€"}', '{"n":1}']);
  for (let at = 1; at < bytes.length; at++) {
    const split = normalised(await convertBytes([bytes.slice(0, at), bytes.slice(at)]));
    assert.deepEqual(split, reference, `split at byte ${at}`);
  }
  const single = normalised(await convertBytes([...bytes].map((byte) => new Uint8Array([byte]))));
  assert.deepEqual(single, reference, "one byte per chunk");
});

Deno.test("ChatToResponsesStream numbers events from 0 and ignores events after the end", async () => {
  const events = await convertEvents(
    [chunk({ content: "a" }), chunk({}, "stop"), DONE, chunk({ content: "late" })],
    CTX,
  );
  assert.deepEqual(payloads(events).map((event) => event.sequence_number), events.map((_, index) => index));
  assert.equal(payloads(events).at(-1)!.type, "response.completed");
});
