import assert from "node:assert/strict";
import type { OpenAIToolCallDelta } from "../../../src/protocols/openai.ts";
import type { SseEvent } from "../../../src/protocols/sse.ts";
import { INCOMPLETE_STREAM_MESSAGE, OpenAIToAnthropicStream } from "../../../src/convert/anthropic_openai/stream.ts";
import { SYNTHETIC_THINKING_SIGNATURE, UNNAMED_TOOL_NAME } from "../../../src/convert/anthropic_openai/synthetic.ts";
import { assertValidAnthropicStream } from "../../support/anthropic_stream_grammar.ts";
import { chunk, convert, DONE, payloads, toolChunk, trace, usageChunk } from "./openai_chunks.ts";

const USAGE = { prompt_tokens: 2048, completion_tokens: 64, total_tokens: 2112 };

Deno.test("OpenAIToAnthropicStream converts a reasoning stream with one message_start and thinking first", async () => {
  const events = await convert([
    chunk({ role: "assistant", content: "" }),
    chunk({ reasoning_content: "The user" }),
    chunk({ reasoning_content: " says hi." }),
    chunk({ content: "Hello" }),
    chunk({ content: "!" }, { finish: "stop" }),
    usageChunk(USAGE),
    DONE,
  ]);
  assert.deepEqual(trace(events), [
    "message_start",
    "start:0:thinking",
    "delta:0:thinking_delta",
    "delta:0:thinking_delta",
    "delta:0:signature_delta",
    "stop:0",
    "start:1:text",
    "delta:1:text_delta",
    "delta:1:text_delta",
    "stop:1",
    "message_delta",
    "message_stop",
  ]);
  const summary = assertValidAnthropicStream(events);
  assert.equal(summary.messageId, "msg_7f3a");
  assert.equal(summary.model, "claude-sonnet-4-5");
  assert.equal(summary.thinking, "The user says hi.");
  assert.equal(summary.text, "Hello!");
  assert.equal(summary.stopReason, "end_turn");
  assert.deepEqual(summary.blocks[0], {
    type: "thinking",
    thinking: "The user says hi.",
    signature: SYNTHETIC_THINKING_SIGNATURE,
  });
});

Deno.test("OpenAIToAnthropicStream keeps the first text that shares a chunk with the last reasoning", async () => {
  for (const field of ["reasoning_content", "reasoning"]) {
    const events = await convert([
      chunk({ [field]: "Plan the answer." }),
      chunk({ [field]: " Done planning.", content: "First words" }),
      chunk({ content: " of the answer." }, { finish: "stop" }),
      DONE,
    ]);
    const summary = assertValidAnthropicStream(events);
    assert.equal(summary.thinking, "Plan the answer. Done planning.", field);
    assert.equal(summary.text, "First words of the answer.", field);
    assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text"], field);
  }
});

Deno.test("OpenAIToAnthropicStream treats tool_calls: [] beside content as text only", async () => {
  const events = await convert([
    chunk({ role: "assistant", content: "", tool_calls: [] }),
    chunk({ content: "Just text", tool_calls: [] }),
    chunk({ content: ".", tool_calls: [] }, { finish: "stop" }),
    DONE,
  ]);
  assert.equal(trace(events).some((step) => step.includes("input_json_delta") || step.includes("tool_use")), false);
  const summary = assertValidAnthropicStream(events);
  assert.equal(summary.text, "Just text.");
  assert.equal(summary.stopReason, "end_turn");
});

Deno.test("OpenAIToAnthropicStream emits parallel tool calls with interleaved arguments as separate blocks", async () => {
  const events = await convert([
    chunk({ content: "Checking both." }),
    toolChunk({ index: 0, id: "call_a", type: "function", function: { name: "Read", arguments: "" } }),
    toolChunk({ index: 1, id: "call_b", type: "function", function: { name: "Bash", arguments: "" } }),
    toolChunk({ index: 0, function: { arguments: '{"file_path":' } }),
    toolChunk({ index: 1, function: { arguments: '{"command":' } }),
    toolChunk({ index: 0, function: { arguments: '"/src/main.ts"}' } }),
    toolChunk({ index: 1, function: { arguments: '"git status"}' } }),
    chunk({}, { finish: "tool_calls" }),
    DONE,
  ]);
  const summary = assertValidAnthropicStream(events);
  assert.deepEqual(summary.toolUses, [
    { id: "call_a", name: "Read", input: { file_path: "/src/main.ts" } },
    { id: "call_b", name: "Bash", input: { command: "git status" } },
  ]);
  assert.equal(summary.stopReason, "tool_use");
});

Deno.test("OpenAIToAnthropicStream tells parallel calls apart by id when the index is missing or always 0", async () => {
  const fragments = (index: (position: number) => number | undefined): OpenAIToolCallDelta[] => [
    { index: index(0), id: "call_1", function: { name: "Glob", arguments: '{"pattern":' } },
    { index: index(0), function: { arguments: '"**/*.ts"}' } },
    { index: index(1), id: "call_2", function: { name: "Grep", arguments: "" } },
    { index: index(1), function: { arguments: '{"pattern":"TODO",' } },
    { index: index(1), function: { arguments: '"-n":true}' } },
    { index: index(2), id: "call_3", function: { name: "Read", arguments: '{"file_path":"/a.md"}' } },
  ];
  const modes: Record<string, (position: number) => number | undefined> = {
    "index missing": () => undefined,
    "index always 0": () => 0,
    "index correct": (position) => position,
  };
  for (const [mode, index] of Object.entries(modes)) {
    const events = await convert([
      ...fragments(index).map((fragment) => toolChunk(fragment)),
      chunk({}, { finish: "tool_calls" }),
      DONE,
    ]);
    const summary = assertValidAnthropicStream(events);
    assert.deepEqual(summary.toolUses, [
      { id: "call_1", name: "Glob", input: { pattern: "**/*.ts" } },
      { id: "call_2", name: "Grep", input: { pattern: "TODO", "-n": true } },
      { id: "call_3", name: "Read", input: { file_path: "/a.md" } },
    ], mode);
  }
});

Deno.test("OpenAIToAnthropicStream splits sequential calls without ids when the index is missing or always 0", async () => {
  for (const index of [undefined, 0]) {
    const events = await convert([
      toolChunk({ index, function: { name: "Glob", arguments: '{"pattern":' } }),
      toolChunk({ index, function: { arguments: '"*.md"}' } }),
      toolChunk({ index, function: { name: "Read", arguments: '{"file_path":"/README.md"}' } }),
      chunk({}, { finish: "tool_calls" }),
      DONE,
    ]);
    const summary = assertValidAnthropicStream(events);
    assert.deepEqual(summary.toolUses.map((use) => [use.name, use.input]), [
      ["Glob", { pattern: "*.md" }],
      ["Read", { file_path: "/README.md" }],
    ], `index ${index}`);
  }
});

Deno.test("OpenAIToAnthropicStream reassembles an escaped Bash command split at every byte offset", async () => {
  const command = 'cd "/work/my project" && git log --format="%H %s" -n 20 | grep -v "^Merge" ; ' +
    'find . -name "*.ts" -not -path "./node_modules/*" | xargs grep -l "TODO\\|FIXME" && ' +
    `echo "done: \\"quoted\\" \\\\ back\\\\slash" || echo 'failed' >&2; `.repeat(8);
  const args = JSON.stringify({ command, description: "Search the repository for TODO markers" });
  assert.ok(args.length >= 800, `${args.length} bytes`);
  for (let offset = 0; offset <= args.length; offset++) {
    const events = await convert([
      toolChunk({
        index: 0,
        id: "call_bash",
        type: "function",
        function: { name: "Bash", arguments: args.slice(0, offset) },
      }),
      toolChunk({ index: 0, function: { arguments: args.slice(offset) } }),
      chunk({}, { finish: "tool_calls" }),
      DONE,
    ]);
    const summary = assertValidAnthropicStream(events);
    assert.equal(summary.toolUses[0].input.command, command, `split at ${offset}`);
  }
});

Deno.test("OpenAIToAnthropicStream synthesises a toolu_ id and never emits an empty name", async () => {
  const events = await convert([
    toolChunk({ index: 0, type: "function", function: { name: "TodoWrite", arguments: '{"todos":[]}' } }),
    toolChunk({ index: 1, type: "function", function: { arguments: "{}" } }),
    chunk({}, { finish: "tool_calls" }),
    DONE,
  ]);
  const summary = assertValidAnthropicStream(events);
  assert.equal(summary.toolUses.length, 2);
  assert.match(summary.toolUses[0].id, /^toolu_[0-9a-f]{24}$/);
  assert.equal(summary.toolUses[0].name, "TodoWrite");
  assert.equal(summary.toolUses[1].name, UNNAMED_TOOL_NAME);
  assert.notEqual(summary.toolUses[0].id, summary.toolUses[1].id);
});

Deno.test("OpenAIToAnthropicStream waits for a tool name sent after the id", async () => {
  const events = await convert([
    toolChunk({ index: 0, id: "call_late" }),
    toolChunk({ index: 0, function: { arguments: '{"file_path":' } }),
    toolChunk({ index: 0, function: { name: "Read", arguments: '"/x"}' } }),
    chunk({}, { finish: "tool_calls" }),
    DONE,
  ]);
  assert.deepEqual(assertValidAnthropicStream(events).toolUses, [
    { id: "call_late", name: "Read", input: { file_path: "/x" } },
  ]);
});

Deno.test("OpenAIToAnthropicStream keeps text that arrives mid tool call after the tool block", async () => {
  const events = await convert([
    toolChunk({ index: 0, id: "call_w", function: { name: "Write", arguments: '{"file_path":"/a",' } }),
    chunk({ content: "Writing the file." }),
    toolChunk({ index: 0, function: { arguments: '"content":"x"}' } }),
    chunk({}, { finish: "tool_calls" }),
    DONE,
  ]);
  const summary = assertValidAnthropicStream(events);
  assert.deepEqual(summary.blocks.map((block) => block.type), ["tool_use", "text"]);
  assert.deepEqual(summary.toolUses[0].input, { file_path: "/a", content: "x" });
  assert.equal(summary.text, "Writing the file.");
});

Deno.test("OpenAIToAnthropicStream forces tool_use whenever a tool block was emitted", async () => {
  const cases = [
    { finish: "stop", tools: true, want: "tool_use" },
    { finish: "tool_calls", tools: true, want: "tool_use" },
    { finish: "length", tools: true, want: "tool_use" },
    { finish: "length", tools: false, want: "max_tokens" },
    { finish: "content_filter", tools: false, want: "refusal" },
    { finish: "tool_calls", tools: false, want: "tool_use" },
  ];
  for (const { finish, tools, want } of cases) {
    const events = await convert([
      chunk({ content: "Let me run it." }),
      ...(tools
        ? [toolChunk({ index: 0, id: "call_x", function: { name: "Bash", arguments: '{"command":"ls"}' } })]
        : []),
      chunk({}, { finish }),
      DONE,
    ]);
    assert.equal(assertValidAnthropicStream(events).stopReason, want, `${finish} with tools: ${tools}`);
  }
});

Deno.test("OpenAIToAnthropicStream splits <think> tags that arrive across chunks", async () => {
  const events = await convert([
    chunk({ content: "<thi" }),
    chunk({ content: "nk>\nThe user wants" }),
    chunk({ content: " a list.</th" }),
    chunk({ content: "ink>\n\n- one\n" }),
    chunk({ content: "- two" }, { finish: "stop" }),
    DONE,
  ]);
  const summary = assertValidAnthropicStream(events);
  assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text"]);
  assert.equal(summary.thinking, "The user wants a list.");
  assert.equal(summary.text, "- one\n- two");
});

Deno.test("OpenAIToAnthropicStream reports estimated input in message_start and real usage in message_delta", async () => {
  const events = await convert([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hi" }, { finish: "stop" }),
    usageChunk({ ...USAGE, prompt_tokens_details: { cached_tokens: 1536 } }),
    DONE,
  ], { inputTokens: 1900 });
  const [start] = payloads(events);
  assert.deepEqual((start.message as { usage: unknown }).usage, {
    input_tokens: 1900,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  });
  const messageDelta = payloads(events).find((event) => event.type === "message_delta");
  assert.deepEqual(messageDelta, {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { input_tokens: 512, output_tokens: 64, cache_creation_input_tokens: 0, cache_read_input_tokens: 1536 },
  });
  assertValidAnthropicStream(events);
});

Deno.test("OpenAIToAnthropicStream estimates usage when the upstream sends none", async () => {
  const events = await convert([chunk({ content: "A short answer of about ten tokens." }, { finish: "stop" }), DONE], {
    inputTokens: 300,
  });
  const usage = assertValidAnthropicStream(events).usage;
  assert.equal(usage.input_tokens, 300);
  assert.ok(usage.output_tokens >= 8 && usage.output_tokens <= 12, `${usage.output_tokens} output tokens`);
});

Deno.test("OpenAIToAnthropicStream ends with an error event when the upstream reports one mid-stream", async () => {
  const events = await convert([
    chunk({ content: "Partial" }),
    { data: JSON.stringify({ error: { code: 503, message: "Loading model", type: "unavailable_error" } }) },
    chunk({ content: " never seen" }, { finish: "stop" }),
    DONE,
  ]);
  const summary = assertValidAnthropicStream(events);
  assert.deepEqual(summary.error, { type: "overloaded_error", message: "Loading model" });
  assert.equal(trace(events).includes("message_stop"), false);
  assert.equal(summary.stopReason, undefined);
});

Deno.test("OpenAIToAnthropicStream maps upstream error events by status and type", async () => {
  const cases: Array<{ event: SseEvent; want: { type: string; message: string } }> = [
    { event: { data: '{"error":{"message":"boom"}}' }, want: { type: "api_error", message: "boom" } },
    { event: { data: '{"error":"plain text error"}' }, want: { type: "api_error", message: "plain text error" } },
    {
      event: { data: '{"error":{"type":"overloaded_error","message":"busy"}}' },
      want: { type: "overloaded_error", message: "busy" },
    },
    {
      event: { event: "error", data: '{"message":"context full","code":400}' },
      want: { type: "invalid_request_error", message: "context full" },
    },
  ];
  for (const { event, want } of cases) {
    const events = await convert([event]);
    assert.deepEqual(assertValidAnthropicStream(events).error, want, event.data);
  }
});

Deno.test("OpenAIToAnthropicStream reports an upstream that ends without finishing as an error", async () => {
  const events = await convert([chunk({ content: "Half an ans" })]);
  const summary = assertValidAnthropicStream(events);
  assert.deepEqual(summary.error, { type: "api_error", message: INCOMPLETE_STREAM_MESSAGE });
  assert.equal(trace(events).includes("message_stop"), false);
});

Deno.test("OpenAIToAnthropicStream finishes normally when only [DONE] is missing", async () => {
  const events = await convert([chunk({ content: "Complete." }, { finish: "stop" }), usageChunk(USAGE)]);
  const summary = assertValidAnthropicStream(events);
  assert.equal(summary.text, "Complete.");
  assert.equal(summary.usage.input_tokens, 2048);
});

Deno.test("OpenAIToAnthropicStream skips data lines that are not JSON", async () => {
  const events = await convert([
    { data: ": keep-alive" },
    chunk({ content: "Still " }),
    { data: "{not json" },
    { data: "42" },
    chunk({ content: "fine." }, { finish: "stop" }),
    DONE,
  ]);
  assert.equal(assertValidAnthropicStream(events).text, "Still fine.");
});

Deno.test("OpenAIToAnthropicStream reports the stop sequence that ended the output", async () => {
  const ctx = { stopSequences: ["</answer>", "STOP"] };
  const named = await convert(
    [chunk({ content: "42" }, { finish: "stop", choice: { stop_reason: "STOP" } }), DONE],
    ctx,
  );
  assert.deepEqual(payloads(named).find((event) => event.type === "message_delta")?.delta, {
    stop_reason: "stop_sequence",
    stop_sequence: "STOP",
  });
  const kept = await convert(
    [chunk({ content: "42</ans" }), chunk({ content: "wer>" }, { finish: "stop" }), DONE],
    ctx,
  );
  assert.deepEqual(payloads(kept).find((event) => event.type === "message_delta")?.delta, {
    stop_reason: "stop_sequence",
    stop_sequence: "</answer>",
  });
  assertValidAnthropicStream(named);
  assertValidAnthropicStream(kept);
});

Deno.test("OpenAIToAnthropicStream ignores everything after [DONE]", async () => {
  const events = await convert([
    chunk({ content: "One." }, { finish: "stop" }),
    DONE,
    chunk({ content: "Two." }),
    DONE,
  ]);
  assert.equal(assertValidAnthropicStream(events).text, "One.");
});

/** Reads events until the stream ends. */
async function readRest(reader: ReadableStreamDefaultReader<SseEvent>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for (let result = await reader.read(); !result.done; result = await reader.read()) events.push(result.value);
  return events;
}

Deno.test("OpenAIToAnthropicStream sends message_start then pings while the upstream is silent", async () => {
  const upstream = new TransformStream<SseEvent, SseEvent>();
  const reader = upstream.readable.pipeThrough(new OpenAIToAnthropicStream({ model: "m", pingIntervalMs: 1 }))
    .getReader();
  const writer = upstream.writable.getWriter();
  const first = await reader.read();
  const second = await reader.read();
  assert.deepEqual([first.value?.event, second.value?.event], ["message_start", "ping"]);
  const rest = readRest(reader);
  await writer.write(chunk({ content: "Hi" }, { finish: "stop" }));
  await writer.close();
  const events = [first.value!, second.value!, ...await rest];
  assert.equal(assertValidAnthropicStream(events).text, "Hi");
  assert.equal(events.filter((event) => event.event === "message_start").length, 1);
});

Deno.test("OpenAIToAnthropicStream stops pinging when the client cancels", async () => {
  const upstream = new TransformStream<SseEvent, SseEvent>();
  const reader = upstream.readable.pipeThrough(new OpenAIToAnthropicStream({ model: "m", pingIntervalMs: 1 }))
    .getReader();
  await upstream.writable.getWriter().write(chunk({ content: "Hi" }));
  assert.equal((await reader.read()).value?.event, "message_start");
  await reader.cancel("client went away");
  // The test sanitizer fails this test if the ping timer is still armed.
});

Deno.test("OpenAIToAnthropicStream stops pinging when the upstream aborts", async () => {
  const stream = new OpenAIToAnthropicStream({ model: "m", pingIntervalMs: 1 });
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  assert.equal((await reader.read()).value?.event, "message_start");
  await writer.abort(new Error("connection reset"));
  await assert.rejects(reader.read(), /connection reset/);
  // That pinging stopped is checked by Deno's timer leak sanitizer alone: it fails the test if the timer is armed.
});

/** A deterministic pseudo-random generator (mulberry32), so a failing ordering can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits a text into 1–4 pieces at random places. */
function pieces(text: string, next: () => number): string[] {
  const cuts = [...new Set(Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * text.length)))]
    .sort((a, b) => a - b);
  return [0, ...cuts, text.length].slice(1).map((end, position, ends) =>
    text.slice(position === 0 ? 0 : ends[position - 1], end)
  )
    .filter((piece) => piece !== "");
}

Deno.test("OpenAIToAnthropicStream gives a valid stream for random orderings of reasoning, text and tool deltas", async () => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed);
    const calls = Array.from({ length: Math.floor(next() * 4) }, (_, call) => ({
      id: `call_${seed}_${call}`,
      input: { path: `/src/file_${call}.ts`, note: `quote " and brace } ${"x".repeat(Math.floor(next() * 30))}` },
    }));
    const queues: Array<{ kind: string; items: Array<Record<string, unknown>> }> = [
      {
        kind: "reasoning",
        items: pieces("Think about 文件 first. ", next).map((text) => ({ reasoning_content: text })),
      },
      { kind: "content", items: pieces("Answer text 🙂 here.", next).map((text) => ({ content: text })) },
      ...calls.map((call, index) => ({
        kind: "tool",
        items: pieces(JSON.stringify(call.input), next).map((args, position) => ({
          tool_calls: [{
            index,
            ...(position === 0
              ? { id: call.id, function: { name: "Read", arguments: args } }
              : { function: { arguments: args } }),
          }],
        })),
      })),
    ];
    const upstream: SseEvent[] = [];
    const firstSeen: string[] = [];
    while (queues.some((queue) => queue.items.length > 0)) {
      const open = queues.filter((queue) => queue.items.length > 0);
      const queue = open[Math.floor(next() * open.length)];
      const delta = queue.items.shift()!;
      const id = (delta.tool_calls as Array<{ id?: string }> | undefined)?.[0].id;
      if (id !== undefined) firstSeen.push(id);
      upstream.push(chunk(delta));
    }
    upstream.push(chunk({}, { finish: calls.length > 0 ? "tool_calls" : "stop" }), usageChunk(USAGE), DONE);
    const summary = assertValidAnthropicStream(await convert(upstream));
    assert.equal(summary.thinking, "Think about 文件 first. ", `seed ${seed}`);
    assert.equal(summary.text, "Answer text 🙂 here.", `seed ${seed}`);
    const byId = new Map(calls.map((call) => [call.id, call.input]));
    assert.deepEqual(
      summary.toolUses,
      firstSeen.map((id) => ({ id, name: "Read", input: byId.get(id) })),
      `seed ${seed}`,
    );
    assert.equal(summary.stopReason, calls.length > 0 ? "tool_use" : "end_turn", `seed ${seed}`);
  }
});

Deno.test("OpenAIToAnthropicStream keeps text and thinking parts of an array content", async () => {
  const events = await convert([
    chunk({ role: "assistant", content: [{ type: "thinking", thinking: [{ type: "text", text: "Plan" }] }] }),
    chunk({ content: [{ type: "thinking", thinking: [{ type: "text", text: " it." }] }] }),
    chunk({ content: [{ type: "text", text: "Hello" }] }),
    chunk({ content: [{ type: "text", text: " there." }] }, { finish: "stop" }),
    DONE,
  ]);
  const summary = assertValidAnthropicStream(events);
  assert.equal(summary.thinking, "Plan it.");
  assert.equal(summary.text, "Hello there.");
  assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text"]);
});

Deno.test("OpenAIToAnthropicStream removes a stop sequence the upstream left at the end of the text", async () => {
  const ctx = { stopSequences: ["</answer>"] };
  const events = await convert(
    [chunk({ content: "The answer is 42</ans" }), chunk({ content: "wer>" }, { finish: "stop" }), DONE],
    ctx,
  );
  const summary = assertValidAnthropicStream(events);
  assert.equal(summary.text, "The answer is 42");
  assert.equal(summary.stopReason, "stop_sequence");
  const cut = await convert([chunk({ content: "The answer </answer>" }, { finish: "length" }), DONE], ctx);
  assert.equal(assertValidAnthropicStream(cut).text, "The answer </answer>");
  const emoji = await convert([chunk({ content: "🙂🙂🙂🙂🙂" }, { finish: "stop" }), DONE], { stopSequences: ["abc"] });
  assert.equal(assertValidAnthropicStream(emoji).text, "🙂🙂🙂🙂🙂");
  for (const event of payloads(emoji)) {
    const text = (event.delta as { text?: string } | undefined)?.text;
    if (text !== undefined) assert.equal(text.isWellFormed(), true);
  }
});
