import assert from "node:assert/strict";
import { Anthropic } from "../../support/sdk.ts";
import { SseEncoderStream, type SseEvent } from "../../../src/protocols/sse.ts";
import { OpenAIToAnthropicStream } from "../../../src/convert/anthropic_openai/stream.ts";
import { toAnthropicResponse } from "../../../src/convert/anthropic_openai/response.ts";
import { SYNTHETIC_THINKING_SIGNATURE } from "../../../src/convert/anthropic_openai/synthetic.ts";
import { chunk, DONE, toolChunk, usageChunk } from "./openai_chunks.ts";

/** An Anthropic SDK client whose every request is answered by `reply`, as if the proxy were at the other end. */
function clientAnswering(reply: () => Response): Anthropic {
  return new Anthropic({
    apiKey: "sk-ant-test",
    baseURL: "http://proxy.test",
    maxRetries: 0,
    fetch: () => Promise.resolve(reply()),
  });
}

/** The proxy's streamed answer: the upstream events converted and encoded. */
function streamedReply(upstream: SseEvent[]): Response {
  const body = ReadableStream.from(upstream)
    .pipeThrough(new OpenAIToAnthropicStream({ model: "qwen3-coder-30b", inputTokens: 3000, pingIntervalMs: 0 }))
    .pipeThrough(new SseEncoderStream());
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

const PARAMS = {
  model: "qwen3-coder-30b",
  max_tokens: 1024,
  messages: [{ role: "user" as const, content: "List src and read main.ts" }],
};

Deno.test("OpenAIToAnthropicStream output reads as a normal message in the Anthropic SDK's messages.stream()", async () => {
  const client = clientAnswering(() =>
    streamedReply([
      chunk({ role: "assistant", content: "" }),
      chunk({ reasoning_content: "Two independent calls." }),
      chunk({ content: "Running both." }),
      toolChunk({ index: 0, id: "call_ls", type: "function", function: { name: "Bash", arguments: '{"command"' } }),
      toolChunk({ index: 1, id: "call_rd", type: "function", function: { name: "Read", arguments: '{"file_path"' } }),
      toolChunk({ index: 0, function: { arguments: ':"ls src"}' } }),
      toolChunk({ index: 1, function: { arguments: ':"/src/main.ts"}' } }),
      chunk({}, { finish: "tool_calls" }),
      usageChunk({ prompt_tokens: 3120, completion_tokens: 58, prompt_tokens_details: { cached_tokens: 3072 } }),
      DONE,
    ])
  );
  const texts: string[] = [];
  const stream = client.messages.stream(PARAMS).on("text", (text) => texts.push(text));
  const message = await stream.finalMessage();
  assert.equal(message.id, "msg_7f3a");
  assert.equal(message.model, "qwen3-coder-30b");
  assert.equal(message.stop_reason, "tool_use");
  assert.deepEqual(texts, ["Running both."]);
  assert.deepEqual(message.content.map((block) => block.type), ["thinking", "text", "tool_use", "tool_use"]);
  assert.deepEqual(message.content[0], {
    type: "thinking",
    thinking: "Two independent calls.",
    signature: SYNTHETIC_THINKING_SIGNATURE,
  });
  const tools = message.content.filter((block) => block.type === "tool_use");
  assert.deepEqual(tools.map((block) => [block.id, block.name, block.input]), [
    ["call_ls", "Bash", { command: "ls src" }],
    ["call_rd", "Read", { file_path: "/src/main.ts" }],
  ]);
  assert.equal(message.usage.input_tokens, 48);
  assert.equal(message.usage.cache_read_input_tokens, 3072);
  assert.equal(message.usage.output_tokens, 58);
});

Deno.test("OpenAIToAnthropicStream upstream errors surface as an APIError in the Anthropic SDK", async () => {
  const client = clientAnswering(() =>
    streamedReply([chunk({ content: "Partial" }), { data: '{"error":{"code":529,"message":"Server overloaded"}}' }])
  );
  await assert.rejects(client.messages.stream(PARAMS).finalMessage(), (error: unknown) => {
    assert.ok(error instanceof Anthropic.APIError);
    assert.match(error.message, /overloaded_error/);
    assert.match(error.message, /Server overloaded/);
    return true;
  });
});

Deno.test("toAnthropicResponse output parses as a message in the Anthropic SDK", async () => {
  const body = toAnthropicResponse({
    id: "chatcmpl-abc",
    object: "chat.completion",
    created: 1,
    model: "qwen3",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "<think>Need the file.</think>Reading it.",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "Read", arguments: '{"file_path":"/a"}' } }],
      },
      finish_reason: "tool_calls",
    }],
    usage: { prompt_tokens: 10, completion_tokens: 5 },
  }, { model: "qwen3-coder-30b" });
  const client = clientAnswering(() => Response.json(body));
  const message = await client.messages.create(PARAMS);
  assert.deepEqual(message.content.map((block) => block.type), ["thinking", "text", "tool_use"]);
  assert.equal(message.stop_reason, "tool_use");
});
