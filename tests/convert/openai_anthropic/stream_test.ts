import assert from "node:assert/strict";
import type { OpenAIChatChunk } from "../../../src/protocols/openai.ts";
import type { SseEvent } from "../../../src/protocols/sse.ts";
import { assertValidOpenAIStream } from "../../support/anthropic_stream_grammar.ts";
import { chunksOf, convertBytes, convertEvents, convertText, CTX, fixture, upstreamEvent } from "./stream_helpers.ts";

const MESSAGE_START = upstreamEvent({
  type: "message_start",
  message: {
    id: "msg_01",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 1 },
  },
});
const MESSAGE_STOP = upstreamEvent({ type: "message_stop" });

function messageDelta(stopReason: string, outputTokens: number) {
  return upstreamEvent({
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
}

/** Checks the output grammar, then names each event by what it carries, to check the order before the payloads. */
function kinds(events: SseEvent[]): string[] {
  assertValidOpenAIStream(events);
  return events.map((event) => {
    if (event.data === "[DONE]") return "done";
    const value = JSON.parse(event.data);
    if (value.error !== undefined) return "error";
    const chunk = value as OpenAIChatChunk;
    if (chunk.choices.length === 0) return "usage";
    const [choice] = chunk.choices;
    if (choice.finish_reason !== null) return `finish:${choice.finish_reason}`;
    if (choice.delta.role !== undefined) return "role";
    if (choice.delta.tool_calls) return `tool${choice.delta.tool_calls[0].index}`;
    if (choice.delta.reasoning_content !== undefined) return "reasoning";
    return "content";
  });
}

Deno.test("AnthropicToOpenAIStream converts thinking, text and two tool calls in order", async () => {
  const events = await convertText(await fixture("tools_thinking.sse"));
  assert.deepEqual(kinds(events), [
    "role",
    "reasoning",
    "reasoning",
    "content",
    "content",
    "tool0",
    "tool0",
    "tool0",
    "tool0",
    "tool1",
    "tool1",
    "tool1",
    "finish:tool_calls",
    "usage",
    "done",
  ]);
  const chunks = chunksOf(events);
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
  assert.deepEqual(chunks[5].choices[0].delta, {
    tool_calls: [{
      index: 0,
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      type: "function",
      function: { name: "get_weather", arguments: "" },
    }],
  });
  assert.deepEqual(chunks[6].choices[0].delta, {
    tool_calls: [{ index: 0, function: { arguments: '{"location": "東京' } }],
  });
  const result = assertValidOpenAIStream(events);
  assert.equal(result.finishReason, "tool_calls");
  assert.equal(result.text, "東京と大阪の天気を調べます 🌤️👨‍👩‍👧");
  assert.equal(
    result.reasoning,
    "The user wants the weather in 東京 and 大阪 🌤️. I'll call get_weather for both cities in parallel.",
  );
  assert.deepEqual(
    result.toolCalls.map(({ id, name, arguments: args }) => ({ id, name, arguments: JSON.parse(args) })),
    [
      { id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", arguments: { location: "東京", unit: "celsius" } },
      {
        id: "toolu_01PnT5TXHN3BEVbJy6BuFGsU",
        name: "get_weather",
        arguments: { location: "大阪", note: 'say "hi" 👋', unit: "celsius" },
      },
    ],
  );
});

Deno.test("AnthropicToOpenAIStream writes data-only chunks sharing one id, created and the client's model", async () => {
  const events = await convertText(await fixture("tools_thinking.sse"));
  assert.ok(events.every((event) => event.event === undefined && event.id === undefined));
  const chunks = chunksOf(events);
  assert.deepEqual(new Set(chunks.map((chunk) => chunk.id)), new Set(["chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL"]));
  assert.equal(new Set(chunks.map((chunk) => chunk.created)).size, 1);
  assert.ok(chunks.every((chunk) => chunk.model === "gpt-4o" && chunk.object === "chat.completion.chunk"));
});

Deno.test("AnthropicToOpenAIStream reports usage with cached tokens in a final chunk without choices", async () => {
  const events = await convertText(await fixture("tools_thinking.sse"));
  const usage = chunksOf(events).at(-1);
  assert.deepEqual(usage?.choices, []);
  assert.deepEqual(usage?.usage, {
    prompt_tokens: 472 + 1536 + 128,
    completion_tokens: 189,
    total_tokens: 472 + 1536 + 128 + 189,
    prompt_tokens_details: { cached_tokens: 1536 },
    completion_tokens_details: { reasoning_tokens: 41 },
  });
});

Deno.test("AnthropicToOpenAIStream takes input tokens from message_delta when message_start had none", async () => {
  const start = upstreamEvent({
    type: "message_start",
    message: { id: "msg_02", content: [], usage: { input_tokens: 0, output_tokens: 0 } },
  });
  const delta = upstreamEvent({
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { input_tokens: 321, output_tokens: 7 },
  });
  const events = await convertEvents([start, delta, MESSAGE_STOP]);
  assert.deepEqual(chunksOf(events).at(-1)?.usage, {
    prompt_tokens: 321,
    completion_tokens: 7,
    total_tokens: 328,
    prompt_tokens_details: { cached_tokens: 0 },
  });
});

Deno.test("AnthropicToOpenAIStream leaves the usage chunk out when the client did not ask for it", async () => {
  const events = await convertText(await fixture("text_stop_sequence.sse"), { ...CTX, includeUsage: false });
  assert.deepEqual(kinds(events), ["role", "content", "content", "finish:stop", "done"]);
  assert.ok(chunksOf(events).every((chunk) => chunk.usage === undefined));
});

Deno.test("AnthropicToOpenAIStream maps a stop sequence to finish_reason stop with an empty delta", async () => {
  const events = await convertText(await fixture("text_stop_sequence.sse"));
  const finish = chunksOf(events).find((chunk) => chunk.choices[0]?.finish_reason !== null);
  assert.deepEqual(finish?.choices, [{ index: 0, delta: {}, finish_reason: "stop" }]);
  assert.equal(assertValidOpenAIStream(events).text, "1, 2, 3, 4");
});

Deno.test("AnthropicToOpenAIStream maps each stop reason to its finish reason", async () => {
  const cases = [
    { reason: "end_turn", want: "stop" },
    { reason: "max_tokens", want: "length" },
    { reason: "refusal", want: "content_filter" },
    { reason: "pause_turn", want: "stop" },
    { reason: "model_context_window_exceeded", want: "length" },
  ];
  for (const { reason, want } of cases) {
    const events = await convertEvents([MESSAGE_START, messageDelta(reason, 3), MESSAGE_STOP]);
    assert.equal(assertValidOpenAIStream(events).finishReason, want, reason);
  }
});

Deno.test("AnthropicToOpenAIStream ends with an error chunk and no [DONE] on an upstream error event", async () => {
  const events = await convertText(await fixture("overloaded_mid_stream.sse"));
  assert.deepEqual(kinds(events), ["role", "content", "error"]);
  assert.deepEqual(JSON.parse(events.at(-1)!.data), {
    error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded" },
  });
});

Deno.test("AnthropicToOpenAIStream ends with an error chunk when the upstream stops before message_stop", async () => {
  const events = await convertText(await fixture("truncated.sse"));
  assert.deepEqual(kinds(events), ["role", "content", "error"]);
  assert.match(JSON.parse(events.at(-1)!.data).error.message, /ended before message_stop/);
});

Deno.test("AnthropicToOpenAIStream ends with an error chunk on an event that is not JSON", async () => {
  const events = await convertEvents([MESSAGE_START, { event: "content_block_delta", data: "{not json" }]);
  assert.deepEqual(kinds(events), ["role", "error"]);
});

Deno.test("AnthropicToOpenAIStream ignores events after message_stop", async () => {
  const late = upstreamEvent({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "late" } });
  const events = await convertEvents([MESSAGE_START, messageDelta("end_turn", 1), MESSAGE_STOP, late]);
  assert.deepEqual(kinds(events), ["role", "finish:stop", "usage", "done"]);
});

Deno.test("AnthropicToOpenAIStream sends {} as the arguments of a tool call whose input streamed no text", async () => {
  const events = await convertEvents([
    MESSAGE_START,
    upstreamEvent({
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "toolu_9", name: "list_files", input: {} },
    }),
    upstreamEvent({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "" } }),
    upstreamEvent({ type: "content_block_stop", index: 0 }),
    messageDelta("tool_use", 5),
    MESSAGE_STOP,
  ]);
  assert.deepEqual(assertValidOpenAIStream(events).toolCalls, [
    { index: 0, id: "toolu_9", name: "list_files", arguments: "{}" },
  ]);
});

Deno.test("AnthropicToOpenAIStream keeps tool indexes apart when a text block sits between tool blocks", async () => {
  const tool = (index: number, id: string) =>
    upstreamEvent({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id, name: "read", input: {} },
    });
  const args = (index: number, json: string) =>
    upstreamEvent({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: json } });
  const events = await convertEvents([
    MESSAGE_START,
    tool(0, "toolu_a"),
    args(0, '{"path":"a.ts"}'),
    upstreamEvent({ type: "content_block_stop", index: 0 }),
    upstreamEvent({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }),
    upstreamEvent({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "and" } }),
    upstreamEvent({ type: "content_block_stop", index: 1 }),
    tool(2, "toolu_b"),
    args(2, '{"path":"b.ts"}'),
    upstreamEvent({ type: "content_block_stop", index: 2 }),
    messageDelta("tool_use", 5),
    MESSAGE_STOP,
  ]);
  assert.deepEqual(assertValidOpenAIStream(events).toolCalls, [
    { index: 0, id: "toolu_a", name: "read", arguments: '{"path":"a.ts"}' },
    { index: 1, id: "toolu_b", name: "read", arguments: '{"path":"b.ts"}' },
  ]);
});

Deno.test("AnthropicToOpenAIStream makes up an id for a tool_use block that has none", async () => {
  const events = await convertEvents([
    MESSAGE_START,
    upstreamEvent({
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", name: "ls", input: {} },
    }),
    upstreamEvent({ type: "content_block_stop", index: 0 }),
    messageDelta("tool_use", 5),
    MESSAGE_STOP,
  ]);
  assert.match(assertValidOpenAIStream(events).toolCalls[0].id, /^call_/);
});

Deno.test("AnthropicToOpenAIStream reports tool_calls when a tool turn ends with end_turn", async () => {
  const events = await convertEvents([
    MESSAGE_START,
    upstreamEvent({
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "toolu_1", name: "read", input: { path: "x" } },
    }),
    upstreamEvent({ type: "content_block_stop", index: 0 }),
    messageDelta("end_turn", 5),
    MESSAGE_STOP,
  ]);
  const result = assertValidOpenAIStream(events);
  assert.equal(result.finishReason, "tool_calls");
  assert.equal(result.toolCalls[0].arguments, '{"path":"x"}');
});

Deno.test("AnthropicToOpenAIStream ignores ping, signature deltas and redacted thinking", async () => {
  const events = await convertEvents([
    MESSAGE_START,
    upstreamEvent({ type: "ping" }),
    upstreamEvent({ type: "content_block_start", index: 0, content_block: { type: "redacted_thinking", data: "x" } }),
    upstreamEvent({ type: "content_block_stop", index: 0 }),
    upstreamEvent({ type: "content_block_start", index: 1, content_block: { type: "thinking", thinking: "" } }),
    upstreamEvent({ type: "content_block_delta", index: 1, delta: { type: "signature_delta", signature: "sig" } }),
    upstreamEvent({ type: "content_block_stop", index: 1 }),
    messageDelta("end_turn", 2),
    MESSAGE_STOP,
  ]);
  assert.deepEqual(kinds(events), ["role", "finish:stop", "usage", "done"]);
});

Deno.test("AnthropicToOpenAIStream sends the role chunk first even without message_start", async () => {
  const events = await convertEvents([
    upstreamEvent({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } }),
    messageDelta("end_turn", 1),
    MESSAGE_STOP,
  ]);
  assert.deepEqual(kinds(events), ["role", "content", "finish:stop", "usage", "done"]);
  assert.match(chunksOf(events)[0].id, /^chatcmpl-/);
});

Deno.test("AnthropicToOpenAIStream gives the same output whatever byte the upstream stream is split at", async () => {
  const bytes = new TextEncoder().encode(await fixture("tools_thinking.sse"));
  // `created` is the wall clock in seconds and may tick between runs; everything else must match exactly.
  const run = async (chunks: Uint8Array[]) =>
    (await convertBytes(chunks)).map((event) => event.data.replace(/"created":\d+/, '"created":0'));
  const whole = await run([bytes]);
  assert.equal(whole.length, 15);
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(await run([bytes.subarray(0, at), bytes.subarray(at)]), whole, `split at byte ${at}`);
  }
  assert.deepEqual(await run(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))), whole);
});

Deno.test("AnthropicToOpenAIStream streams a legacy functions answer as delta.function_call", async () => {
  const events = await convertEvents([
    upstreamEvent({ type: "message_start", message: { id: "msg_1", usage: { input_tokens: 5, output_tokens: 0 } } }),
    upstreamEvent({
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "toolu_01", name: "get_weather", input: {} },
    }),
    upstreamEvent({
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: '{"city":' },
    }),
    upstreamEvent({
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: '"Paris"}' },
    }),
    upstreamEvent({ type: "content_block_stop", index: 0 }),
    upstreamEvent({ type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } }),
    upstreamEvent({ type: "message_stop" }),
  ], { ...CTX, legacyFunctions: true });
  const chunks = chunksOf(events);
  const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta));
  assert.ok(deltas.every((delta) => delta.tool_calls === undefined));
  const calls = deltas.flatMap((delta) => delta.function_call === undefined ? [] : [delta.function_call]);
  assert.deepEqual(calls, [{ name: "get_weather", arguments: "" }, { arguments: '{"city":' }, {
    arguments: '"Paris"}',
  }]);
  assert.equal(chunks.flatMap((chunk) => chunk.choices).at(-1)?.finish_reason, "function_call");
});
