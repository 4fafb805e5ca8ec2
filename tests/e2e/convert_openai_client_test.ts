/**
 * End-to-end: OpenAI clients (the official SDK) through the real proxy to an upstream that speaks only Anthropic
 * Messages. Every converted stream is checked against the OpenAI chunk-stream grammar.
 */

import assert from "node:assert/strict";
import { OpenAI } from "../support/sdk.ts";
import type { Scenario } from "../support/mock_upstream.ts";
import { assertValidOpenAIStream } from "../support/anthropic_stream_grammar.ts";
import { postJson } from "../support/http.ts";
import { byteByByte, rawJsonAnswer } from "../support/raw_upstream.ts";
import { readSse } from "../support/sse.ts";
import {
  type ConvertingRig,
  type ConvertingSetup,
  recordedBody,
  upstreamJson,
  withConvertingProxy,
} from "./convert_harness.ts";

const MODEL = "claude-haiku-4-5";
const HELLO: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Hello" }];

/** Function tools as an OpenAI agent sends them. */
const TOOLS: OpenAI.ChatCompletionFunctionTool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
  {
    type: "function",
    function: {
      name: "get_time",
      description: "Current time in a time zone",
      parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
    },
  },
];

/** Runs `body` with an Anthropic-only mock upstream behind the proxy. */
function withAnthropicUpstream(
  scenario: (request: { path: string; json: unknown }) => Scenario,
  body: (rig: ConvertingRig) => Promise<void>,
  upstreamConfig: ConvertingSetup["upstreamConfig"] = {},
): Promise<void> {
  return withConvertingProxy({ upstream: "anthropic", scenario, upstreamConfig }, body);
}

/** An SDK client of the proxy; `recorded` routes it through the rig's recording fetch. */
function sdk(rig: ConvertingRig, options: { recorded?: boolean } = {}): OpenAI {
  return new OpenAI({
    baseURL: `${rig.proxy.url}/v1`,
    apiKey: "client-key",
    maxRetries: 0,
    fetch: options.recorded === false ? undefined : rig.fetch,
  });
}

/** Reads the fields OpenAI's types do not declare (`reasoning_content`, `thinking_blocks`) off a message or delta. */
function extra(
  value: object,
): { reasoning_content?: string; thinking_blocks?: { type: string; signature?: string }[] } {
  return value as { reasoning_content?: string; thinking_blocks?: { type: string; signature?: string }[] };
}

/** Streams with `chat.completions.create`, collecting content, reasoning and the chunks' usage. */
async function streamWithCreate(client: OpenAI, params: OpenAI.ChatCompletionCreateParamsStreaming) {
  const stream = await client.chat.completions.create(params);
  let text = "";
  let reasoning = "";
  const order: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta;
    if (delta?.content) (text += delta.content, order.push("content"));
    const thought = delta === undefined ? undefined : extra(delta).reasoning_content;
    if (thought) (reasoning += thought, order.push("reasoning"));
    usage = chunk.usage ?? usage;
  }
  return { text, reasoning, order, usage };
}

/** Posts a streaming chat request without an SDK and returns the parsed events. */
async function streamRaw(rig: ConvertingRig, body: Record<string, unknown>) {
  const response = await postJson(`${rig.proxy.url}/v1/chat/completions`, { model: MODEL, ...body, stream: true });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  return await readSse(response);
}

Deno.test("chat.completions.create gets the Anthropic upstream's text as a chat completion", async () => {
  const scenario = () => ({
    text: "Hello from the Anthropic side",
    usage: { prompt_tokens: 12, completion_tokens: 6 },
  });
  await withAnthropicUpstream(scenario, async (rig) => {
    const completion = await sdk(rig).chat.completions.create({
      model: MODEL,
      messages: [{ role: "system", content: "Be brief" }, ...HELLO],
    });
    assert.match(completion.id, /^chatcmpl-/);
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.model, MODEL);
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0].message.role, "assistant");
    assert.equal(completion.choices[0].message.content, "Hello from the Anthropic side");
    assert.equal(completion.choices[0].finish_reason, "stop");
    assert.equal(completion.usage?.prompt_tokens, 12);
    assert.equal(completion.usage?.completion_tokens, 6);
    assert.equal(completion.usage?.total_tokens, 18);

    const seen = rig.mock.requests[0];
    assert.equal(seen.path, "/v1/messages");
    assert.deepEqual(upstreamJson(rig, 0), {
      model: MODEL,
      messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
      max_tokens: 8192,
      system: [{ type: "text", text: "Be brief" }],
    });
    assert.equal(seen.headers["anthropic-version"], "2023-06-01");
    assert.equal(seen.headers["x-api-key"], "client-key");
    assert.equal(seen.headers["authorization"], undefined);
  });
});

Deno.test("a stream with include_usage gets valid chunks and a usage chunk with the cached tokens", async () => {
  const scenario = () => ({
    text: "One two three four five",
    usage: { prompt_tokens: 1200, completion_tokens: 5, cached_tokens: 1000 },
  });
  await withAnthropicUpstream(scenario, async (rig) => {
    const { text, usage } = await streamWithCreate(sdk(rig), {
      model: MODEL,
      messages: HELLO,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(text, "One two three four five");
    assert.equal(usage?.prompt_tokens, 1200);
    assert.equal(usage?.completion_tokens, 5);
    assert.equal(usage?.prompt_tokens_details?.cached_tokens, 1000);

    const summary = assertValidOpenAIStream(recordedBody(rig, 0).events);
    assert.equal(summary.model, MODEL);
    assert.equal(summary.finishReason, "stop");
    assert.equal(summary.usage?.total_tokens, 1205);
    const seen = upstreamJson(rig, 0);
    assert.equal(seen.stream, true);
    assert.equal(seen.stream_options, undefined, "OpenAI-only keys are not sent to Anthropic");
  });
});

Deno.test("a stream without include_usage gets no usage chunk", async () => {
  await withAnthropicUpstream(() => ({ text: "Short" }), async (rig) => {
    const summary = assertValidOpenAIStream(await streamRaw(rig, { messages: HELLO }));
    assert.equal(summary.text, "Short");
    assert.equal(summary.usage, undefined);
  });
});

Deno.test("the chat.completions.stream helper assembles text and parallel tool calls", async () => {
  const scenario = () => ({
    text: "Checking both.",
    chunks: 3,
    toolCalls: [
      { name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) },
      { name: "get_time", arguments: JSON.stringify({ zone: "Europe/Paris" }) },
    ],
  });
  await withAnthropicUpstream(scenario, async (rig) => {
    const runner = sdk(rig).chat.completions.stream({ model: MODEL, messages: HELLO, tools: TOOLS });
    const final = await runner.finalChatCompletion();
    const message = final.choices[0].message;
    assert.equal(final.choices[0].finish_reason, "tool_calls");
    assert.equal(message.content, "Checking both.");
    const calls = (message.tool_calls ?? []).map((call) =>
      call.type === "function"
        ? { id: call.id, name: call.function.name, args: JSON.parse(call.function.arguments) }
        : {}
    );
    assert.deepEqual(calls.map(({ name, args }) => ({ name, args })), [
      { name: "get_weather", args: { city: "Paris" } },
      { name: "get_time", args: { zone: "Europe/Paris" } },
    ]);
    assert.ok(calls.every(({ id }) => typeof id === "string" && id.startsWith("toolu_")));
    assert.notEqual(calls[0].id, calls[1].id);

    const summary = assertValidOpenAIStream(recordedBody(rig, 0).events);
    assert.deepEqual(summary.toolCalls.map((call) => call.index), [0, 1]);
    assert.equal(summary.finishReason, "tool_calls");

    const seen = upstreamJson(rig, 0);
    assert.deepEqual(seen.tools, [
      {
        name: "get_weather",
        description: "Current weather for a city",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
      {
        name: "get_time",
        description: "Current time in a time zone",
        input_schema: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
      },
    ]);
  });
});

Deno.test("a single tool call comes back with finish_reason tool_calls, stream and non-stream", async () => {
  const scenario = () => ({ toolCalls: [{ id: "toolu_01A", name: "get_weather", arguments: '{"city":"Oslo"}' }] });
  await withAnthropicUpstream(scenario, async (rig) => {
    const params = { model: MODEL, messages: HELLO, tools: TOOLS, tool_choice: "required" as const };
    const completion = await sdk(rig).chat.completions.create(params);
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    assert.deepEqual(choice.message.tool_calls, [
      { id: "toolu_01A", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
    ]);
    assert.deepEqual(upstreamJson(rig, 0).tool_choice, { type: "any" });

    const summary = assertValidOpenAIStream(await streamRaw(rig, params));
    assert.equal(summary.finishReason, "tool_calls");
    assert.deepEqual(summary.toolCalls, [{
      index: 0,
      id: "toolu_01A",
      name: "get_weather",
      arguments: '{"city":"Oslo"}',
    }]);
  });
});

Deno.test("a tool call without an id gets a made-up one (field note 1a.9)", async () => {
  await withAnthropicUpstream(() => ({ toolCalls: [{ id: null, name: "get_time", arguments: "{}" }] }), async (rig) => {
    const summary = assertValidOpenAIStream(await streamRaw(rig, { messages: HELLO, tools: TOOLS }));
    assert.match(summary.toolCalls[0].id, /^call_/);
    assert.deepEqual(JSON.parse(summary.toolCalls[0].arguments), {});
  });
});

Deno.test("reasoning_effort turns thinking on upstream and thinking comes back as reasoning_content", async () => {
  const scenario = () => ({ reasoning: "The user greets me.", text: "Hi there!", chunks: 3 });
  await withAnthropicUpstream(scenario, async (rig) => {
    const params = { model: MODEL, max_tokens: 1000, reasoning_effort: "high" as const, messages: HELLO };
    const { text, reasoning, order } = await streamWithCreate(sdk(rig), { ...params, stream: true });
    assert.equal(reasoning, "The user greets me.");
    assert.equal(text, "Hi there!");
    assert.ok(order.lastIndexOf("reasoning") < order.indexOf("content"), "all reasoning comes before the content");
    assertValidOpenAIStream(recordedBody(rig, 0).events);
    const seen = upstreamJson(rig, 0);
    assert.deepEqual(seen.thinking, { type: "enabled", budget_tokens: 16384 });
    assert.equal(seen.max_tokens, 17384);
    assert.equal(seen.reasoning_effort, undefined);

    const completion = await sdk(rig).chat.completions.create(params);
    const message = extra(completion.choices[0].message);
    assert.equal(message.reasoning_content, "The user greets me.");
    assert.equal(message.thinking_blocks?.[0].type, "thinking");
    assert.ok((message.thinking_blocks?.[0].signature ?? "").length > 0);
    assert.equal(completion.choices[0].message.content, "Hi there!");
  });
});

Deno.test("signed thinking returned by the client keeps thinking on through a tool loop", async () => {
  const scenario = () => ({
    reasoning: "I need the weather first.",
    toolCalls: [{ id: "toolu_01", name: "get_weather", arguments: '{"city":"Paris"}' }],
  });
  await withAnthropicUpstream(scenario, async (rig) => {
    const client = sdk(rig);
    const first = await client.chat.completions.create({
      model: MODEL,
      reasoning_effort: "low",
      tools: TOOLS,
      messages: HELLO,
    });
    const assistant = first.choices[0].message;
    const signature = extra(assistant).thinking_blocks?.[0].signature;
    assert.ok(signature !== undefined && signature !== "");

    rig.mock.setScenario(() => ({ text: "It is sunny." }));
    const second = await client.chat.completions.create({
      model: MODEL,
      reasoning_effort: "low",
      tools: TOOLS,
      messages: [...HELLO, assistant, { role: "tool", tool_call_id: "toolu_01", content: "Sunny" }],
    });
    assert.equal(second.choices[0].message.content, "It is sunny.");
    const seen = upstreamJson(rig, 1);
    assert.deepEqual(seen.thinking, { type: "enabled", budget_tokens: 2048 });
    const turns = seen.messages as { role: string; content: { type: string; signature?: string }[] }[];
    assert.deepEqual(turns[1].content.map((block) => block.type), ["thinking", "tool_use"]);
    assert.equal(turns[1].content[0].signature, signature, "the upstream's signature comes back unchanged");
  });
});

Deno.test("multi-byte characters split across upstream network chunks arrive intact (field note 1a.10)", async () => {
  const text = "Grüße, 你好 😀!";
  await withAnthropicUpstream(() => ({ text: "placeholder" }), async (rig) => {
    // The mock's own Anthropic stream for this text, replayed one byte per network chunk.
    const direct = await postJson(`${rig.mock.url}/messages`, {
      model: MODEL,
      max_tokens: 64,
      stream: true,
      messages: HELLO,
    });
    const wire = (await direct.text()).replace("placeholder", text);
    rig.mock.setScenario(() => byteByByte(wire));
    const summary = assertValidOpenAIStream(await streamRaw(rig, { messages: HELLO }));
    assert.equal(summary.text, text);
    assert.equal(summary.finishReason, "stop");
  });
});

Deno.test("the second turn sends tool results back as tool_result blocks in order", async () => {
  await withAnthropicUpstream(() => ({ text: "Sunny, and it is noon." }), async (rig) => {
    const { text } = await streamWithCreate(sdk(rig), {
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      tools: TOOLS,
      frequency_penalty: 0.5,
      seed: 7,
      messages: [
        { role: "system", content: "You are helpful." },
        { role: "user", content: "Weather and time in Paris?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { id: "toolu_01", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "toolu_02", type: "function", function: { name: "get_time", arguments: '{"zone":"Europe/Paris"}' } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_01", content: "Sunny, 24°C" },
        { role: "tool", tool_call_id: "toolu_02", content: "12:00" },
        { role: "user", content: "Thanks, summarise." },
      ],
    });
    assert.equal(text, "Sunny, and it is noon.");
    assertValidOpenAIStream(recordedBody(rig, 0).events);

    const seen = upstreamJson(rig, 0);
    assert.equal(seen.model, MODEL);
    assert.deepEqual(seen.system, [{ type: "text", text: "You are helpful." }]);
    assert.deepEqual(seen.messages, [
      { role: "user", content: [{ type: "text", text: "Weather and time in Paris?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_02", name: "get_time", input: { zone: "Europe/Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_01", content: "Sunny, 24°C" },
          { type: "tool_result", tool_use_id: "toolu_02", content: "12:00" },
          { type: "text", text: "Thanks, summarise." },
        ],
      },
    ]);
    for (const key of ["frequency_penalty", "seed", "stream_options", "tool_choice"]) {
      assert.equal(seen[key], undefined, `${key} is not sent to the Anthropic upstream`);
    }
  });
});

Deno.test("stop reaches the upstream as stop_sequences and a stop_sequence end is finish_reason stop", async () => {
  await withAnthropicUpstream(() => ({ text: "Counting: 1, 2, 3", finishReason: "stop_sequence" }), async (rig) => {
    const completion = await sdk(rig).chat.completions.create({ model: MODEL, stop: ["4", ""], messages: HELLO });
    assert.equal(completion.choices[0].finish_reason, "stop");
    assert.deepEqual(upstreamJson(rig, 0).stop_sequences, ["4"]);
    rig.mock.setScenario(() => ({ text: "Cut", finishReason: "max_tokens" }));
    const summary = assertValidOpenAIStream(await streamRaw(rig, { messages: HELLO, stop: "4" }));
    assert.equal(summary.finishReason, "length");
  });
});

Deno.test("a request Anthropic cannot serve (n > 1) is a 400 without an upstream call", async () => {
  await withAnthropicUpstream(() => ({ text: "unused" }), async (rig) => {
    const error = await sdk(rig).chat.completions.create({ model: MODEL, n: 2, messages: HELLO }).catch((e) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /n must be 1/);
    assert.equal(rig.mock.requests.length, 0);
  });
});

// An error body sent with status 200 is in the direction matrix (tests/e2e/direction_matrix_test.ts).
Deno.test("an Anthropic upstream's 200 body that is not a Message is a 502 naming that, not a TypeError", async () => {
  await withAnthropicUpstream(() => rawJsonAnswer({ id: "msg_1", note: "not a message" }), async (rig) => {
    const garbage = await sdk(rig).chat.completions.create({ model: MODEL, messages: HELLO }).catch((e) => e);
    assert.ok(garbage instanceof OpenAI.APIError, String(garbage));
    assert.equal(garbage.status, 502);
    assert.match(garbage.message, /not a Messages response/);
    assert.doesNotMatch(garbage.message, /TypeError|not iterable/);
  });
});

Deno.test("legacy functions and function_call reach the Anthropic upstream as tools and come back as function_call", async () => {
  const functions: OpenAI.ChatCompletionCreateParams.Function[] = [TOOLS[0].function];
  const toolCalls = [{ name: "get_weather", arguments: '{"city":"Paris"}' }];
  await withAnthropicUpstream(() => ({ toolCalls }), async (rig) => {
    const question: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const completion = await sdk(rig).chat.completions.create({ model: MODEL, messages: question, functions });
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, "function_call");
    assert.deepEqual(choice.message.function_call, { name: "get_weather", arguments: '{"city":"Paris"}' });
    const sent = upstreamJson(rig, 0);
    assert.deepEqual((sent.tools as { name: string }[]).map((tool) => tool.name), ["get_weather"]);
    assert.deepEqual(sent.tool_choice, { type: "auto", disable_parallel_tool_use: true });

    const stream = await sdk(rig).chat.completions.create({
      model: MODEL,
      messages: question,
      functions,
      stream: true,
    });
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      args += chunk.choices[0]?.delta.function_call?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(args, '{"city":"Paris"}');
    assert.equal(finish, "function_call");
    assertValidOpenAIStream(recordedBody(rig, 1).events);

    rig.mock.setScenario(() => ({ text: "It is sunny." }));
    await sdk(rig).chat.completions.create({
      model: MODEL,
      functions,
      messages: [
        ...question,
        { role: "assistant", content: null, function_call: choice.message.function_call! },
        { role: "function", name: "get_weather", content: "18°C, sunny" },
      ],
    });
    const turns = upstreamJson(rig, 2).messages as {
      role: string;
      content: { type: string; id?: string; tool_use_id?: string }[];
    }[];
    const call = turns[1].content.find((block) => block.type === "tool_use");
    const result = turns[2].content.find((block) => block.type === "tool_result");
    assert.ok(call?.id !== undefined && result?.tool_use_id === call.id);
  });
});
