import assert from "node:assert/strict";
import {
  addUsage,
  anthropicMessagesUsage,
  anthropicStreamUsage,
  openaiChatUsage,
} from "../../src/observability/usage.ts";

Deno.test("openaiChatUsage reads prompt, completion, cached and reasoning tokens", () => {
  const usage = {
    prompt_tokens: 100,
    completion_tokens: 30,
    prompt_tokens_details: { cached_tokens: 80 },
    completion_tokens_details: { reasoning_tokens: 12 },
  };
  assert.deepEqual(openaiChatUsage({ usage }), { input: 100, output: 30, cacheRead: 80, cacheWrite: 0, reasoning: 12 });
  assert.equal(openaiChatUsage({ choices: [], usage: null }), undefined);
  // DeepSeek names its cache hits apart.
  const deepseek = { usage: { prompt_tokens: 50, completion_tokens: 5, prompt_cache_hit_tokens: 40 } };
  assert.equal(openaiChatUsage(deepseek)?.cacheRead, 40);
});

Deno.test("anthropicMessagesUsage counts cache reads and writes into the input", () => {
  const body = {
    usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90, cache_creation_input_tokens: 20 },
  };
  assert.deepEqual(anthropicMessagesUsage(body), {
    input: 120,
    output: 5,
    cacheRead: 90,
    cacheWrite: 20,
    reasoning: 0,
  });
  assert.equal(anthropicMessagesUsage({ content: [] }), undefined);
});

Deno.test("anthropicStreamUsage folds message_start and cumulative message_delta counts", () => {
  const start = anthropicStreamUsage(undefined, {
    type: "message_start",
    message: { usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 8 } },
  });
  const ping = anthropicStreamUsage(start, { type: "ping" });
  assert.equal(ping, start);
  const end = anthropicStreamUsage(ping, {
    type: "message_delta",
    usage: { output_tokens: 40, output_tokens_details: { thinking_tokens: 9 } },
  });
  assert.deepEqual(end, { input: 20, output: 40, cacheRead: 8, cacheWrite: 0, reasoning: 9 });
  // A delta that repeats the input counts replaces them rather than adding.
  const repeated = anthropicStreamUsage(end, {
    type: "message_delta",
    usage: { input_tokens: 12, cache_read_input_tokens: 8, output_tokens: 41 },
  });
  assert.deepEqual(repeated, { input: 20, output: 41, cacheRead: 8, cacheWrite: 0, reasoning: 9 });
});

Deno.test("addUsage adds the answers of several attempts", () => {
  const one = { input: 1, output: 2, cacheRead: 3, cacheWrite: 4, reasoning: 5 };
  assert.deepEqual(addUsage(one, one), { input: 2, output: 4, cacheRead: 6, cacheWrite: 8, reasoning: 10 });
});
