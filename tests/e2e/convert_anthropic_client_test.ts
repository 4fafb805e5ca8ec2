/**
 * End-to-end: Anthropic clients (the official SDK, Claude Code's request shapes) through the real proxy to an
 * upstream that speaks only OpenAI Chat. Every converted stream is checked against the Anthropic stream grammar.
 */

import assert from "node:assert/strict";
import { Anthropic } from "../support/sdk.ts";
import type { Scenario } from "../support/mock_upstream.ts";
import { assertValidAnthropicStream } from "../support/anthropic_stream_grammar.ts";
import { postJson } from "../support/http.ts";
import { byteByByte, rawChatAnswer, rawChatEvents, rawPartsStream } from "../support/raw_upstream.ts";
import { readSse } from "../support/sse.ts";
import {
  type ConvertingRig,
  type ConvertingSetup,
  recordedBody,
  upstreamJson,
  withConvertingProxy,
} from "./convert_harness.ts";

const MODEL = "qwen3-coder-30b";
const HELLO: Anthropic.MessageParam[] = [{ role: "user", content: "Hello" }];

/** A Claude Code-like tool list: JSON Schema draft-07 schemas, `additionalProperties`, and a cache breakpoint. */
const CLAUDE_CODE_TOOLS: Anthropic.Tool[] = [
  {
    name: "Bash",
    description: "Executes a given bash command in a persistent shell session with optional timeout.",
    input_schema: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      additionalProperties: false,
      properties: {
        command: { type: "string", description: "The command to execute" },
        timeout: { type: "number", description: "Optional timeout in milliseconds (max 600000)" },
        description: { type: "string", description: "Clear, concise description of what this command does" },
      },
      required: ["command"],
    },
  },
  {
    name: "Read",
    description: "Reads a file from the local filesystem.",
    input_schema: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      additionalProperties: false,
      properties: {
        file_path: { type: "string", description: "The absolute path to the file to read" },
        offset: { type: "number" },
        limit: { type: "number" },
      },
      required: ["file_path"],
    },
  },
  {
    name: "Glob",
    description: "Fast file pattern matching tool that works with any codebase size.",
    input_schema: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      additionalProperties: false,
      properties: { pattern: { type: "string" }, path: { type: "string" } },
      required: ["pattern"],
    },
    cache_control: { type: "ephemeral" },
  },
];

/** Runs `body` with an OpenAI-only mock upstream behind the proxy. */
function withOpenAIUpstream(
  scenario: (request: { path: string; json: unknown }) => Scenario,
  body: (rig: ConvertingRig) => Promise<void>,
  upstreamConfig: ConvertingSetup["upstreamConfig"] = {},
): Promise<void> {
  return withConvertingProxy({ upstream: "openai", scenario, upstreamConfig }, body);
}

/** An SDK client of the proxy; `recorded` routes it through the rig's recording fetch. */
function sdk(rig: ConvertingRig, options: { recorded?: boolean; headers?: Record<string, string> } = {}): Anthropic {
  return new Anthropic({
    baseURL: rig.proxy.url,
    apiKey: "client-key",
    maxRetries: 0,
    fetch: options.recorded === false ? undefined : rig.fetch,
    defaultHeaders: options.headers,
  });
}

/** Streams a request with the SDK, iterating its events, and returns the event types and the final message. */
async function streamWithSdk(
  client: Anthropic,
  params: Anthropic.MessageStreamParams,
): Promise<{ types: string[]; final: Anthropic.Message }> {
  const stream = client.messages.stream(params);
  const types: string[] = [];
  for await (const event of stream) types.push(event.type);
  return { types, final: await stream.finalMessage() };
}

/** Posts a streaming Messages request without an SDK and returns the parsed events. */
async function streamRaw(rig: ConvertingRig, body: Record<string, unknown>) {
  const response = await postJson(`${rig.proxy.url}/v1/messages`, {
    model: MODEL,
    max_tokens: 256,
    ...body,
    stream: true,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  return await readSse(response);
}

/** Collects the object keys of a JSON value, at any depth. */
function keysDeep(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => keysDeep(item, out));
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.add(key);
      keysDeep(item, out);
    }
  }
  return out;
}

Deno.test("messages.create gets the OpenAI upstream's text as an Anthropic message", async () => {
  const scenario = () => ({ text: "Hello from the OpenAI side", usage: { prompt_tokens: 12, completion_tokens: 6 } });
  await withOpenAIUpstream(scenario, async (rig) => {
    const message = await sdk(rig).messages.create({
      model: MODEL,
      max_tokens: 256,
      system: "Be brief",
      messages: HELLO,
    });
    assert.match(message.id, /^msg_/);
    assert.equal(message.type, "message");
    assert.equal(message.role, "assistant");
    assert.equal(message.model, MODEL);
    assert.deepEqual(message.content, [{ type: "text", text: "Hello from the OpenAI side" }]);
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.stop_sequence, null);
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 6);
    assert.equal(rig.mock.requests[0].path, "/v1/chat/completions");
    assert.deepEqual(upstreamJson(rig, 0), {
      model: MODEL,
      messages: [{ role: "system", content: "Be brief" }, { role: "user", content: "Hello" }],
      max_tokens: 256,
    });
  });
});

Deno.test("messages.stream converts an OpenAI stream into valid events with the upstream's usage", async () => {
  const scenario = () => ({
    text: "One two three four five",
    usage: { prompt_tokens: 1200, completion_tokens: 5, cached_tokens: 1000 },
  });
  await withOpenAIUpstream(scenario, async (rig) => {
    const { types, final } = await streamWithSdk(sdk(rig), { model: MODEL, max_tokens: 256, messages: HELLO });
    assert.equal(types[0], "message_start");
    assert.equal(types.at(-1), "message_stop");
    assert.deepEqual(final.content, [{ type: "text", text: "One two three four five" }]);
    assert.equal(final.usage.input_tokens, 200);
    assert.equal(final.usage.output_tokens, 5);
    assert.equal(final.usage.cache_read_input_tokens, 1000);

    const events = recordedBody(rig, 0).events;
    const summary = assertValidAnthropicStream(events);
    assert.equal(summary.model, MODEL);
    assert.equal(summary.text, "One two three four five");
    assert.equal(summary.stopReason, "end_turn");
    assert.equal(summary.usage.input_tokens, 200);
    assert.equal(summary.usage.cache_read_input_tokens, 1000);
    // message_start carries a local estimate of the prompt before real usage arrives (Claude Code's context meter).
    assert.ok(JSON.parse(events[0].data).message.usage.input_tokens > 0);

    const seen = upstreamJson(rig, 0);
    assert.equal(seen.stream, true);
    assert.deepEqual(seen.stream_options, { include_usage: true });
  });
});

Deno.test("a thinking request gets a signed thinking block before the text, stream and non-stream", async () => {
  const scenario = () => ({ reasoning: "The user greets me, so I greet back.", text: "Hi there!", chunks: 3 });
  await withOpenAIUpstream(scenario, async (rig) => {
    const params = {
      model: MODEL,
      max_tokens: 16000,
      thinking: { type: "enabled" as const, budget_tokens: 10000 },
      messages: HELLO,
    };
    const { final } = await streamWithSdk(sdk(rig), params);
    const [thinking, text] = final.content;
    assert.equal(thinking.type, "thinking");
    assert.equal(thinking.type === "thinking" && thinking.thinking, "The user greets me, so I greet back.");
    assert.ok(thinking.type === "thinking" && thinking.signature.length > 0);
    assert.deepEqual(text, { type: "text", text: "Hi there!" });
    const summary = assertValidAnthropicStream(recordedBody(rig, 0).events);
    assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text"]);

    const message = await sdk(rig).messages.create(params);
    assert.deepEqual(message.content.map((block) => block.type), ["thinking", "text"]);
    assert.ok(message.content[0].type === "thinking" && message.content[0].signature.length > 0);
    assert.equal(upstreamJson(rig, 0).reasoning_effort, "medium");
  }, { reasoning_style: "reasoning_effort" });
});

Deno.test("reasoning whose last piece shares a chunk with the first text keeps both (field note 1a.2)", async () => {
  const scenario = () => ({ reasoning: "Plan it", text: "Done now", boundaryChunk: true });
  await withOpenAIUpstream(scenario, async (rig) => {
    const summary = assertValidAnthropicStream(await streamRaw(rig, { messages: HELLO }));
    assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text"]);
    assert.equal(summary.thinking, "Plan it");
    assert.equal(summary.text, "Done now");
  });
});

Deno.test("<think> tags in the upstream's content become a thinking block, stream and non-stream", async () => {
  const scenario = () => ({ reasoning: "Inline reasoning here", text: "Visible answer", thinkTags: true, chunks: 5 });
  await withOpenAIUpstream(scenario, async (rig) => {
    const summary = assertValidAnthropicStream(await streamRaw(rig, { messages: HELLO }));
    assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text"]);
    assert.equal(summary.thinking, "Inline reasoning here");
    assert.equal(summary.text, "Visible answer");

    const message = await sdk(rig).messages.create({ model: MODEL, max_tokens: 256, messages: HELLO });
    assert.equal(message.content[0].type === "thinking" && message.content[0].thinking, "Inline reasoning here");
    assert.deepEqual(message.content[1], { type: "text", text: "Visible answer" });
  });
});

Deno.test("a single tool call becomes a tool_use block with stop_reason tool_use", async () => {
  const command = 'ls -la "my dir" | grep -v "\\.git" && echo done';
  const scenario = () => ({
    text: "Let me look.",
    toolCalls: [{ id: "call_abc123", name: "Bash", arguments: JSON.stringify({ command }) }],
  });
  await withOpenAIUpstream(scenario, async (rig) => {
    const params = { model: MODEL, max_tokens: 1024, tools: CLAUDE_CODE_TOOLS, messages: HELLO };
    const { final } = await streamWithSdk(sdk(rig), params);
    assert.equal(final.stop_reason, "tool_use");
    assert.deepEqual(final.content, [
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "call_abc123", name: "Bash", input: { command } },
    ]);
    assertValidAnthropicStream(recordedBody(rig, 0).events);

    const message = await sdk(rig).messages.create(params);
    assert.equal(message.stop_reason, "tool_use");
    assert.deepEqual(message.content[1], { type: "tool_use", id: "call_abc123", name: "Bash", input: { command } });

    const seen = upstreamJson(rig, 0);
    assert.deepEqual((seen.tools as { function: { name: string } }[]).map((tool) => tool.function.name), [
      "Bash",
      "Read",
      "Glob",
    ]);
    assert.equal(seen.tool_choice, "auto");
    assert.ok(!keysDeep(seen).has("cache_control"), "no cache_control reaches the OpenAI upstream");
  });
});

/** Upstream tool-call quirks: each must still give two whole, correctly attributed tool_use blocks. */
const PARALLEL_QUIRKS: { name: string; quirk: Partial<Scenario>; ids: (string | null)[] }[] = [
  { name: "normal indices", quirk: {}, ids: ["call_1", "call_2"] },
  { name: "no index (field note 1a.7)", quirk: { toolIndexMode: "missing" }, ids: ["call_1", "call_2"] },
  { name: "index always 0 (Ollama)", quirk: { toolIndexMode: "always0" }, ids: ["call_1", "call_2"] },
  { name: "interleaved arguments", quirk: { interleaveToolArgs: true }, ids: ["call_1", "call_2"] },
  { name: "tool_calls: [] on every delta (vLLM)", quirk: { emptyToolCallsArray: true }, ids: ["call_1", "call_2"] },
  { name: "no tool call ids (field note 1a.9)", quirk: {}, ids: [null, null] },
];

for (const { name, quirk, ids } of PARALLEL_QUIRKS) {
  Deno.test(`parallel tool calls arrive as two tool_use blocks with ${name}`, async () => {
    const scenario = () => ({
      reasoning: "Two lookups at once.",
      text: "Checking both.",
      chunks: 3,
      toolCalls: [
        { id: ids[0], name: "Read", arguments: JSON.stringify({ file_path: "/src/main.ts", limit: 40 }) },
        { id: ids[1], name: "Glob", arguments: JSON.stringify({ pattern: "**/*_test.ts" }) },
      ],
      ...quirk,
    });
    await withOpenAIUpstream(scenario, async (rig) => {
      const summary = assertValidAnthropicStream(
        await streamRaw(rig, { tools: CLAUDE_CODE_TOOLS, messages: HELLO }),
      );
      assert.deepEqual(summary.blocks.map((block) => block.type), ["thinking", "text", "tool_use", "tool_use"]);
      assert.equal(summary.text, "Checking both.");
      assert.equal(summary.stopReason, "tool_use");
      assert.deepEqual(summary.toolUses.map(({ name, input }) => ({ name, input })), [
        { name: "Read", input: { file_path: "/src/main.ts", limit: 40 } },
        { name: "Glob", input: { pattern: "**/*_test.ts" } },
      ]);
      const [first, second] = summary.toolUses.map((use) => use.id);
      assert.notEqual(first, second);
      if (ids[0] !== null) assert.deepEqual([first, second], ids);
    });
  });
}

Deno.test("the second turn sends tool results back as OpenAI tool messages, stripped of Anthropic-only parts", async () => {
  await withOpenAIUpstream(() => ({ text: "Both files look fine." }), async (rig) => {
    const client = sdk(rig, { headers: { "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" } });
    const { final } = await streamWithSdk(client, {
      model: MODEL,
      max_tokens: 1024,
      system: [{ type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } }],
      tools: CLAUDE_CODE_TOOLS,
      messages: [
        { role: "user", content: [{ type: "text", text: "List and read", cache_control: { type: "ephemeral" } }] },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "List first, then read.", signature: "c2lnbmF0dXJl" },
            { type: "text", text: "Running both." },
            { type: "tool_use", id: "toolu_01", name: "Bash", input: { command: "ls" } },
            { type: "tool_use", id: "toolu_02", name: "Read", input: { file_path: "/a.ts" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_01", content: "a.ts\nb.ts" },
            {
              type: "tool_result",
              tool_use_id: "toolu_02",
              content: [{ type: "text", text: "export {};" }],
              cache_control: { type: "ephemeral" },
            },
            { type: "text", text: "Summarise." },
          ],
        },
      ],
    });
    assert.deepEqual(final.content, [{ type: "text", text: "Both files look fine." }]);
    assertValidAnthropicStream(recordedBody(rig, 0).events);

    const seen = rig.mock.requests[0];
    const json = upstreamJson(rig, 0);
    assert.equal(json.model, MODEL);
    assert.deepEqual(json.messages, [
      { role: "system", content: "You are Claude Code." },
      { role: "user", content: "List and read" },
      {
        role: "assistant",
        content: "Running both.",
        tool_calls: [
          { id: "toolu_01", type: "function", function: { name: "Bash", arguments: '{"command":"ls"}' } },
          { id: "toolu_02", type: "function", function: { name: "Read", arguments: '{"file_path":"/a.ts"}' } },
        ],
        reasoning_content: "List first, then read.",
      },
      { role: "tool", tool_call_id: "toolu_01", content: "a.ts\nb.ts" },
      { role: "tool", tool_call_id: "toolu_02", content: "export {};" },
      { role: "user", content: "Summarise." },
    ]);
    assert.deepEqual(json.stream_options, { include_usage: true });
    assert.ok(!seen.body.includes("cache_control"), "no cache_control anywhere in the upstream body");
    const anthropicHeaders = Object.keys(seen.headers).filter((name) => name.startsWith("anthropic-"));
    assert.deepEqual(anthropicHeaders, [], "anthropic-* headers are not forwarded to an OpenAI upstream");
    assert.equal(seen.headers["x-api-key"], undefined);
    assert.equal(seen.headers["authorization"], "Bearer client-key");
  });
});

Deno.test("stop_sequences reach the upstream as stop, and a text ending with one stops with stop_sequence", async () => {
  await withOpenAIUpstream(() => ({ text: "The answer is 42</answer>" }), async (rig) => {
    const params = { model: MODEL, max_tokens: 256, stop_sequences: ["</answer>", "STOP"], messages: HELLO };
    const message = await sdk(rig).messages.create(params);
    assert.equal(message.stop_reason, "stop_sequence");
    assert.equal(message.stop_sequence, "</answer>");
    assert.deepEqual(upstreamJson(rig, 0).stop, ["</answer>", "STOP"]);

    const { final } = await streamWithSdk(sdk(rig), params);
    assert.equal(final.stop_reason, "stop_sequence");
    assert.equal(final.stop_sequence, "</answer>");
    assert.equal(assertValidAnthropicStream(recordedBody(rig, 1).events).stopReason, "stop_sequence");

    rig.mock.setScenario(() => ({ text: "No sequence here" }));
    const natural = await sdk(rig).messages.create(params);
    assert.equal(natural.stop_reason, "end_turn");
    assert.equal(natural.stop_sequence, null);
  });
});

Deno.test("a context overflow from llama.cpp reads as Anthropic's 'prompt is too long'", async () => {
  const errorBody = {
    error: { code: 400, type: "exceed_context_size_error", message: "too long", n_prompt_tokens: 5000, n_ctx: 4096 },
  };
  await withOpenAIUpstream(() => ({ status: 400, errorBody }), async (rig) => {
    const error = await sdk(rig).messages.create({ model: MODEL, max_tokens: 64, messages: HELLO }).catch((e) => e);
    assert.ok(error instanceof Anthropic.BadRequestError);
    assert.match(String(error.apiMessage), /^prompt is too long: 5000 tokens > 4096 maximum/);
  });
});

Deno.test("a request the upstream cannot serve (a server tool) is a 400 without an upstream call", async () => {
  await withOpenAIUpstream(() => ({ text: "unused" }), async (rig) => {
    const error = await sdk(rig).messages.create({
      model: MODEL,
      max_tokens: 64,
      tools: [{ type: "web_search_20250305", name: "web_search" }],
      messages: HELLO,
    }).catch((e) => e);
    assert.ok(error instanceof Anthropic.BadRequestError);
    assert.equal(error.type, "invalid_request_error");
    assert.match(String(error.apiMessage), /web_search_20250305/);
    assert.equal(rig.mock.requests.length, 0);
  });
});

Deno.test("multi-byte characters split across upstream network chunks arrive intact (field note 1a.10)", async () => {
  const text = "Grüße, 你好 😀!";
  const wire = rawChatEvents([{ role: "assistant", content: "" }, { content: text }]).join("");
  await withOpenAIUpstream(() => byteByByte(wire), async (rig) => {
    const summary = assertValidAnthropicStream(await streamRaw(rig, { messages: HELLO }));
    assert.equal(summary.text, text);
    assert.equal(summary.stopReason, "end_turn");
  });
});

Deno.test({
  name: "Claude Code's ?beta=true query is not forwarded to the OpenAI upstream",
  fn: async () => {
    await withOpenAIUpstream(() => ({ text: "ok" }), async (rig) => {
      const response = await postJson(`${rig.proxy.url}/v1/messages?beta=true`, {
        model: MODEL,
        max_tokens: 64,
        messages: HELLO,
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
      assert.equal(rig.mock.requests[0].path, "/v1/chat/completions");
      assert.deepEqual(rig.mock.requests[0].query, {});
    });
  },
});

/** Mistral's reasoning models answer with content as an array of parts. */
const MISTRAL_PARTS = [
  { type: "thinking", thinking: [{ type: "text", text: "The user says hello." }] },
  { type: "text", text: "Hello! How can I help?" },
];

Deno.test("array content (Mistral thinking and text parts) keeps its text and thinking, stream and non-stream", async () => {
  const usage = { prompt_tokens: 10, completion_tokens: 12, total_tokens: 22 };
  await withOpenAIUpstream(() => rawChatAnswer(MISTRAL_PARTS, usage), async (rig) => {
    const message = await sdk(rig).messages.create({ model: MODEL, max_tokens: 256, messages: HELLO });
    assert.deepEqual(message.content.map((block) => block.type), ["thinking", "text"]);
    assert.equal((message.content[0] as Anthropic.ThinkingBlock).thinking, "The user says hello.");
    assert.equal((message.content[1] as Anthropic.TextBlock).text, "Hello! How can I help?");

    rig.mock.setScenario(() => rawPartsStream(MISTRAL_PARTS));
    const { final } = await streamWithSdk(sdk(rig), { model: MODEL, max_tokens: 256, messages: HELLO });
    assert.deepEqual(final.content.map((block) => block.type), ["thinking", "text"]);
    assert.equal((final.content[1] as Anthropic.TextBlock).text, "Hello! How can I help?");
    assertValidAnthropicStream(recordedBody(rig, 1).events);
  });
});

Deno.test("a non-streamed answer without upstream usage reports estimated tokens, not 0/0", async () => {
  await withOpenAIUpstream(() => rawChatAnswer("A reply of several words."), async (rig) => {
    const message = await sdk(rig).messages.create({ model: MODEL, max_tokens: 64, messages: HELLO });
    assert.ok(message.usage.input_tokens > 0, `input_tokens ${message.usage.input_tokens}`);
    assert.ok(message.usage.output_tokens > 0, `output_tokens ${message.usage.output_tokens}`);
  });
});

Deno.test("a stop sequence the upstream left at the end of the text is removed, stream and non-stream", async () => {
  await withOpenAIUpstream(() => ({ text: "The answer is 42</answer>" }), async (rig) => {
    const params = { model: MODEL, max_tokens: 256, stop_sequences: ["</answer>"], messages: HELLO };
    const message = await sdk(rig).messages.create(params);
    assert.deepEqual(message.content, [{ type: "text", text: "The answer is 42" }]);
    assert.equal(message.stop_sequence, "</answer>");
    const { final } = await streamWithSdk(sdk(rig), params);
    assert.deepEqual(final.content, [{ type: "text", text: "The answer is 42" }]);
    assert.equal(final.stop_sequence, "</answer>");
  });
});

Deno.test("a tool-call id minted by the OpenAI upstream goes back to it as it was minted", async () => {
  const toolCalls = [{ id: "Kx1aB2", name: "Bash", arguments: '{"command":"ls"}' }];
  await withOpenAIUpstream(() => ({ toolCalls }), async (rig) => {
    const params = { model: MODEL, max_tokens: 256, tools: CLAUDE_CODE_TOOLS, messages: HELLO };
    const { final } = await streamWithSdk(sdk(rig), params);
    const call = final.content.find((block) => block.type === "tool_use");
    assert.ok(call !== undefined && call.type === "tool_use");
    assert.match(call.id, /^toolu_/);

    rig.mock.setScenario(() => ({ text: "Listed." }));
    await sdk(rig).messages.create({
      ...params,
      messages: [
        ...HELLO,
        { role: "assistant", content: final.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "a.ts" }] },
      ],
    });
    const messages = upstreamJson(rig, 1).messages as {
      role: string;
      tool_call_id?: string;
      tool_calls?: { id: string }[];
    }[];
    assert.equal(messages.find((message) => message.role === "assistant")?.tool_calls?.[0].id, "Kx1aB2");
    assert.equal(messages.find((message) => message.role === "tool")?.tool_call_id, "Kx1aB2");
  });
});

Deno.test("Claude Code's tool_reference blocks in a tool result reach the upstream as text, not a 400", async () => {
  await withOpenAIUpstream(() => ({ text: "I will use it." }), async (rig) => {
    const toolResult = {
      type: "tool_result",
      tool_use_id: "toolu_01Search",
      content: [{ type: "tool_reference", tool_name: "mcp__github__create_issue" }],
    } as unknown as Anthropic.ToolResultBlockParam;
    const message = await sdk(rig).messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [
        ...HELLO,
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_01Search", name: "ToolSearch", input: { query: "github" } }],
        },
        { role: "user", content: [toolResult] },
      ],
    });
    assert.deepEqual(message.content, [{ type: "text", text: "I will use it." }]);
    const messages = upstreamJson(rig, 0).messages as { role: string; content?: unknown }[];
    assert.equal(messages.find((m) => m.role === "tool")?.content, "Tool reference: mcp__github__create_issue");
  });
});
