import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import type { Dialect } from "../../src/protocols/dialect.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import assert from "node:assert/strict";
import { KeepAliveStream } from "../../src/guard/keep_alive.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes `chunks` into a keep-alive stage, then waits for one keep-alive, then ends; returns the text out. */
async function run(dialect: Dialect, chunks: string[]): Promise<string[]> {
  const stage = new KeepAliveStream(dialect, 5);
  const writer = stage.writable.getWriter();
  const reader = stage.readable.getReader();
  const out: string[] = [];
  for (const chunk of chunks) {
    writer.write(encoder.encode(chunk));
    out.push(decoder.decode((await reader.read()).value));
  }
  out.push(decoder.decode((await reader.read()).value)); // the keep-alive, after the silence
  await writer.close();
  while (!(await reader.read()).done) {
    // Keep-alives that came meanwhile.
  }
  return out;
}

Deno.test("KeepAliveStream passes bytes through and sends an SSE comment to OpenAI clients after silence", async () => {
  assert.deepEqual(await run(OPENAI_CHAT, ["data: {}\n\n"]), ["data: {}\n\n", ": keep-alive\n\n"]);
});

Deno.test("KeepAliveStream sends Anthropic clients a ping once the stream has begun", async () => {
  const out = await run(ANTHROPIC_MESSAGES, ['event: message_start\ndata: {"type":"message_start"}\n\n']);
  assert.equal(out[1], 'event: ping\ndata: {"type":"ping"}\n\n');
});

Deno.test("KeepAliveStream sends a comment, not a ping, before an Anthropic stream has begun", async () => {
  assert.deepEqual(await run(ANTHROPIC_MESSAGES, []), [": keep-alive\n\n"]);
});

Deno.test("KeepAliveStream stops its timer when the reader cancels", async () => {
  const stage = new KeepAliveStream(OPENAI_CHAT, 5);
  await stage.readable.cancel();
  await stage.writable.close().catch(() => {});
  // No assertion: Deno's timer leak sanitizer fails this test if the keep-alive timer is still armed.
});
