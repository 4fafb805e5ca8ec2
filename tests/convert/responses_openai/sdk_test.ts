/**
 * The official `openai` SDK against a tiny server built from the pure Responses converters: the request goes
 * through `toChatRequest`, a canned chat answer through `toResponsesObject` or `ChatToResponsesStream`, so the SDK's
 * own accumulator (`responses.stream(…).finalResponse()`) and parser (`responses.create`) judge the output.
 */

import assert from "node:assert/strict";
import { toChatRequest } from "../../../src/convert/responses_openai/request.ts";
import { toResponsesObject } from "../../../src/convert/responses_openai/response.ts";
import { ChatToResponsesStream } from "../../../src/convert/responses_openai/stream.ts";
import type { OpenAIChatRequest } from "../../../src/protocols/openai.ts";
import type { ResponsesRequest } from "../../../src/protocols/openai_responses_types.ts";
import { SseEncoderStream, type SseEvent } from "../../../src/protocols/sse.ts";
import { OpenAI } from "../../support/sdk.ts";
import { chunk, DONE, toolDelta, usageChunk } from "./stream_helpers.ts";

const USAGE = {
  prompt_tokens: 20,
  completion_tokens: 9,
  total_tokens: 29,
  prompt_tokens_details: { cached_tokens: 5 },
};

/** The canned chat stream for a scenario, named by the user's text. */
const SCENARIOS: Record<string, SseEvent[]> = {
  text: [
    chunk({ role: "assistant", content: "Hello " }),
    chunk({ content: "world" }),
    chunk({}, "stop"),
    usageChunk(USAGE),
    DONE,
  ],
  reasoning: [
    chunk({ role: "assistant", reasoning_content: "The user greets." }),
    chunk({ content: "Hi!" }),
    chunk({}, "stop"),
    usageChunk({ ...USAGE, completion_tokens_details: { reasoning_tokens: 4 } }),
    DONE,
  ],
  tools: [
    chunk({ role: "assistant", content: "Checking." }),
    chunk(toolDelta(0, '{"path":', "call_1", "read_file")),
    chunk(toolDelta(1, '{"cmd":"ls"}', "call_2", "shell")),
    chunk(toolDelta(0, '"a.txt"}')),
    chunk({}, "tool_calls"),
    usageChunk(USAGE),
    DONE,
  ],
  json: [
    chunk({ role: "assistant", content: '{"city":' }),
    chunk({ content: '"Paris"}' }),
    chunk({}, "stop"),
    usageChunk(USAGE),
    DONE,
  ],
  error: [
    chunk({ role: "assistant", content: "Half" }),
    { data: JSON.stringify({ error: { message: "Upstream overloaded", type: "server_error", code: "overloaded" } }) },
  ],
};

/** The non-stream answer equivalent to a scenario's stream. */
function completionFor(scenario: string): Record<string, unknown> {
  const message: Record<string, unknown> = { role: "assistant", content: "Hello world" };
  if (scenario === "tools") {
    message.content = "Checking.";
    message.tool_calls = [
      { id: "call_1", type: "function", function: { name: "read_file", arguments: '{"path":"a.txt"}' } },
      { id: "call_2", type: "function", function: { name: "shell", arguments: '{"cmd":"ls"}' } },
    ];
  }
  if (scenario === "json") message.content = '{"city":"Paris"}';
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "qwen",
    choices: [{ index: 0, message, finish_reason: scenario === "tools" ? "tool_calls" : "stop" }],
    usage: USAGE,
  };
}

/** The scenario a converted chat request asks for: the text of its last user message. */
function scenarioOf(chat: OpenAIChatRequest): string {
  const last = chat.messages.findLast((message) => message.role === "user");
  return typeof last?.content === "string" ? last.content : "text";
}

/** Serves `POST /v1/responses` from the converters; records each converted chat request. */
function startServer(seen: OpenAIChatRequest[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const body = await req.json() as ResponsesRequest;
    const { request } = toChatRequest(body);
    seen.push(request);
    const scenario = scenarioOf(request);
    if (!body.stream) return Response.json(toResponsesObject(completionFor(scenario), { request: body }));
    const events = ReadableStream.from(SCENARIOS[scenario])
      .pipeThrough(new ChatToResponsesStream({ request: body }))
      .pipeThrough(new SseEncoderStream());
    return new Response(events, { headers: { "content-type": "text/event-stream" } });
  });
}

/** Runs `body` with an SDK client pointed at a fresh server, and closes the server. */
async function withClient(body: (client: OpenAI, seen: OpenAIChatRequest[]) => Promise<void>): Promise<void> {
  const seen: OpenAIChatRequest[] = [];
  const server = startServer(seen);
  try {
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${server.addr.port}/v1`, apiKey: "test", maxRetries: 0 });
    await body(client, seen);
  } finally {
    await server.shutdown();
  }
}

const tools = [
  { type: "function" as const, name: "read_file", parameters: { type: "object" }, strict: false },
  { type: "function" as const, name: "shell", parameters: { type: "object" }, strict: false },
  { type: "web_search" as const },
];

Deno.test("SDK responses.stream: finalResponse gives the text and usage", async () => {
  await withClient(async (client) => {
    const deltas: string[] = [];
    const stream = client.responses.stream({ model: "qwen", input: "text", store: false });
    stream.on("response.output_text.delta", (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    assert.equal(final.status, "completed");
    assert.equal(final.output_text, "Hello world");
    assert.deepEqual(deltas, ["Hello ", "world"]);
    assert.equal(final.usage?.input_tokens, 20);
    assert.equal(final.usage?.output_tokens, 9);
    assert.equal(final.usage?.input_tokens_details.cached_tokens, 5);
  });
});

Deno.test("SDK responses.stream: parallel function calls arrive with call ids and whole arguments", async () => {
  await withClient(async (client, seen) => {
    const final = await client.responses.stream({ model: "qwen", input: "tools", tools, parallel_tool_calls: true })
      .finalResponse();
    const calls = final.output.filter((item) => item.type === "function_call");
    assert.deepEqual(calls.map((call) => [call.call_id, call.name, JSON.parse(call.arguments)]), [
      ["call_1", "read_file", { path: "a.txt" }],
      ["call_2", "shell", { cmd: "ls" }],
    ]);
    assert.equal(final.output_text, "Checking.");
    assert.deepEqual(seen[0].tools?.map((tool) => tool.function.name), ["read_file", "shell"]);
    assert.equal(seen[0].parallel_tool_calls, true);
  });
});

Deno.test("SDK responses.stream: reasoning arrives as a reasoning item with reasoning_text", async () => {
  await withClient(async (client) => {
    const final = await client.responses.stream({ model: "qwen", input: "reasoning", reasoning: { effort: "low" } })
      .finalResponse();
    const reasoning = final.output.find((item) => item.type === "reasoning");
    assert.deepEqual(reasoning?.type === "reasoning" ? reasoning.content : undefined, [
      { type: "reasoning_text", text: "The user greets." },
    ]);
    assert.equal(final.output_text, "Hi!");
    assert.equal(final.usage?.output_tokens_details.reasoning_tokens, 4);
  });
});

Deno.test("SDK responses.stream: an upstream error mid-stream ends the response as failed", async () => {
  await withClient(async (client) => {
    const final = await client.responses.stream({ model: "qwen", input: "error" }).finalResponse();
    assert.equal(final.status, "failed");
    assert.equal(final.error?.message, "Upstream overloaded");
  });
});

Deno.test("SDK responses.stream: structured output through text.format json_schema", async () => {
  await withClient(async (client, seen) => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const format = { type: "json_schema" as const, name: "place", schema, strict: true };
    const final = await client.responses.stream({ model: "qwen", input: "json", text: { format } }).finalResponse();
    assert.deepEqual(JSON.parse(final.output_text), { city: "Paris" });
    assert.deepEqual(seen[0].response_format, {
      type: "json_schema",
      json_schema: { name: "place", schema, strict: true },
    });
  });
});

Deno.test("SDK responses.create (non-stream): text, function calls and usage", async () => {
  await withClient(async (client) => {
    const text = await client.responses.create({ model: "qwen", input: "text" });
    assert.equal(text.output_text, "Hello world");
    assert.equal(text.usage?.total_tokens, 29);
    const called = await client.responses.create({ model: "qwen", input: "tools", tools });
    const calls = called.output.filter((item) => item.type === "function_call");
    assert.deepEqual(calls.map((call) => call.call_id), ["call_1", "call_2"]);
  });
});
