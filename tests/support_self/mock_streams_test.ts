import { Anthropic, OpenAI } from "../support/sdk.ts";
import assert from "node:assert/strict";
import { assertValidAnthropicStream } from "../support/anthropic_stream_grammar.ts";
import { postJson } from "../support/http.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { assertValidOpenAIStream } from "../support/openai_stream_grammar.ts";
import { readSse, type SseEvent } from "../support/sse.ts";

const messages = [{ role: "user", content: "What is in this folder?" }];
const twoTools: Scenario["toolCalls"] = [
  { name: "Read", arguments: '{"path": "notes/a.txt"}' },
  { id: "call_fixed", name: "Bash", arguments: '{"command": "ls -la | grep \\"x\\""}' },
];

/** Starts a mock that always plays one scenario. */
function mockWith(scenario: Scenario): Promise<MockUpstream> {
  return startMockUpstream({ scenario: () => scenario });
}

/** Streams a chat completion from the mock and returns its events. */
async function openAIEvents(mock: MockUpstream, extra: Record<string, unknown> = {}): Promise<SseEvent[]> {
  return await readSse(
    await postJson(`${mock.url}/chat/completions`, { model: "m", stream: true, messages, ...extra }),
  );
}

/** Streams an Anthropic message from the mock and returns its events. */
async function anthropicEvents(mock: MockUpstream): Promise<SseEvent[]> {
  const body = { model: "claude-x", max_tokens: 100, stream: true, messages };
  return await readSse(await postJson(`${mock.url}/messages`, body));
}

/** Lists the parsed deltas of an OpenAI stream. */
function openAIDeltas(events: SseEvent[]): Record<string, unknown>[] {
  return events.filter((event) => event.data !== "[DONE]")
    .flatMap((event) =>
      JSON.parse(event.data).choices.map((choice: { delta: Record<string, unknown> }) => choice.delta)
    );
}

Deno.test("startMockUpstream streams a default OpenAI reply word by word that passes the grammar", async () => {
  await using mock = await startMockUpstream();
  const events = await openAIEvents(mock);
  const summary = assertValidOpenAIStream(events);
  assert.equal(summary.text, "Hello from the mock upstream.");
  assert.equal(summary.finishReason, "stop");
  assert.equal(summary.model, "m");
  assert.deepEqual(openAIDeltas(events).map((delta) => delta.content), [
    null,
    "Hello ",
    "from ",
    "the ",
    "mock ",
    "upstream.",
    undefined,
  ]);
});

Deno.test("startMockUpstream streams OpenAI reasoning_content before the content", async () => {
  await using mock = await mockWith({ reasoning: "Look at the files.", text: "Two files." });
  const events = await openAIEvents(mock);
  const summary = assertValidOpenAIStream(events);
  assert.deepEqual([summary.reasoning, summary.text], ["Look at the files.", "Two files."]);
  assert.deepEqual(openAIDeltas(events).slice(1, 7), [
    { reasoning_content: "Look " },
    { reasoning_content: "at " },
    { reasoning_content: "the " },
    { reasoning_content: "files." },
    { content: "Two " },
    { content: "files." },
  ]);
});

Deno.test("startMockUpstream streams reasoning in the reasoning field when asked", async () => {
  await using mock = await mockWith({ reasoning: "Hmm.", reasoningField: "reasoning", text: "Ok" });
  const events = await openAIEvents(mock);
  assert.equal(assertValidOpenAIStream(events).reasoning, "Hmm.");
  assert.equal(openAIDeltas(events).some((delta) => "reasoning_content" in delta), false);
  assert.equal(openAIDeltas(events).some((delta) => delta.reasoning === "Hmm."), true);
});

Deno.test("startMockUpstream inlines reasoning as think tags in the content", async () => {
  await using mock = await mockWith({ reasoning: "Hmm.", thinkTags: true, text: "Ok" });
  const summary = assertValidOpenAIStream(await openAIEvents(mock));
  assert.deepEqual([summary.reasoning, summary.text], ["", "<think>Hmm.</think>Ok"]);
});

Deno.test("startMockUpstream puts the last reasoning piece and the first content piece in one chunk", async () => {
  await using mock = await mockWith({ reasoning: "One two", text: "Three four", boundaryChunk: true });
  const events = await openAIEvents(mock);
  assert.deepEqual(openAIDeltas(events).slice(1, 4), [
    { reasoning_content: "One " },
    { reasoning_content: "two", content: "Three " },
    { content: "four" },
  ]);
  assert.equal(assertValidOpenAIStream(events).text, "Three four");
});

Deno.test("startMockUpstream streams parallel OpenAI tool calls, sequential or interleaved", async () => {
  for (const interleaveToolArgs of [false, true]) {
    await using mock = await mockWith({ text: "Checking.", toolCalls: twoTools, interleaveToolArgs, chunks: 3 });
    const events = await openAIEvents(mock);
    const summary = assertValidOpenAIStream(events);
    assert.equal(summary.finishReason, "tool_calls");
    assert.deepEqual(summary.toolCalls.map((call) => [call.name, JSON.parse(call.arguments)]), [
      ["Read", { path: "notes/a.txt" }],
      ["Bash", { command: 'ls -la | grep "x"' }],
    ]);
    assert.equal(summary.toolCalls[0].id.startsWith("call_"), true);
    assert.equal(summary.toolCalls[1].id, "call_fixed");
    const indices = openAIDeltas(events).flatMap((delta) =>
      Array.isArray(delta.tool_calls) ? delta.tool_calls.map((call: { index: number }) => call.index) : []
    );
    const wanted = interleaveToolArgs ? [0, 1, 0, 1, 0, 1, 0, 1] : [0, 0, 0, 0, 1, 1, 1, 1];
    assert.deepEqual(indices, wanted, `interleaveToolArgs: ${interleaveToolArgs}`);
  }
});

Deno.test("startMockUpstream reproduces tool call index quirks that the OpenAI grammar rejects", async () => {
  const cases = [
    { toolIndexMode: "missing", problem: /tool call delta without an integer index/ },
    { toolIndexMode: "always0", problem: /tool call 0 changed its id/ },
  ] as const;
  for (const { toolIndexMode, problem } of cases) {
    await using mock = await mockWith({ toolCalls: twoTools, toolIndexMode });
    const events = await openAIEvents(mock);
    assert.throws(() => assertValidOpenAIStream(events), { message: problem }, toolIndexMode);
  }
});

Deno.test("startMockUpstream sends tool_calls: [] on content deltas in the vLLM quirk", async () => {
  await using mock = await mockWith({ text: "Just text", emptyToolCallsArray: true });
  const events = await openAIEvents(mock);
  const contentDeltas = openAIDeltas(events).filter((delta) => typeof delta.content === "string");
  assert.equal(contentDeltas.length, 2);
  assert.equal(contentDeltas.every((delta) => Array.isArray(delta.tool_calls) && delta.tool_calls.length === 0), true);
  assert.deepEqual(assertValidOpenAIStream(events).toolCalls, []);
});

Deno.test("startMockUpstream sends an OpenAI usage chunk only when the request asks for it", async () => {
  await using mock = await mockWith({
    text: "Hi",
    usage: { prompt_tokens: 40, completion_tokens: 2, cached_tokens: 30 },
  });
  const without = assertValidOpenAIStream(await openAIEvents(mock));
  const withUsage = assertValidOpenAIStream(await openAIEvents(mock, { stream_options: { include_usage: true } }));
  assert.equal(without.usage, undefined);
  assert.deepEqual(withUsage.usage, {
    prompt_tokens: 40,
    completion_tokens: 2,
    total_tokens: 42,
    prompt_tokens_details: { cached_tokens: 30 },
  });
});

Deno.test("startMockUpstream counts usage from the request and the reply when the scenario gives none", async () => {
  await using mock = await mockWith({ text: "One two three" });
  const summary = assertValidOpenAIStream(await openAIEvents(mock, { stream_options: { include_usage: true } }));
  assert.equal(summary.usage?.completion_tokens, 3);
  assert.equal(summary.usage?.prompt_tokens, 7); // user, What, is, in, this, folder, ?
});

Deno.test("startMockUpstream streams exact deltas, a loop and a finish reason override", async () => {
  await using mock = await mockWith({ deltas: ["a", "b"], loop: { unit: "again ", repeats: 3 }, finishReason: "stop" });
  const events = await openAIEvents(mock);
  const summary = assertValidOpenAIStream(events);
  assert.equal(summary.text, "abagain again again ");
  assert.equal(summary.finishReason, "stop");
  assert.equal(openAIDeltas(events).filter((delta) => delta.content === "again ").length, 3);
});

Deno.test("startMockUpstream ends a loop with finish_reason length by default", async () => {
  await using mock = await mockWith({ loop: { unit: "</invoke>", repeats: 5 } });
  assert.equal(assertValidOpenAIStream(await openAIEvents(mock)).finishReason, "length");
});

Deno.test("startMockUpstream splits the text into the requested number of chunks", async () => {
  await using mock = await mockWith({ text: "abcdefgh", chunks: 4 });
  const contents = openAIDeltas(await openAIEvents(mock)).map((delta) => delta.content).filter(Boolean);
  assert.deepEqual(contents, ["ab", "cd", "ef", "gh"]);
});

Deno.test("startMockUpstream ends an OpenAI stream with an error chunk mid-stream", async () => {
  await using mock = await mockWith({ text: "a b c d", streamError: { afterChunks: 2, message: "Slot crashed" } });
  const events = await openAIEvents(mock);
  assert.equal(events.length, 3);
  const summary = assertValidOpenAIStream(events);
  assert.equal(summary.error?.message, "Slot crashed");
  assert.equal(summary.text, "a ");
});

Deno.test("startMockUpstream streams Anthropic text that passes the grammar", async () => {
  await using mock = await mockWith({ text: "Two files.", usage: { prompt_tokens: 50, cached_tokens: 20 } });
  const events = await anthropicEvents(mock);
  const summary = assertValidAnthropicStream(events);
  assert.deepEqual(summary.blocks, [{ type: "text", text: "Two files." }]);
  assert.equal(summary.stopReason, "end_turn");
  assert.equal(summary.model, "claude-x");
  assert.deepEqual(summary.usage, {
    input_tokens: 30,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 20,
    output_tokens: 2,
  });
  assert.deepEqual(events.slice(0, 3).map((event) => event.event), ["message_start", "content_block_start", "ping"]);
});

Deno.test("startMockUpstream streams an Anthropic signed thinking block, text and parallel tool uses", async () => {
  await using mock = await mockWith({ reasoning: "Check both.", text: "Checking.", toolCalls: twoTools });
  const summary = assertValidAnthropicStream(await anthropicEvents(mock));
  assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text", "tool_use", "tool_use"]);
  assert.equal(summary.thinking, "Check both.");
  assert.equal(summary.toolUses[0].id.startsWith("toolu_"), true);
  assert.deepEqual(summary.toolUses.map((tool) => [tool.name, tool.input]), [
    ["Read", { path: "notes/a.txt" }],
    ["Bash", { command: 'ls -la | grep "x"' }],
  ]);
  assert.equal(summary.stopReason, "tool_use");
});

Deno.test("startMockUpstream omits a tool id set to null, which the Anthropic grammar rejects", async () => {
  await using mock = await mockWith({ toolCalls: [{ id: null, name: "Bash", arguments: "{}" }] });
  const events = await anthropicEvents(mock);
  assert.throws(() => assertValidAnthropicStream(events), { message: /id must start with toolu_ or call_/ });
});

Deno.test("startMockUpstream ends an Anthropic stream with an overloaded error event", async () => {
  await using mock = await mockWith({ text: "a b c d", streamError: { afterChunks: 4 } });
  const events = await anthropicEvents(mock);
  assert.deepEqual(events.map((event) => event.event), [
    "message_start",
    "content_block_start",
    "ping",
    "content_block_delta",
    "error",
  ]);
  assert.equal(assertValidAnthropicStream(events).error?.type, "overloaded_error");
});

Deno.test("startMockUpstream answers non-stream OpenAI requests with a chat.completion", async () => {
  await using mock = await mockWith({ reasoning: "Hmm", text: "", toolCalls: twoTools.slice(0, 1) });
  const body = await (await postJson(`${mock.url}/chat/completions`, { model: "m", messages })).json();
  assert.equal(body.object, "chat.completion");
  assert.equal(body.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(body.choices[0].message.content, null);
  assert.equal(body.choices[0].message.reasoning_content, "Hmm");
  assert.equal(body.choices[0].message.tool_calls[0].function.arguments, '{"path": "notes/a.txt"}');
  assert.equal(typeof body.usage.prompt_tokens, "number");
});

Deno.test("startMockUpstream answers non-stream Anthropic requests with a message", async () => {
  await using mock = await mockWith({ reasoning: "Hmm", text: "Ok", toolCalls: twoTools.slice(1) });
  const body = await (await postJson(`${mock.url}/messages`, { model: "c", max_tokens: 5, messages })).json();
  assert.equal(body.type, "message");
  assert.equal(body.id.startsWith("msg_"), true);
  assert.deepEqual(body.content.map((block: { type: string }) => block.type), ["thinking", "text", "tool_use"]);
  assert.deepEqual(body.content[2].input, { command: 'ls -la | grep "x"' });
  assert.equal(body.stop_reason, "tool_use");
});

Deno.test("startMockUpstream streams are read correctly by the official OpenAI SDK", async () => {
  await using mock = await mockWith({ reasoning: "Hmm", text: "Hi there", toolCalls: twoTools.slice(0, 1) });
  const client = new OpenAI({ baseURL: mock.url, apiKey: "test-key" });
  const stream = await client.chat.completions.create({
    model: "m",
    stream: true,
    messages: [{ role: "user", content: "Hi" }],
  });
  const parts: string[] = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    parts.push(chunk.choices[0]?.delta.content ?? "");
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(parts.join(""), "Hi there");
  assert.equal(finish, "tool_calls");
  assert.equal(mock.requests[0].headers.authorization, "Bearer test-key");
});

Deno.test("startMockUpstream streams are accumulated correctly by the official Anthropic SDK", async () => {
  await using mock = await mockWith({ reasoning: "Hmm", text: "Hi there", toolCalls: twoTools });
  const client = new Anthropic({ baseURL: mock.origin, apiKey: "test-key" });
  const message = await client.messages.stream({
    model: "claude-x",
    max_tokens: 100,
    messages: [{ role: "user", content: "Hi" }],
  }).finalMessage();
  assert.deepEqual(message.content.map((block) => block.type), ["thinking", "text", "tool_use", "tool_use"]);
  const [, text, read] = message.content;
  assert.equal(text.type === "text" && text.text, "Hi there");
  assert.deepEqual(read.type === "tool_use" && read.input, { path: "notes/a.txt" });
  assert.equal(message.stop_reason, "tool_use");
  assert.equal(typeof mock.requests[0].headers["anthropic-version"], "string");
});
