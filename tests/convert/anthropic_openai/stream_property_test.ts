import assert from "node:assert/strict";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { formatSse, type SseEvent } from "../../../src/protocols/sse.ts";
import { OpenAIToAnthropicStream } from "../../../src/convert/anthropic_openai/stream.ts";
import { assertValidAnthropicStream } from "../../support/anthropic_stream_grammar.ts";
import { chunk, DONE, toolChunk, usageChunk } from "./openai_chunks.ts";

/** A llama.cpp-style stream with CJK and emoji in reasoning, text and tool arguments. */
const UPSTREAM_EVENTS: SseEvent[] = [
  chunk({ role: "assistant", content: null }),
  chunk({ reasoning_content: "用户想要" }),
  chunk({ reasoning_content: "读取文件 🧐 then answer." }),
  chunk({ content: "好的 👍🏽, " }),
  chunk({ content: "читаю файл." }),
  toolChunk({
    index: 0,
    id: "call_cjk",
    type: "function",
    function: { name: "Read", arguments: '{"file_path":"/文档/' },
  }),
  toolChunk({ index: 0, function: { arguments: 'ノート 📝.md"}' } }),
  chunk({}, { finish: "tool_calls" }),
  usageChunk({ prompt_tokens: 900, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 512 } }),
  DONE,
];

const UPSTREAM_BYTES = new TextEncoder().encode(
  `: llama-server keep-alive\n\n${UPSTREAM_EVENTS.map(formatSse).join("")}`,
);

/** Converts the upstream bytes delivered as the given network chunks, the way the proxy decodes a body. */
function convertBytes(parts: Uint8Array[]): Promise<SseEvent[]> {
  const events = ReadableStream.from(parts)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(new OpenAIToAnthropicStream({ model: "claude-sonnet-4-5", pingIntervalMs: 0 }));
  return Array.fromAsync(events);
}

Deno.test("OpenAIToAnthropicStream gives the same events however the upstream bytes are split", async () => {
  const whole = await convertBytes([UPSTREAM_BYTES]);
  const summary = assertValidAnthropicStream(whole);
  assert.equal(summary.thinking, "用户想要读取文件 🧐 then answer.");
  assert.equal(summary.text, "好的 👍🏽, читаю файл.");
  assert.deepEqual(summary.toolUses, [{ id: "call_cjk", name: "Read", input: { file_path: "/文档/ノート 📝.md" } }]);
  assert.equal(summary.usage.cache_read_input_tokens, 512);
  for (let cut = 1; cut < UPSTREAM_BYTES.length; cut++) {
    const split = await convertBytes([UPSTREAM_BYTES.subarray(0, cut), UPSTREAM_BYTES.subarray(cut)]);
    assert.deepEqual(split, whole, `split at byte ${cut}`);
  }
});

Deno.test("OpenAIToAnthropicStream gives the same events when every byte arrives alone", async () => {
  const bytes = Array.from(UPSTREAM_BYTES, (byte) => Uint8Array.of(byte));
  assert.deepEqual(await convertBytes(bytes), await convertBytes([UPSTREAM_BYTES]));
});
