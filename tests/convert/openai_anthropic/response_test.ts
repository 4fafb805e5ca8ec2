import assert from "node:assert/strict";
import {
  chatCompletionId,
  stopReasonToFinishReason,
  toolCallId,
  toOpenAIResponse,
  toOpenAIUsage,
} from "../../../src/convert/openai_anthropic/response.ts";
import type { AnthropicResponse } from "../../../src/protocols/anthropic.ts";
import { ProxyError } from "../../../src/http/errors.ts";

function message(content: AnthropicResponse["content"], stopReason: AnthropicResponse["stop_reason"]) {
  return {
    id: "msg_01XFDUDYJgAACzvnptvVoYEL",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 2095, output_tokens: 503, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  } satisfies AnthropicResponse;
}

Deno.test("stopReasonToFinishReason maps each stop reason", () => {
  const cases = [
    { reason: "end_turn", tools: false, want: "stop" },
    { reason: "stop_sequence", tools: false, want: "stop" },
    { reason: "pause_turn", tools: false, want: "stop" },
    { reason: "max_tokens", tools: false, want: "length" },
    { reason: "model_context_window_exceeded", tools: false, want: "length" },
    { reason: "tool_use", tools: true, want: "tool_calls" },
    { reason: "refusal", tools: false, want: "content_filter" },
    { reason: null, tools: false, want: "stop" },
    { reason: "something_new", tools: false, want: "stop" },
    // Tool calls must not vanish behind a "stop" (field note 27), but truncation stays visible.
    { reason: "end_turn", tools: true, want: "tool_calls" },
    { reason: "something_new", tools: true, want: "tool_calls" },
    { reason: "max_tokens", tools: true, want: "length" },
  ];
  for (const { reason, tools, want } of cases) {
    assert.equal(stopReasonToFinishReason(reason, tools), want, `${reason} with tools=${tools}`);
  }
});

Deno.test("toOpenAIUsage counts cache reads and writes as prompt tokens", () => {
  const cases = [
    {
      name: "no cache",
      usage: { input_tokens: 10, output_tokens: 5 },
      want: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
    },
    {
      name: "cache read and write",
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 900, cache_creation_input_tokens: 90 },
      want: {
        prompt_tokens: 1000,
        completion_tokens: 5,
        total_tokens: 1005,
        prompt_tokens_details: { cached_tokens: 900 },
      },
    },
    {
      name: "null cache fields and thinking tokens",
      usage: {
        input_tokens: 3,
        output_tokens: 50,
        cache_read_input_tokens: null,
        cache_creation_input_tokens: null,
        output_tokens_details: { thinking_tokens: 40 },
      },
      want: {
        prompt_tokens: 3,
        completion_tokens: 50,
        total_tokens: 53,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 40 },
      },
    },
  ];
  for (const { name, usage, want } of cases) assert.deepEqual(toOpenAIUsage(usage), want, name);
});

Deno.test("chatCompletionId derives the id from the upstream id, or makes one up", () => {
  assert.equal(chatCompletionId("msg_01ABC"), "chatcmpl-msg_01ABC");
  assert.match(chatCompletionId(undefined), /^chatcmpl-[0-9a-f-]{36}$/);
  assert.notEqual(chatCompletionId(""), chatCompletionId(""));
});

Deno.test("toolCallId keeps the upstream id and makes one up when it is missing", () => {
  assert.equal(toolCallId("toolu_01A"), "toolu_01A");
  assert.match(toolCallId(undefined), /^call_[0-9a-f-]{36}$/);
  assert.match(toolCallId(""), /^call_/);
});

Deno.test("toOpenAIResponse converts thinking, text and parallel tool calls", () => {
  const before = Math.floor(Date.now() / 1000);
  const completion = toOpenAIResponse(
    message([
      { type: "thinking", thinking: "Two cities, two calls.", signature: "EqQBCgIYAhIM" },
      { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
      { type: "text", text: "Checking " },
      { type: "text", text: "both." },
      { type: "tool_use", id: "toolu_01A", name: "get_weather", input: { location: "東京" } },
      { type: "tool_use", id: "toolu_01B", name: "get_weather", input: { location: "大阪" } },
    ], "tool_use"),
    { model: "gpt-4o" },
  );
  const after = Math.floor(Date.now() / 1000);
  assert.ok(completion.created >= before && completion.created <= after);
  assert.deepEqual({ ...completion, created: 0 }, {
    id: "chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL",
    object: "chat.completion",
    created: 0,
    model: "gpt-4o",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "Checking both.",
        refusal: null,
        reasoning_content: "Two cities, two calls.",
        thinking_blocks: [
          { type: "thinking", thinking: "Two cities, two calls.", signature: "EqQBCgIYAhIM" },
          { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
        ],
        tool_calls: [
          { id: "toolu_01A", type: "function", function: { name: "get_weather", arguments: '{"location":"東京"}' } },
          { id: "toolu_01B", type: "function", function: { name: "get_weather", arguments: '{"location":"大阪"}' } },
        ],
      },
      finish_reason: "tool_calls",
    }],
    usage: {
      prompt_tokens: 2095,
      completion_tokens: 503,
      total_tokens: 2598,
      prompt_tokens_details: { cached_tokens: 0 },
    },
  });
});

Deno.test("toOpenAIResponse gives null content for a tool-only answer", () => {
  const completion = toOpenAIResponse(
    message([{ type: "tool_use", id: "toolu_01", name: "list_files", input: {} }], "tool_use"),
    { model: "gpt-4o" },
  );
  assert.equal(completion.choices[0].message.content, null);
  assert.equal(completion.choices[0].message.tool_calls?.[0].function.arguments, "{}");
});

Deno.test("toOpenAIResponse gives empty content and no extra fields for an answer cut during thinking", () => {
  const completion = toOpenAIResponse(message([], "max_tokens"), { model: "gpt-4o" });
  assert.deepEqual(completion.choices[0], {
    index: 0,
    message: { role: "assistant", content: "", refusal: null },
    finish_reason: "length",
  });
});

Deno.test("toOpenAIResponse leaves out server-tool blocks it cannot express", () => {
  const completion = toOpenAIResponse(
    message([
      { type: "server_tool_use", id: "srvtoolu_01", name: "web_search", input: { query: "deno" } },
      { type: "web_search_tool_result", tool_use_id: "srvtoolu_01", content: [] },
      { type: "text", text: "Deno 2 is out." },
    ], "end_turn"),
    { model: "gpt-4o" },
  );
  assert.deepEqual(completion.choices[0].message, { role: "assistant", content: "Deno 2 is out.", refusal: null });
  assert.equal(completion.choices[0].finish_reason, "stop");
});

Deno.test("toOpenAIResponse throws a 502 ProxyError, not a TypeError, for a 200 body that is not a Message", () => {
  const overloaded = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
  assert.throws(() => toOpenAIResponse(overloaded, { model: "gpt-4o" }), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.kind, error.code, error.message], [
      502,
      "overloaded",
      "overloaded",
      "Overloaded",
    ]);
    return true;
  });
  for (const body of [null, [], "text", { id: "msg_1" }, { content: "not blocks" }]) {
    assert.throws(() => toOpenAIResponse(body, { model: "gpt-4o" }), (error: unknown) => {
      assert.ok(error instanceof ProxyError, JSON.stringify(body));
      assert.equal(error.status, 502);
      assert.match(error.message, /not a Messages response/);
      return true;
    });
  }
});

Deno.test("toOpenAIResponse tolerates a Message without usage and with null blocks", () => {
  const completion = toOpenAIResponse({ id: "msg_1", content: [null, { type: "text", text: "Hi" }] }, { model: "m" });
  assert.equal(completion.choices[0].message.content, "Hi");
  assert.equal(completion.usage?.prompt_tokens, 0);
});

Deno.test("toOpenAIResponse answers a legacy functions request with function_call", () => {
  const resp = message([
    { type: "text", text: "Checking." },
    { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
  ], "tool_use");
  const completion = toOpenAIResponse(resp, { model: "gpt-4o", legacyFunctions: true });
  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, "function_call");
  assert.deepEqual(choice.message.function_call, { name: "get_weather", arguments: '{"city":"Paris"}' });
  assert.equal(choice.message.tool_calls, undefined);
  assert.equal(choice.message.content, "Checking.");
  const text = toOpenAIResponse(message([{ type: "text", text: "Hi" }], "end_turn"), {
    model: "m",
    legacyFunctions: true,
  });
  assert.equal(text.choices[0].finish_reason, "stop");
});
