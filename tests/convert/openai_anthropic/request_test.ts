import assert from "node:assert/strict";
import { ProxyError } from "../../../src/http/errors.ts";
import {
  JSON_OBJECT_INSTRUCTION,
  thinkingBudget,
  toAnthropicRequest,
  toAnthropicToolChoice,
} from "../../../src/convert/openai_anthropic/request.ts";
import type { OpenAIChatRequest, OpenAIMessage, OpenAITool } from "../../../src/protocols/openai.ts";

const OPTIONS = { defaultMaxTokens: 4096 };

const TOOLS: OpenAITool[] = [
  {
    type: "function",
    function: {
      name: "read_file",
      description: "Read a file from the workspace",
      parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    },
  },
  { type: "function", function: { name: "run_tests" } },
];

function convert(fields: Partial<OpenAIChatRequest>) {
  return toAnthropicRequest(
    { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], ...fields },
    OPTIONS,
  );
}

/** Asserts that converting `fields` throws a 400 whose message matches `pattern`. */
function assertInvalid(fields: Partial<OpenAIChatRequest>, pattern: RegExp) {
  assert.throws(() => convert(fields), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.equal(error.status, 400);
    assert.equal(error.kind, "invalid_request");
    assert.match(error.message, pattern);
    return true;
  });
}

function call(id: string, name: string, args: string) {
  return { id, type: "function" as const, function: { name, arguments: args } };
}

Deno.test("toAnthropicRequest converts a multi-turn agent conversation with parallel tool calls", () => {
  const body = toAnthropicRequest({
    model: "claude-sonnet-4-5",
    messages: [
      { role: "system", content: "You are a coding agent." },
      { role: "user", content: "Fix the failing test in src/math.ts" },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          call("call_read_1", "read_file", '{"path":"src/math.ts"}'),
          call("call_read_2", "read_file", '{"path":"tests/math_test.ts"}'),
        ],
      },
      { role: "tool", tool_call_id: "call_read_1", content: "export const add = (a, b) => a - b;" },
      { role: "tool", tool_call_id: "call_read_2", content: [{ type: "text", text: "assert.equal(add(1, 2), 3);" }] },
      {
        role: "assistant",
        content: "The sign is wrong.",
        tool_calls: [call("call_edit", "edit_file", '{"path":"src/math.ts","old":"a - b","new":"a + b"}')],
      },
      { role: "tool", tool_call_id: "call_edit", content: "ok" },
      { role: "user", content: "Also run the tests" },
    ],
    tools: TOOLS,
    tool_choice: "auto",
    stream: true,
    stream_options: { include_usage: true },
    max_completion_tokens: 2048,
    temperature: 0.2,
    frequency_penalty: 0.5,
    presence_penalty: 0.1,
    logit_bias: { "50256": -100 },
    seed: 7,
    logprobs: false,
    n: 1,
    metadata: { run: "ci" },
    store: false,
  }, OPTIONS);
  assert.deepEqual(body, {
    model: "claude-sonnet-4-5",
    system: [{ type: "text", text: "You are a coding agent." }],
    messages: [
      { role: "user", content: [{ type: "text", text: "Fix the failing test in src/math.ts" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_read_1", name: "read_file", input: { path: "src/math.ts" } },
          { type: "tool_use", id: "call_read_2", name: "read_file", input: { path: "tests/math_test.ts" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_read_1", content: "export const add = (a, b) => a - b;" },
          { type: "tool_result", tool_use_id: "call_read_2", content: "assert.equal(add(1, 2), 3);" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "The sign is wrong." },
          {
            type: "tool_use",
            id: "call_edit",
            name: "edit_file",
            input: { path: "src/math.ts", old: "a - b", new: "a + b" },
          },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_edit", content: "ok" },
          { type: "text", text: "Also run the tests" },
        ],
      },
    ],
    max_tokens: 2048,
    stream: true,
    temperature: 0.2,
    tools: [
      {
        name: "read_file",
        description: "Read a file from the workspace",
        input_schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
      },
      { name: "run_tests", input_schema: { type: "object", properties: {} } },
    ],
    tool_choice: { type: "auto" },
  });
});

Deno.test("toAnthropicRequest sends system and developer messages from anywhere to system, in order", () => {
  const body = convert({
    messages: [
      { role: "system", content: "Rule one." },
      { role: "developer", content: [{ type: "text", text: "Rule two." }, { type: "text", text: "Rule three." }] },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "system", content: "Rule four, added mid-conversation." },
      { role: "user", content: "Bye" },
    ],
  });
  assert.deepEqual(body.system, [
    { type: "text", text: "Rule one." },
    { type: "text", text: "Rule two." },
    { type: "text", text: "Rule three." },
    { type: "text", text: "Rule four, added mid-conversation." },
  ]);
  assert.deepEqual(body.messages.map((message) => message.role), ["user", "assistant", "user"]);
});

Deno.test("toAnthropicRequest merges consecutive same-role messages and drops blank ones", () => {
  const body = convert({
    messages: [
      { role: "user", content: "First" },
      { role: "user", content: "   " },
      { role: "user", content: [{ type: "text", text: "" }, { type: "text", text: "Second" }] },
      { role: "assistant", content: "" },
      { role: "assistant", content: "Answer" },
      { role: "assistant", content: null },
      { role: "user", content: "Third" },
    ],
  });
  assert.deepEqual(body.messages, [
    { role: "user", content: [{ type: "text", text: "First" }, { type: "text", text: "Second" }] },
    { role: "assistant", content: [{ type: "text", text: "Answer" }] },
    { role: "user", content: [{ type: "text", text: "Third" }] },
  ]);
});

Deno.test("toAnthropicRequest puts tool results before user text in the same turn, keeping their order", () => {
  const body = convert({
    messages: [
      { role: "user", content: "Go" },
      { role: "assistant", content: null, tool_calls: [call("c1", "a", "{}"), call("c2", "b", "")] },
      { role: "user", content: "Hurry up" },
      { role: "tool", tool_call_id: "c1", content: "one" },
      { role: "tool", tool_call_id: "c2", content: "" },
    ],
  });
  assert.deepEqual(body.messages.slice(1), [
    {
      role: "assistant",
      content: [
        { type: "tool_use", id: "c1", name: "a", input: {} },
        { type: "tool_use", id: "c2", name: "b", input: {} },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "c1", content: "one" },
        { type: "tool_result", tool_use_id: "c2" },
        { type: "text", text: "Hurry up" },
      ],
    },
  ]);
});

Deno.test("toAnthropicRequest converts images by data URL and by http(s) URL without fetching", () => {
  const body = convert({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What differs?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "high" } },
        { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
      ],
    }],
  });
  assert.deepEqual(body.messages[0].content, [
    { type: "text", text: "What differs?" },
    { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
    { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
  ]);
});

Deno.test("toAnthropicRequest keeps images inside tool results", () => {
  const body = convert({
    messages: [
      { role: "user", content: "Screenshot please" },
      { role: "assistant", tool_calls: [call("c1", "screenshot", "{}")] },
      {
        role: "tool",
        tool_call_id: "c1",
        content: [
          { type: "text", text: "Captured" },
          { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
        ],
      },
    ],
  });
  assert.deepEqual(body.messages[2].content, [{
    type: "tool_result",
    tool_use_id: "c1",
    content: [
      { type: "text", text: "Captured" },
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
    ],
  }]);
});

Deno.test("toAnthropicRequest converts a PDF file part and keeps cache_control markers", () => {
  const body = convert({
    messages: [{
      role: "user",
      content: [
        { type: "file", file: { filename: "spec.pdf", file_data: "data:application/pdf;base64,JVBERi0xLjQ=" } },
        { type: "text", text: "Summarise", cache_control: { type: "ephemeral" } },
      ],
    }],
  });
  assert.deepEqual(body.messages[0].content, [
    {
      type: "document",
      source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQ=" },
      title: "spec.pdf",
    },
    { type: "text", text: "Summarise", cache_control: { type: "ephemeral" } },
  ]);
});

Deno.test("toAnthropicRequest rejects content it cannot convert with a 400 naming the place", () => {
  const user = (content: OpenAIMessage["content"]) => ({ messages: [{ role: "user" as const, content }] });
  const cases: Array<{ fields: Partial<OpenAIChatRequest>; pattern: RegExp }> = [
    {
      fields: user([{ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } }]),
      pattern: /messages\[0\]\.content\[0\] has type "input_audio"/,
    },
    { fields: user([{ type: "file", file: { file_id: "file-abc" } }]), pattern: /file ids cannot be resolved/ },
    {
      fields: user([{ type: "file", file: { file_data: "data:text/csv;base64,YSxi" } }]),
      pattern: /must be a PDF: received "text\/csv"/,
    },
    {
      fields: user([{ type: "image_url", image_url: { url: "file:///etc/passwd" } }]),
      pattern: /must be an http\(s\) URL or a base64 data URL/,
    },
    {
      fields: user([{ type: "image_url", image_url: { url: "data:image/svg+xml,<svg/>" } }]),
      pattern: /must be a data URL of the form/,
    },
    {
      fields: {
        messages: [{ role: "system", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }],
      },
      pattern: /which a system message to an Anthropic upstream cannot hold/,
    },
    { fields: { messages: [{ role: "critic" as "tool", content: "x" }] }, pattern: /messages\[0\]\.role must be/ },
  ];
  for (const { fields, pattern } of cases) assertInvalid(fields, pattern);
});

Deno.test("toAnthropicRequest rejects tool-call arguments that are not a JSON object", () => {
  const withArguments = (args: string) => ({
    messages: [
      { role: "user" as const, content: "Go" },
      { role: "assistant" as const, tool_calls: [call("call_1", "bash", args)] },
    ],
  });
  assertInvalid(
    withArguments('{"command": "ls'),
    /messages\[1\]\.tool_calls\[0\]\.function\.arguments is not valid JSON/,
  );
  assertInvalid(withArguments("[1, 2]"), /messages\[1\]\.tool_calls\[0\]\.function\.arguments must be a JSON object/);
});

Deno.test("toAnthropicRequest rejects requests without usable messages, with n > 1 or without a tool result id", () => {
  assertInvalid({ messages: [] }, /messages must be a non-empty array/);
  assertInvalid({ messages: [{ role: "system", content: "Only rules" }] }, /at least one non-empty user or assistant/);
  assertInvalid({ n: 2 }, /n must be 1/);
  assertInvalid({ messages: [{ role: "tool", content: "orphan" }] }, /messages\[0\]\.tool_call_id must be/);
  assert.equal(convert({ n: 1 }).messages.length, 1);
});

Deno.test("toAnthropicToolChoice maps every tool_choice form and parallel_tool_calls", () => {
  const cases = [
    { choice: undefined, parallel: undefined, want: undefined },
    { choice: undefined, parallel: false, want: { type: "auto", disable_parallel_tool_use: true } },
    { choice: "auto", parallel: undefined, want: { type: "auto" } },
    { choice: "auto", parallel: true, want: { type: "auto" } },
    { choice: "required", parallel: undefined, want: { type: "any" } },
    { choice: "required", parallel: false, want: { type: "any", disable_parallel_tool_use: true } },
    { choice: "none", parallel: false, want: { type: "none" } },
    {
      choice: { type: "function", function: { name: "read_file" } },
      parallel: false,
      want: { type: "tool", name: "read_file", disable_parallel_tool_use: true },
    },
  ] as const;
  for (const { choice, parallel, want } of cases) {
    assert.deepEqual(toAnthropicToolChoice(choice, parallel), want, `${JSON.stringify(choice)} ${parallel}`);
  }
  assert.throws(
    () => toAnthropicToolChoice({ type: "allowed_tools" } as never, undefined),
    /tool_choice must be "auto", "none", "required"/,
  );
});

Deno.test("toAnthropicRequest sends tool_choice only together with tools", () => {
  const withTools = convert({ tools: TOOLS, tool_choice: "required", parallel_tool_calls: false });
  assert.deepEqual(withTools.tool_choice, { type: "any", disable_parallel_tool_use: true });
  const withoutTools = convert({ tools: [], tool_choice: "required", parallel_tool_calls: false });
  assert.equal("tools" in withoutTools, false);
  assert.equal("tool_choice" in withoutTools, false);
});

Deno.test("toAnthropicRequest forwards strict tools and rejects tools that are not functions", () => {
  const strict: OpenAITool = {
    type: "function",
    function: {
      name: "set_flag",
      parameters: { type: "object", properties: { on: { type: "boolean" } } },
      strict: true,
    },
  };
  assert.deepEqual(convert({ tools: [strict] }).tools, [{
    name: "set_flag",
    input_schema: { type: "object", properties: { on: { type: "boolean" } } },
    strict: true,
  }]);
  assertInvalid(
    { tools: [{ type: "custom", custom: { name: "grammar" } } as never] },
    /tools\[0\] must be a function tool/,
  );
});

Deno.test("toAnthropicRequest maps stop to stop_sequences", () => {
  const cases = [
    { stop: "\n\nHuman:", want: ["\n\nHuman:"] },
    { stop: ["END", "", "STOP"], want: ["END", "STOP"] },
    { stop: [], want: undefined },
    { stop: undefined, want: undefined },
  ];
  for (const { stop, want } of cases) assert.deepEqual(convert({ stop }).stop_sequences, want, JSON.stringify(stop));
});

Deno.test("toAnthropicRequest picks max_tokens from max_completion_tokens, max_tokens, then the default", () => {
  const cases = [
    { fields: { max_completion_tokens: 100, max_tokens: 200 }, want: 100 },
    { fields: { max_tokens: 200 }, want: 200 },
    { fields: {}, want: 4096 },
  ];
  for (const { fields, want } of cases) assert.equal(convert(fields).max_tokens, want, JSON.stringify(fields));
});

Deno.test("toAnthropicRequest clamps temperature to 1 and keeps top_p and top_k", () => {
  const cases = [
    { temperature: 0, want: 0 },
    { temperature: 0.7, want: 0.7 },
    { temperature: 1, want: 1 },
    { temperature: 1.6, want: 1 },
    { temperature: 2, want: 1 },
  ];
  for (const { temperature, want } of cases) assert.equal(convert({ temperature }).temperature, want);
  const body = convert({ top_p: 0.9, top_k: 40 });
  assert.equal(body.top_p, 0.9);
  assert.equal(body.top_k, 40);
});

Deno.test("toAnthropicRequest forwards only keys Anthropic knows", () => {
  const body = convert({
    user: "user-42",
    stream: false,
    stream_options: { include_usage: true },
    frequency_penalty: 1,
    presence_penalty: 1,
    logit_bias: {},
    seed: 1,
    logprobs: true,
    top_logprobs: 2,
    service_tier: "auto",
    modalities: ["text"],
    prompt_cache_key: "k",
    verbosity: "low",
  });
  assert.deepEqual(Object.keys(body).sort(), ["max_tokens", "messages", "metadata", "model", "stream"]);
  assert.deepEqual(body.metadata, { user_id: "user-42" });
  assert.deepEqual(convert({ safety_identifier: "hash-9" }).metadata, { user_id: "hash-9" });
});

Deno.test("toAnthropicRequest maps response_format to structured output or a system instruction", () => {
  const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
  const structured = convert({
    response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } },
  });
  assert.deepEqual(structured.output_config, { format: { type: "json_schema", schema } });
  assert.equal(structured.system, undefined);
  const jsonObject = convert({
    messages: [{ role: "system", content: "Be terse." }, { role: "user", content: "List three colours" }],
    response_format: { type: "json_object" },
  });
  assert.deepEqual(jsonObject.system, [
    { type: "text", text: "Be terse." },
    { type: "text", text: JSON_OBJECT_INSTRUCTION },
  ]);
  assert.equal(convert({ response_format: { type: "text" } }).system, undefined);
  assertInvalid({ response_format: { type: "json_schema", json_schema: { name: "x" } } }, /response_format must be/);
});

Deno.test("thinkingBudget maps each reasoning effort to a budget", () => {
  const cases = [
    { effort: undefined, want: undefined },
    { effort: null, want: undefined },
    { effort: "none", want: undefined },
    { effort: "minimal", want: 1024 },
    { effort: "low", want: 2048 },
    { effort: "medium", want: 8192 },
    { effort: "high", want: 16384 },
    { effort: "xhigh", want: 24576 },
    { effort: "max", want: 32768 },
  ];
  for (const { effort, want } of cases) assert.equal(thinkingBudget(effort), want, String(effort));
  assert.throws(() => thinkingBudget("extreme"), /reasoning_effort must be one of "none", "minimal"/);
  assert.throws(() => thinkingBudget("toString"), ProxyError);
});

Deno.test("toAnthropicRequest enables thinking for reasoning_effort and drops conflicting sampling", () => {
  const body = convert({
    reasoning_effort: "medium",
    max_completion_tokens: 1000,
    temperature: 0.3,
    top_k: 20,
    top_p: 0.8,
  });
  assert.deepEqual(body.thinking, { type: "enabled", budget_tokens: 8192 });
  assert.equal(body.max_tokens, 8192 + 1000);
  assert.equal("temperature" in body, false);
  assert.equal("top_k" in body, false);
  assert.equal("top_p" in body, false);
});

Deno.test("toAnthropicRequest keeps compatible sampling and a large max_tokens with thinking", () => {
  const body = convert({ reasoning_effort: "low", max_tokens: 32000, temperature: 1, top_p: 0.97 });
  assert.deepEqual(body.thinking, { type: "enabled", budget_tokens: 2048 });
  assert.equal(body.max_tokens, 32000);
  assert.equal(body.temperature, 1);
  assert.equal(body.top_p, 0.97);
});

Deno.test("toAnthropicRequest leaves thinking off where Anthropic would reject it", () => {
  const toolLoop: OpenAIMessage[] = [
    { role: "user", content: "List files" },
    { role: "assistant", content: null, reasoning_content: "I should call ls.", tool_calls: [call("c1", "ls", "{}")] },
    { role: "tool", tool_call_id: "c1", content: "a.ts b.ts" },
  ];
  const cases: Array<{ name: string; fields: Partial<OpenAIChatRequest> }> = [
    { name: "forced tool", fields: { tools: TOOLS, tool_choice: "required" } },
    {
      name: "named tool",
      fields: { tools: TOOLS, tool_choice: { type: "function", function: { name: "run_tests" } } },
    },
    {
      name: "prefill",
      fields: { messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Well," }] },
    },
    { name: "tool loop without signed thinking", fields: { messages: toolLoop } },
  ];
  for (const { name, fields } of cases) {
    const body = convert({ ...fields, reasoning_effort: "high", temperature: 0.2 });
    assert.equal(body.thinking, undefined, name);
    assert.equal(body.temperature, 0.2, name);
  }
});

Deno.test("toAnthropicRequest returns signed thinking blocks first and drops unsigned reasoning_content", () => {
  const body = convert({
    reasoning_effort: "high",
    messages: [
      { role: "user", content: "List files" },
      {
        role: "assistant",
        content: null,
        reasoning_content: "I should call ls.",
        thinking_blocks: [
          { type: "thinking", thinking: "I should call ls.", signature: "EqQBCgIYAhIM" },
          { type: "thinking", thinking: "forged", signature: "" },
          { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
        ],
        tool_calls: [call("c1", "ls", "{}")],
      },
      { role: "tool", tool_call_id: "c1", content: "a.ts b.ts" },
    ],
  });
  assert.deepEqual(body.thinking, { type: "enabled", budget_tokens: 16384 });
  assert.deepEqual(body.messages[1].content, [
    { type: "thinking", thinking: "I should call ls.", signature: "EqQBCgIYAhIM" },
    { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
    { type: "tool_use", id: "c1", name: "ls", input: {} },
  ]);
  const unsigned = convert({
    messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello", reasoning_content: "Greet." }, {
      role: "user",
      content: "Again",
    }],
  });
  assert.deepEqual(unsigned.messages[1].content, [{ type: "text", text: "Hello" }]);
});

Deno.test("toAnthropicRequest keeps the model and the stream flag", () => {
  const body = toAnthropicRequest(
    { model: "claude-opus-4-1", messages: [{ role: "user", content: "Hi" }], stream: true },
    OPTIONS,
  );
  assert.equal(body.model, "claude-opus-4-1");
  assert.equal(body.stream, true);
});

Deno.test("toAnthropicRequest converts legacy functions and function_call to tools and a single-call tool_choice", () => {
  const functions = [
    {
      name: "get_weather",
      description: "Weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  ];
  const auto = convert({ functions, function_call: "auto" });
  assert.deepEqual(auto.tools, [{
    name: "get_weather",
    description: "Weather",
    input_schema: { type: "object", properties: { city: { type: "string" } } },
  }]);
  assert.deepEqual(auto.tool_choice, { type: "auto", disable_parallel_tool_use: true });
  assert.deepEqual(convert({ functions }).tool_choice, { type: "auto", disable_parallel_tool_use: true });
  assert.deepEqual(convert({ functions, function_call: "none" }).tool_choice, { type: "none" });
  assert.deepEqual(convert({ functions, function_call: { name: "get_weather" } }).tool_choice, {
    type: "tool",
    name: "get_weather",
    disable_parallel_tool_use: true,
  });
  assertInvalid({ functions, function_call: "sometimes" }, /function_call must be "auto", "none" or/);
  assert.deepEqual(convert({ functions, tools: TOOLS }).tools?.map((tool) => tool.name), ["read_file", "run_tests"]);
});

Deno.test("toAnthropicRequest turns an assistant function_call and the function message into tool_use and tool_result", () => {
  const out = convert({
    functions: [{ name: "get_weather", parameters: { type: "object" } }],
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, function_call: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { role: "function", name: "get_weather", content: "18°C, sunny" } as unknown as OpenAIMessage,
    ],
  });
  assert.deepEqual(out.messages, [
    { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
    {
      role: "assistant",
      content: [{ type: "tool_use", id: "call_function_1", name: "get_weather", input: { city: "Paris" } }],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "call_function_1", content: "18°C, sunny" }] },
  ]);
  assertInvalid({
    messages: [
      { role: "user", content: "Hi" },
      { role: "function", name: "f", content: "x" } as unknown as OpenAIMessage,
    ],
  }, /role "function" but follows no assistant message with a function_call/);
});
