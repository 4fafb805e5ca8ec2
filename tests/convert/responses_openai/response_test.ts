import assert from "node:assert/strict";
import { ProxyError } from "../../../src/http/errors.ts";
import { toResponsesObject } from "../../../src/convert/responses_openai/response.ts";

const ctx = { request: { model: "qwen-local", input: "Hi", instructions: "Be brief", max_output_tokens: 50 } };

/** A chat completion with one choice holding `message`. */
function completion(message: Record<string, unknown>, finishReason: string | null, usage?: Record<string, unknown>) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1700000000,
    model: "qwen",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finishReason }],
    ...(usage === undefined ? {} : { usage }),
  };
}

Deno.test("toResponsesObject maps text, reasoning, usage and the echoed request", () => {
  const response = toResponsesObject(
    completion({ content: "Hello", reasoning_content: "Greet back" }, "stop", {
      prompt_tokens: 10,
      completion_tokens: 6,
      total_tokens: 16,
      prompt_tokens_details: { cached_tokens: 2 },
      completion_tokens_details: { reasoning_tokens: 4 },
    }),
    ctx,
  );
  assert.match(response.id, /^resp_[0-9a-f]{32}$/);
  assert.equal(response.object, "response");
  assert.equal(response.status, "completed");
  assert.equal(response.model, "qwen-local");
  assert.equal(response.created_at, 1700000000);
  assert.equal(response.instructions, "Be brief");
  assert.equal(response.max_output_tokens, 50);
  assert.equal(response.incomplete_details, null);
  assert.deepEqual(response.output.map((item) => item.type), ["reasoning", "message"]);
  const [reasoning, message] = response.output;
  assert.deepEqual({ ...reasoning, id: "rs" }, {
    type: "reasoning",
    id: "rs",
    summary: [],
    content: [{ type: "reasoning_text", text: "Greet back" }],
    status: "completed",
  });
  assert.deepEqual({ ...message, id: "msg" }, {
    type: "message",
    id: "msg",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text: "Hello", annotations: [] }],
  });
  assert.deepEqual(response.usage, {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 2 },
    output_tokens: 6,
    output_tokens_details: { reasoning_tokens: 4 },
    total_tokens: 16,
  });
});

Deno.test("toResponsesObject maps tool calls to function_call items with call_id, and no empty message", () => {
  const response = toResponsesObject(
    completion({
      content: null,
      tool_calls: [
        { id: "call_a", type: "function", function: { name: "ls", arguments: '{"dir":"."}' } },
        { id: "", type: "function", function: { name: "now", arguments: "" } },
      ],
    }, "tool_calls"),
    ctx,
  );
  assert.deepEqual(response.output.map((item) => item.type), ["function_call", "function_call"]);
  const [first, second] = response.output as Array<Record<string, unknown>>;
  assert.equal(first.call_id, "call_a");
  assert.equal(first.name, "ls");
  assert.equal(first.arguments, '{"dir":"."}');
  assert.match(String(first.id), /^fc_/);
  assert.match(String(second.call_id), /^call_/);
  assert.equal(second.arguments, "{}");
  assert.notEqual(first.id, second.id);
  assert.equal(response.usage, undefined);
});

Deno.test("toResponsesObject sets incomplete_details for length and content_filter finishes", () => {
  const cut = toResponsesObject(completion({ content: "Lo" }, "length"), ctx);
  assert.equal(cut.status, "incomplete");
  assert.deepEqual(cut.incomplete_details, { reason: "max_output_tokens" });
  const filtered = toResponsesObject(completion({ content: "" }, "content_filter"), ctx);
  assert.deepEqual(filtered.incomplete_details, { reason: "content_filter" });
});

Deno.test("toResponsesObject keeps a refusal and reads array content with thinking parts", () => {
  const refused = toResponsesObject(completion({ content: null, refusal: "No." }, "stop"), ctx);
  assert.deepEqual((refused.output[0] as { content: unknown }).content, [
    { type: "output_text", text: "", annotations: [] },
    { type: "refusal", refusal: "No." },
  ]);
  const mistral = toResponsesObject(
    completion({ content: [{ type: "thinking", thinking: "Plan" }, { type: "text", text: "Hi" }] }, "stop"),
    ctx,
  );
  assert.deepEqual(mistral.output.map((item) => item.type), ["reasoning", "message"]);
});

Deno.test("toResponsesObject answers 502 for a body that is not a chat completion", () => {
  for (const body of [{ error: { message: "Model not loaded" } }, { choices: [] }, "text"]) {
    assert.throws(() => toResponsesObject(body, ctx), (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.equal(error.status, 502);
      return true;
    });
  }
});
