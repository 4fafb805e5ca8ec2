import assert from "node:assert/strict";
import { ProxyError } from "../../../src/http/errors.ts";
import { toAnthropicRequest } from "../../../src/convert/openai_anthropic/request.ts";
import { IGNORED_FIELDS, toChatRequest } from "../../../src/convert/responses_openai/request.ts";
import type { ResponsesRequest } from "../../../src/protocols/openai_responses_types.ts";

/** Asserts that converting `req` is refused with a 400 whose message matches `message`. */
function refuses(req: ResponsesRequest, message: RegExp): void {
  assert.throws(() => toChatRequest(req), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.equal(error.status, 400);
    assert.equal(error.kind, "invalid_request");
    assert.match(error.message, message);
    return true;
  });
}

const fnTool = { type: "function", name: "shell", description: "Run", parameters: { type: "object" }, strict: false };

Deno.test("toChatRequest maps a string input, instructions, limits, sampling and reasoning effort", () => {
  assert.deepEqual(
    toChatRequest({
      model: "qwen",
      instructions: "Be brief",
      input: "Hi",
      max_output_tokens: 100,
      temperature: 0.3,
      top_p: 0.9,
      reasoning: { effort: "high", summary: "auto" },
      user: "u1",
    }),
    {
      request: {
        model: "qwen",
        messages: [{ role: "system", content: "Be brief" }, { role: "user", content: "Hi" }],
        max_tokens: 100,
        temperature: 0.3,
        top_p: 0.9,
        user: "u1",
      },
      reasoningEffort: "high",
    },
  );
});

Deno.test("toChatRequest merges instructions with leading system and developer messages, later ones stay", () => {
  const { request } = toChatRequest({
    model: "m",
    instructions: "Base",
    input: [
      { role: "developer", content: "Dev rules" },
      { type: "message", role: "system", content: [{ type: "input_text", text: "Sys" }] },
      { role: "user", content: [{ type: "input_text", text: "A" }, { type: "input_text", text: "B" }] },
      { role: "developer", content: "Later" },
    ],
  });
  assert.deepEqual(request.messages, [
    { role: "system", content: "Base\n\nDev rules\n\nSys" },
    { role: "user", content: "A\n\nB" },
    { role: "system", content: "Later" },
  ]);
});

Deno.test("toChatRequest maps images and inline files, and refuses parts that need OpenAI's file store", () => {
  const { request } = toChatRequest({
    model: "m",
    input: [{
      role: "user",
      content: [
        { type: "input_text", text: "Look" },
        { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" },
        { type: "input_file", file_data: "data:application/pdf;base64,BBBB", filename: "a.pdf" },
      ],
    }],
  });
  assert.deepEqual(request.messages[0].content, [
    { type: "text", text: "Look" },
    { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
    { type: "file", file: { file_data: "data:application/pdf;base64,BBBB", filename: "a.pdf" } },
  ]);
  refuses(
    { model: "m", input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1", detail: "auto" }] }] },
    /input\[0\]\.content\[0\] has no image_url/,
  );
  refuses(
    { model: "m", input: [{ role: "user", content: [{ type: "input_audio", data: "x" }] }] },
    /input\[0\]\.content\[0\] has type "input_audio"/,
  );
});

Deno.test("toChatRequest folds an assistant turn's reasoning, text and parallel calls into one message", () => {
  const { request } = toChatRequest({
    model: "m",
    input: [
      { role: "user", content: "List and count" },
      { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Sum" }], encrypted_content: "opaque" },
      { type: "reasoning", id: "rs_2", summary: [], content: [{ type: "reasoning_text", text: "Raw" }] },
      {
        type: "message",
        role: "assistant",
        id: "msg_1",
        status: "completed",
        content: [{ type: "output_text", text: "Sure.", annotations: [] }],
      },
      { type: "function_call", call_id: "call_a", name: "ls", arguments: "{}" },
      { type: "function_call", call_id: "call_b", name: "wc", arguments: '{"f":"x"}' },
      { type: "function_call_output", call_id: "call_a", output: "a.txt" },
      { type: "function_call_output", call_id: "call_b", output: [{ type: "input_text", text: "3" }] },
      { type: "reasoning", id: "rs_3", summary: [{ type: "summary_text", text: "Done" }] },
    ],
  });
  assert.deepEqual(request.messages, [
    { role: "user", content: "List and count" },
    {
      role: "assistant",
      content: "Sure.",
      reasoning_content: "Sum\n\nRaw",
      tool_calls: [
        { id: "call_a", type: "function", function: { name: "ls", arguments: "{}" } },
        { id: "call_b", type: "function", function: { name: "wc", arguments: '{"f":"x"}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_a", content: "a.txt" },
    { role: "tool", tool_call_id: "call_b", content: "3" },
    { role: "assistant", content: "", reasoning_content: "Done" },
  ]);
});

Deno.test("toChatRequest accepts a Codex request: built-in tools dropped, service fields ignored, never refused", () => {
  const { request, reasoningEffort } = toChatRequest({
    model: "gpt-5-codex",
    instructions: "You are Codex",
    input: [
      { type: "message", role: "user", content: [{ type: "input_text", text: "fix the bug" }] },
      { type: "local_shell_call", call_id: "c0", action: { type: "exec", command: ["ls"] }, status: "completed" },
      { type: "custom_tool_call_output", call_id: "c1", output: "ok" },
    ],
    tools: [
      fnTool,
      { type: "web_search" },
      { type: "namespace", name: "mcp__files", tools: [] },
      { type: "custom", name: "apply_patch", format: { type: "grammar" } },
      { type: "local_shell" },
      { type: "mcp", server_label: "docs" },
      { type: "file_search", vector_store_ids: [] },
      { type: "computer_use_preview", display_width: 1, display_height: 1, environment: "linux" },
      { type: "code_interpreter", container: "auto" },
      { type: "image_generation" },
    ],
    tool_choice: "auto",
    parallel_tool_calls: false,
    reasoning: { effort: "medium", summary: "auto" },
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: "abc",
    client_metadata: { session: "1" },
    text: { verbosity: "low" },
  });
  assert.deepEqual(request, {
    model: "gpt-5-codex",
    messages: [{ role: "system", content: "You are Codex" }, { role: "user", content: "fix the bug" }],
    tools: [{
      type: "function",
      function: { name: "shell", description: "Run", parameters: { type: "object" }, strict: false },
    }],
    tool_choice: "auto",
    parallel_tool_calls: false,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(reasoningEffort, "medium");
});

Deno.test("toChatRequest leaves every ignored field out", () => {
  for (const field of IGNORED_FIELDS) {
    const { request } = toChatRequest({ model: "m", input: "x", [field]: { any: "value" } });
    assert.deepEqual(request, { model: "m", messages: [{ role: "user", content: "x" }] }, field);
  }
});

Deno.test("toChatRequest maps tool_choice, and refuses only a choice that forces a dropped tool", () => {
  const tools = [fnTool, { type: "function", name: "read", parameters: null }, { type: "web_search" }];
  assert.deepEqual(
    toChatRequest({ model: "m", input: "x", tools, tool_choice: { type: "function", name: "read" } })
      .request.tool_choice,
    { type: "function", function: { name: "read" } },
  );
  const allowed = toChatRequest({
    model: "m",
    input: "x",
    tools,
    tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "read" }] },
  }).request;
  assert.deepEqual(allowed.tools, [{ type: "function", function: { name: "read" } }]);
  assert.equal(allowed.tool_choice, "required");
  refuses({ model: "m", input: "x", tools, tool_choice: { type: "web_search_preview" } }, /"web_search_preview"/);
  refuses({ model: "m", input: "x", tools, tool_choice: { type: "custom", name: "apply_patch" } }, /"apply_patch"/);
  refuses({ model: "m", input: "x", tools, tool_choice: { type: "mcp", server_label: "docs" } }, /"docs"/);
  refuses({ model: "m", input: "x", tools: [{ type: "web_search" }], tool_choice: "required" }, /"web_search"/);
});

Deno.test("toChatRequest leaves tool fields out when no function tool remains", () => {
  const { request } = toChatRequest({
    model: "m",
    input: "x",
    tools: [{ type: "web_search" }],
    tool_choice: "auto",
    parallel_tool_calls: true,
  });
  assert.deepEqual(Object.keys(request), ["model", "messages"]);
});

Deno.test("toChatRequest maps text.format to response_format", () => {
  const schema = { type: "object", properties: { a: { type: "string" } } };
  assert.deepEqual(
    toChatRequest({
      model: "m",
      input: "x",
      text: { format: { type: "json_schema", name: "out", schema, strict: true } },
    })
      .request.response_format,
    { type: "json_schema", json_schema: { name: "out", schema, strict: true } },
  );
  assert.deepEqual(
    toChatRequest({ model: "m", input: "x", text: { format: { type: "json_object" } } }).request.response_format,
    { type: "json_object" },
  );
  assert.equal(
    toChatRequest({ model: "m", input: "x", text: { format: { type: "text" } } }).request.response_format,
    undefined,
  );
});

Deno.test("toChatRequest refuses what needs stored state, with a clear reason", () => {
  refuses({ model: "m", input: "x", previous_response_id: "resp_1" }, /previous_response_id .*keeps no responses/);
  refuses({ model: "m", input: "x", conversation: "conv_1" }, /conversation/);
  refuses({ model: "m", input: [{ type: "item_reference", id: "msg_1" }] }, /item_reference/);
  refuses({ model: "m", input: 42 as unknown as string }, /input must be/);
});

Deno.test("toChatRequest's result is what the chat → Anthropic converter takes, effort becoming thinking", () => {
  const { request, reasoningEffort } = toChatRequest({
    model: "claude",
    instructions: "Sys",
    input: [{ role: "user", content: "Hi" }],
    tools: [fnTool, { type: "web_search" }],
    max_output_tokens: 1000,
    reasoning: { effort: "low" },
  });
  const anthropic = toAnthropicRequest({ ...request, reasoning_effort: reasoningEffort }, { defaultMaxTokens: 4096 });
  assert.match(JSON.stringify(anthropic.system), /"Sys"/);
  assert.deepEqual(anthropic.tools?.map((tool) => tool.name), ["shell"]);
  assert.deepEqual(anthropic.thinking, { type: "enabled", budget_tokens: 2048 });
  assert.deepEqual(anthropic.messages, [{ role: "user", content: [{ type: "text", text: "Hi" }] }]);
});
