import assert from "node:assert/strict";
import type { OpenAIChatResponse } from "../../../src/protocols/openai.ts";
import { ProxyError } from "../../../src/http/errors.ts";
import {
  finishReasonToStopReason,
  parseToolInput,
  toAnthropicResponse,
  toAnthropicUsage,
} from "../../../src/convert/anthropic_openai/response.ts";
import { SYNTHETIC_THINKING_SIGNATURE, UNNAMED_TOOL_NAME } from "../../../src/convert/anthropic_openai/synthetic.ts";

type Message = OpenAIChatResponse["choices"][number]["message"];

/** A llama.cpp-style completion with one choice. */
function completion(
  message: Partial<Message>,
  finish: string | null = "stop",
  extra: Partial<OpenAIChatResponse> = {},
): OpenAIChatResponse {
  return {
    id: "chatcmpl-Xy12",
    object: "chat.completion",
    created: 1760000000,
    model: "qwen3-coder-30b-a3b",
    choices: [{ index: 0, message: { role: "assistant", content: null, ...message }, finish_reason: finish }],
    usage: { prompt_tokens: 1200, completion_tokens: 35, total_tokens: 1235 },
    ...extra,
  };
}

const CTX = { model: "claude-sonnet-4-5" };

Deno.test("finishReasonToStopReason maps every finish reason", () => {
  const cases: Array<{ input: string | null | undefined; want: string }> = [
    { input: "stop", want: "end_turn" },
    { input: "length", want: "max_tokens" },
    { input: "tool_calls", want: "tool_use" },
    { input: "function_call", want: "tool_use" },
    { input: "content_filter", want: "refusal" },
    { input: "eos", want: "end_turn" },
    { input: "max_tokens", want: "max_tokens" },
    { input: "tool_use", want: "tool_use" },
    { input: "refusal", want: "refusal" },
    { input: "abort", want: "end_turn" },
    { input: "constructor", want: "end_turn" },
    { input: null, want: "end_turn" },
    { input: undefined, want: "end_turn" },
  ];
  for (const { input, want } of cases) assert.equal(finishReasonToStopReason(input), want, String(input));
});

Deno.test("toAnthropicResponse converts a text completion with the client's model and a msg_ id", () => {
  const message = toAnthropicResponse(completion({ content: "Hello there." }), CTX);
  assert.deepEqual(message, {
    id: "msg_Xy12",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [{ type: "text", text: "Hello there." }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 1200, output_tokens: 35, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
});

Deno.test("toAnthropicResponse puts reasoning first as a signed thinking block", () => {
  for (const field of ["reasoning_content", "reasoning"]) {
    const message = toAnthropicResponse(completion({ [field]: "The user greets me.", content: "Hi!" }), CTX);
    assert.deepEqual(message.content, [
      { type: "thinking", thinking: "The user greets me.", signature: SYNTHETIC_THINKING_SIGNATURE },
      { type: "text", text: "Hi!" },
    ], field);
  }
});

Deno.test("toAnthropicResponse splits <think> tags inside the content into a thinking block", () => {
  const message = toAnthropicResponse(completion({ content: "<think>\nShort greeting.\n</think>\n\nHi!" }), CTX);
  assert.deepEqual(message.content, [
    { type: "thinking", thinking: "Short greeting.\n", signature: SYNTHETIC_THINKING_SIGNATURE },
    { type: "text", text: "Hi!" },
  ]);
});

Deno.test("toAnthropicResponse converts tool calls in order and forces tool_use", () => {
  const message = toAnthropicResponse(
    completion({
      content: "",
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "Read", arguments: '{"file_path":"/a.ts"}' } },
        { id: "", type: "function", function: { name: "Bash", arguments: "" } },
        { id: "functions.Grep:2", type: "function", function: { name: "", arguments: "{oops" } },
      ],
    }, "stop"),
    CTX,
  );
  assert.equal(message.stop_reason, "tool_use");
  assert.equal(message.content.length, 3, "no empty text block before the tool calls");
  const [read, bash, broken] = message.content as Array<{ id: string; name: string; input: unknown }>;
  assert.deepEqual(read, { type: "tool_use", id: "call_1", name: "Read", input: { file_path: "/a.ts" } });
  assert.match(bash.id, /^toolu_[0-9a-f]{24}$/);
  assert.deepEqual(bash.input, {});
  assert.deepEqual(broken, {
    type: "tool_use",
    id: "toolu_sp64_ZnVuY3Rpb25zLkdyZXA6Mg",
    name: UNNAMED_TOOL_NAME,
    input: { _raw: "{oops" },
  });
});

Deno.test("parseToolInput keeps arguments that are not a JSON object raw", () => {
  const cases: Array<{ input: string | undefined; want: unknown }> = [
    { input: undefined, want: {} },
    { input: "  ", want: {} },
    { input: '{"a":[1,{"b":"\\""}]}', want: { a: [1, { b: '"' }] } },
    { input: "[1,2]", want: { _raw: "[1,2]" } },
    { input: "null", want: { _raw: "null" } },
    { input: '{"command":"ls', want: { _raw: '{"command":"ls' } },
  ];
  for (const { input, want } of cases) assert.deepEqual(parseToolInput(input), want, String(input));
});

Deno.test("toAnthropicUsage moves cached prompt tokens to cache_read_input_tokens", () => {
  const cases = [
    {
      name: "OpenAI cached_tokens",
      usage: { prompt_tokens: 1000, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 768 } },
      want: { input_tokens: 232, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 768 },
    },
    {
      name: "DeepSeek prompt_cache_hit_tokens",
      usage: { prompt_tokens: 500, completion_tokens: 5, prompt_cache_hit_tokens: 128, prompt_cache_miss_tokens: 372 },
      want: { input_tokens: 372, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 128 },
    },
    {
      name: "no details",
      usage: { prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: null },
      want: { input_tokens: 10, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  ];
  for (const { name, usage, want } of cases) assert.deepEqual(toAnthropicUsage(usage), want, name);
});

Deno.test("toAnthropicResponse reports the stop sequence that ended the output", () => {
  const ctx = { ...CTX, stopSequences: ["</answer>", "\n\nHuman:"] };
  const kept = toAnthropicResponse(completion({ content: "42</answer>" }), ctx);
  assert.deepEqual([kept.stop_reason, kept.stop_sequence], ["stop_sequence", "</answer>"]);
  const vllm = completion({ content: "42" });
  (vllm.choices[0] as Record<string, unknown>).stop_reason = "\n\nHuman:";
  const named = toAnthropicResponse(vllm, ctx);
  assert.deepEqual([named.stop_reason, named.stop_sequence], ["stop_sequence", "\n\nHuman:"]);
  const natural = toAnthropicResponse(completion({ content: "42" }), ctx);
  assert.deepEqual([natural.stop_reason, natural.stop_sequence], ["end_turn", null]);
  const truncated = toAnthropicResponse(completion({ content: "42</answer>" }, "length"), ctx);
  assert.deepEqual([truncated.stop_reason, truncated.stop_sequence], ["max_tokens", null]);
});

Deno.test("toAnthropicResponse ignores empty annotations", () => {
  const message = toAnthropicResponse(completion({ content: "See the docs.", annotations: [] }), CTX);
  assert.deepEqual(message.content, [{ type: "text", text: "See the docs." }]);
});

Deno.test("toAnthropicResponse turns an OpenAI refusal into refusal text", () => {
  const message = toAnthropicResponse(completion({ content: null, refusal: "I can't help with that." }), CTX);
  assert.deepEqual(message.content, [{ type: "text", text: "I can't help with that." }]);
  assert.equal(message.stop_reason, "refusal");
});

Deno.test("toAnthropicResponse maps length and content_filter finishes", () => {
  assert.equal(toAnthropicResponse(completion({ content: "Once upon" }, "length"), CTX).stop_reason, "max_tokens");
  assert.equal(toAnthropicResponse(completion({ content: "" }, "content_filter"), CTX).stop_reason, "refusal");
});

Deno.test("toAnthropicResponse rejects a completion without choices with a 502", () => {
  assert.throws(() => toAnthropicResponse(completion({}, "stop", { choices: [] }), CTX), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.equal(error.status, 502);
    assert.equal(error.message, "Upstream response has no choices");
    return true;
  });
});

/** Mistral's reasoning models: content as an array of a thinking part (itself text parts) and a text part. */
const MISTRAL_CONTENT = [
  { type: "thinking", thinking: [{ type: "text", text: "The user greets me." }] },
  { type: "text", text: "Hello!" },
];

Deno.test("toAnthropicResponse keeps text and thinking parts of an array content", () => {
  const message = toAnthropicResponse(completion({ content: MISTRAL_CONTENT as unknown as string }), CTX);
  assert.deepEqual(message.content, [
    { type: "thinking", thinking: "The user greets me.", signature: SYNTHETIC_THINKING_SIGNATURE },
    { type: "text", text: "Hello!" },
  ]);
});

Deno.test("toAnthropicResponse answers a 200 error body with a 502 carrying the upstream's message and type", () => {
  const cases = [
    { error: { message: "Model is loading", code: 503 }, kind: "overloaded" },
    { error: { message: "Context size has been exceeded.", type: "invalid_request_error" }, kind: "invalid_request" },
    { error: "Backend crashed", kind: "api_error" },
  ];
  for (const { error, kind } of cases) {
    assert.throws(() => toAnthropicResponse({ error } as unknown as OpenAIChatResponse, CTX), (thrown: unknown) => {
      assert.ok(thrown instanceof ProxyError);
      assert.equal(thrown.status, 502);
      assert.equal(thrown.kind, kind);
      assert.equal(thrown.message, typeof error === "string" ? error : error.message);
      return true;
    });
  }
});

Deno.test("toAnthropicResponse answers a body that is not a completion with a 502, not a TypeError", () => {
  for (const body of [null, [], "text", 42, { choices: [null] }, { choices: "none" }]) {
    assert.throws(() => toAnthropicResponse(body as unknown as OpenAIChatResponse, CTX), (thrown: unknown) => {
      assert.ok(thrown instanceof ProxyError, JSON.stringify(body));
      assert.equal(thrown.status, 502);
      return true;
    });
  }
});

Deno.test("toAnthropicResponse estimates usage when the upstream reports none", () => {
  const body = completion({ content: "Hello there, how can I help you today?" }, "stop", { usage: undefined });
  const message = toAnthropicResponse(body, { ...CTX, estimateInputTokens: () => 321 });
  assert.equal(message.usage.input_tokens, 321);
  assert.ok(message.usage.output_tokens > 0);
});

Deno.test("toAnthropicResponse removes a stop sequence the upstream left at the end of the text", () => {
  const ctx = { ...CTX, stopSequences: ["</answer>"] };
  const message = toAnthropicResponse(completion({ content: "42</answer>" }), ctx);
  assert.deepEqual(message.content, [{ type: "text", text: "42" }]);
  assert.deepEqual([message.stop_reason, message.stop_sequence], ["stop_sequence", "</answer>"]);
  const cut = toAnthropicResponse(completion({ content: "42</answer>" }, "length"), ctx);
  assert.deepEqual(cut.content, [{ type: "text", text: "42</answer>" }]);
});
