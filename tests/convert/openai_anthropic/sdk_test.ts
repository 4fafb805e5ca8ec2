/**
 * The official openai SDK reads converted Anthropic answers as if an OpenAI server had sent them.
 */

import assert from "node:assert/strict";
import { APIError, OpenAI } from "../../support/sdk.ts";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { toOpenAIResponse } from "../../../src/convert/openai_anthropic/response.ts";
import { AnthropicToOpenAIStream } from "../../../src/convert/openai_anthropic/stream.ts";
import type { AnthropicResponse } from "../../../src/protocols/anthropic.ts";
import type { OpenAIChatRequest } from "../../../src/protocols/openai.ts";
import { SseEncoderStream } from "../../../src/protocols/sse.ts";
import { fixture } from "./stream_helpers.ts";

/** Starts a server on port 0 that answers every request with `answer(body)`, and a client pointed at it. */
function serve(answer: (body: OpenAIChatRequest) => Response) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => answer(await req.json()));
  const client = new OpenAI({ apiKey: "sk-test", baseURL: `http://127.0.0.1:${server.addr.port}/v1`, maxRetries: 0 });
  return { server, client };
}

/** Answers with the recorded Anthropic stream `name`, converted the way the proxy converts it. */
function convertedStream(text: string) {
  return (body: OpenAIChatRequest) => {
    const events = ReadableStream.from([new TextEncoder().encode(text)])
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream())
      .pipeThrough(
        new AnthropicToOpenAIStream({ model: body.model, includeUsage: body.stream_options?.include_usage === true }),
      )
      .pipeThrough(new SseEncoderStream());
    return new Response(events, { headers: { "content-type": "text/event-stream" } });
  };
}

const TOOLS: OpenAI.ChatCompletionTool[] = [{
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { location: { type: "string" }, unit: { type: "string" } } },
  },
}];

Deno.test("AnthropicToOpenAIStream output is read by openai chat.completions.stream() with text and tool calls", async () => {
  const { server, client } = serve(convertedStream(await fixture("tools_thinking.sse")));
  try {
    const stream = client.chat.completions.stream({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Weather in Tokyo and Osaka?" }],
      tools: TOOLS,
      stream_options: { include_usage: true },
    });
    const completion = await stream.finalChatCompletion();
    const [choice] = completion.choices;
    assert.equal(completion.model, "gpt-4o");
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, "東京と大阪の天気を調べます 🌤️👨‍👩‍👧");
    assert.deepEqual(
      choice.message.tool_calls?.map((call) => call.type === "function" && JSON.parse(call.function.arguments)),
      [{ location: "東京", unit: "celsius" }, { location: "大阪", note: 'say "hi" 👋', unit: "celsius" }],
    );
    assert.deepEqual(choice.message.tool_calls?.map((call) => call.id), [
      "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      "toolu_01PnT5TXHN3BEVbJy6BuFGsU",
    ]);
    assert.equal(completion.usage?.prompt_tokens, 472 + 1536 + 128);
  } finally {
    await server.shutdown();
  }
});

Deno.test("AnthropicToOpenAIStream output is read by openai chat.completions.create({stream: true})", async () => {
  const { server, client } = serve(convertedStream(await fixture("text_stop_sequence.sse")));
  try {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Count to 5" }],
      stop: ["5"],
      stream: true,
    });
    let text = "";
    const finishReasons: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finishReasons.push(chunk.choices[0].finish_reason);
    }
    assert.equal(text, "1, 2, 3, 4");
    assert.deepEqual(finishReasons, ["stop"]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("AnthropicToOpenAIStream error chunk makes the openai SDK throw an APIError", async () => {
  const { server, client } = serve(convertedStream(await fixture("overloaded_mid_stream.sse")));
  try {
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Tell me a story" }],
      stream: true,
    });
    let text = "";
    await assert.rejects(
      async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      },
      (error: unknown) => error instanceof APIError && error.message.includes("Overloaded"),
    );
    assert.equal(text, "Once upon a time");
  } finally {
    await server.shutdown();
  }
});

Deno.test("AnthropicToOpenAIStream truncation makes the openai SDK stream() helper reject", async () => {
  const { server, client } = serve(convertedStream(await fixture("truncated.sse")));
  try {
    const stream = client.chat.completions.stream({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] });
    await assert.rejects(stream.finalChatCompletion(), APIError);
  } finally {
    await server.shutdown();
  }
});

Deno.test("toOpenAIResponse output is read by openai chat.completions.create()", async () => {
  const message: AnthropicResponse = {
    id: "msg_01",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [
      { type: "text", text: "Reading it now." },
      { type: "tool_use", id: "toolu_01", name: "read_file", input: { path: "src/main.ts" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 20, output_tokens: 9 },
  };
  const { server, client } = serve((body) => Response.json(toOpenAIResponse(message, { model: body.model })));
  try {
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Open src/main.ts" }],
    });
    const [choice] = completion.choices;
    assert.equal(choice.message.content, "Reading it now.");
    assert.equal(choice.finish_reason, "tool_calls");
    const [call] = choice.message.tool_calls ?? [];
    assert.ok(call?.type === "function");
    assert.deepEqual(JSON.parse(call.function.arguments), { path: "src/main.ts" });
  } finally {
    await server.shutdown();
  }
});
