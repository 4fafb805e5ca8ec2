import assert from "node:assert/strict";
import type { UpstreamResponse } from "../../src/http/upstream_call.ts";
import type { TokenUsage } from "../../src/observability/usage.ts";
import { tapUsage } from "../../src/observability/usage_tap.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import type { Dialect } from "../../src/protocols/dialect.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";

/** An upstream response whose body is `pieces`. */
function response(pieces: Uint8Array[], contentType: string): UpstreamResponse {
  let at = 0;
  const reader = {
    read: () =>
      Promise.resolve(
        at < pieces.length ? { done: false as const, value: pieces[at++] } : { done: true as const, value: undefined },
      ),
    cancel: () => Promise.resolve(),
  };
  return {
    status: 200,
    headers: new Headers({ "content-type": contentType }),
    reader: () => reader,
    body: null,
    headersMs: 0,
    abort: () => {},
  };
}

async function usageOf(pieces: Uint8Array[], contentType: string, dialect: Dialect) {
  const reports: TokenUsage[] = [];
  const tap = tapUsage(response(pieces, contentType), dialect.usage, (usage) => reports.push(usage));
  const reader = tap.response.reader()!;
  while (!(await reader.read()).done);
  tap.flush();
  return reports;
}

const ANTHROPIC_SSE = new TextEncoder().encode(
  'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":4,"output_tokens":1,' +
    '"cache_read_input_tokens":6}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,' +
    '"delta":{"type":"text_delta","text":"héllo"}}\n\nevent: message_delta\r\ndata: {"type":"message_delta",' +
    '"usage":{"output_tokens":9}}\r\n\r\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
);

Deno.test("tapUsage reads an Anthropic stream's usage once, wherever the bytes are split", async () => {
  const expected = [{ input: 10, output: 9, cacheRead: 6, cacheWrite: 0, reasoning: 0 }];
  for (let cut = 0; cut <= ANTHROPIC_SSE.length; cut++) {
    const pieces = [ANTHROPIC_SSE.subarray(0, cut), ANTHROPIC_SSE.subarray(cut)];
    assert.deepEqual(await usageOf(pieces, "text/event-stream", ANTHROPIC_MESSAGES), expected, `cut at ${cut}`);
  }
});

Deno.test("tapUsage reads an OpenAI body at its end", async () => {
  const body = new TextEncoder().encode('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}');
  const pieces = [body.subarray(0, 20), body.subarray(20)];
  assert.deepEqual(await usageOf(pieces, "application/json", OPENAI_CHAT), [
    { input: 3, output: 2, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
  ]);
});
