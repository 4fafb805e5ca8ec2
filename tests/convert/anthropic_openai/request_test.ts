import assert from "node:assert/strict";
import type { AnthropicMessage, AnthropicRequest, AnthropicTool } from "../../../src/protocols/anthropic.ts";
import type { OpenAIMessage } from "../../../src/protocols/openai.ts";
import { ProxyError } from "../../../src/http/errors.ts";
import { type ReasoningStyle, toOpenAIRequest } from "../../../src/convert/anthropic_openai/request.ts";
import { GRAMMAR_UNSAFE_SCHEMA_KEYWORDS } from "../../../src/convert/anthropic_openai/schema.ts";

import claudeCodeToolsJson from "../../testdata/convert/claude_code_tools.json" with { type: "json" };
import claudeCodeRequestJson from "../../testdata/convert/claude_code_request.json" with { type: "json" };

/** A fresh copy of Claude Code's tool list, so no test can change another's. */
function claudeCodeTools(): AnthropicTool[] {
  return structuredClone(claudeCodeToolsJson) as AnthropicTool[];
}

/** A fresh copy of a Claude Code request with its tools. */
function claudeCodeRequest(): AnthropicRequest {
  return { ...structuredClone(claudeCodeRequestJson) as AnthropicRequest, tools: claudeCodeTools() };
}

function request(messages: AnthropicMessage[], extra: Partial<AnthropicRequest> = {}): AnthropicRequest {
  return { model: "claude-sonnet-4-5", max_tokens: 1024, messages, ...extra };
}

function convertMessages(messages: AnthropicMessage[]): OpenAIMessage[] {
  return toOpenAIRequest(request(messages), { reasoning: "none" }).messages;
}

function assertRejected(run: () => unknown, messagePart: RegExp, name = ""): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ProxyError, name);
    assert.equal(error.status, 400);
    assert.equal(error.kind, "invalid_request");
    assert.match(error.message, messagePart, name);
    return true;
  });
}

Deno.test("toOpenAIRequest leaves no cache_control anywhere in a Claude Code request", () => {
  const req = claudeCodeRequest();
  assert.match(JSON.stringify(req), /cache_control/);
  const out = toOpenAIRequest(req, { reasoning: "chat_template_kwargs" });
  assert.doesNotMatch(JSON.stringify(out), /cache_control/);
});

Deno.test("toOpenAIRequest converts a Claude Code turn with parallel tool calls and an image result", () => {
  const req = claudeCodeRequest();
  const png = (req.messages[2].content as Array<{ content: Array<{ source: { data: string } }> }>)[0].content[0]
    .source.data;
  const out = toOpenAIRequest(req, { reasoning: "none" });
  assert.deepEqual(out.messages, [
    {
      role: "system",
      content: "You are Claude Code, Anthropic's official CLI for Claude.\n" +
        "You are an interactive CLI tool that helps users with software engineering tasks. Use the instructions " +
        "below and the tools available to you to assist the user.\n\nIMPORTANT: Assist with defensive security " +
        "tasks only.\n\n# Tone and style\nYou should be concise, direct, and to the point.",
    },
    {
      role: "user",
      content: "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n" +
        "# claudeMd\nUse deno fmt before committing.\n</system-reminder>\n" +
        "What does the screenshot in docs/shot.png show? Also list the src folder.",
    },
    {
      role: "assistant",
      content: "I'll look at both.",
      tool_calls: [
        {
          id: "toolu_01A09q90qw90lq917835lq9",
          type: "function",
          function: { name: "Read", arguments: '{"file_path":"/work/app/docs/shot.png"}' },
        },
        {
          id: "toolu_01B19q90qw90lq917835lq8",
          type: "function",
          function: {
            name: "Bash",
            arguments: '{"command":"ls -la src | head -20","description":"List the src folder"}',
          },
        },
      ],
      reasoning_content: "The user wants two things: read the image and list src. I can do both in parallel.",
    },
    {
      role: "tool",
      tool_call_id: "toolu_01A09q90qw90lq917835lq9",
      content: "[The image from this tool result is attached to the next user message]",
    },
    {
      role: "tool",
      tool_call_id: "toolu_01B19q90qw90lq917835lq8",
      content: "total 8\ndrwxr-xr-x 2 me me 4096 main.ts",
    },
    { role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${png}` } }] },
  ]);
});

Deno.test("toOpenAIRequest keeps the client's model and maps the request fields", () => {
  const out = toOpenAIRequest(claudeCodeRequest(), { reasoning: "none" });
  assert.equal(out.model, "claude-sonnet-4-5-20250929");
  assert.equal(out.max_tokens, 32000);
  assert.equal(out.temperature, 1);
  assert.equal(out.user, "user_5f2c0e8a9b_account__session_8d1e6f4a-3c2b-4a9e-b7d5-0f1e2d3c4b5a");
  assert.equal(out.stream, true);
  assert.deepEqual(out.stream_options, { include_usage: true });
  assert.equal(out.tool_choice, "auto");
  assert.equal(out.tools?.length, 9);
  for (const key of ["system", "metadata", "thinking", "stop_sequences", "tool_choice_type"]) {
    assert.equal(key in out, false, key);
  }
});

Deno.test("toOpenAIRequest forwards Claude Code's tool schemas unchanged by default", () => {
  const tools = claudeCodeTools();
  const out = toOpenAIRequest(request([{ role: "user", content: "Hi" }], { tools }), { reasoning: "none" });
  assert.deepEqual(
    out.tools?.map((tool) => tool.function),
    tools.map((tool) => ({ name: tool.name, description: tool.description, parameters: tool.input_schema })),
  );
});

Deno.test("toOpenAIRequest drops grammar-unsafe schema keywords but keeps properties that share their names", () => {
  const tools = claudeCodeTools();
  const out = toOpenAIRequest(request([{ role: "user", content: "Hi" }], { tools }), {
    reasoning: "none",
    dropSchemaKeywords: GRAMMAR_UNSAFE_SCHEMA_KEYWORDS,
  });
  const serialized = JSON.stringify(out.tools);
  assert.doesNotMatch(serialized, /"\$schema"|"format"/);
  const byName = new Map(out.tools?.map((tool) => [tool.function.name, tool.function.parameters]));
  const grep = byName.get("Grep") as { properties: Record<string, unknown>; required: string[] };
  assert.deepEqual(grep.properties.pattern, {
    type: "string",
    description: "The regular expression pattern to search for in file contents",
  });
  assert.deepEqual(grep.required, ["pattern"]);
  assert.deepEqual((byName.get("WebFetch") as { properties: Record<string, unknown> }).properties.url, {
    type: "string",
    description: "The URL to fetch content from",
  });
  assert.equal((byName.get("TodoWrite") as { additionalProperties: boolean }).additionalProperties, false);
});

Deno.test("toOpenAIRequest maps sampling and stop fields", () => {
  const out = toOpenAIRequest(
    request([{ role: "user", content: "Hi" }], {
      max_tokens: 64000,
      temperature: 0.6,
      top_p: 0.95,
      top_k: 20,
      stop_sequences: ["</answer>", "", "\n\nHuman:"],
      stream: false,
    }),
    { reasoning: "none" },
  );
  assert.deepEqual(
    { ...out, messages: undefined },
    {
      model: "claude-sonnet-4-5",
      messages: undefined,
      max_tokens: 64000,
      temperature: 0.6,
      top_p: 0.95,
      top_k: 20,
      stop: ["</answer>", "\n\nHuman:"],
      stream: false,
    },
  );
});

Deno.test("toOpenAIRequest maps every tool_choice form", () => {
  const tools: AnthropicTool[] = [{ name: "Bash", input_schema: { type: "object" } }];
  const cases: Array<{ name: string; choice: AnthropicRequest["tool_choice"]; want: Record<string, unknown> }> = [
    { name: "absent", choice: undefined, want: { tool_choice: "auto" } },
    { name: "auto", choice: { type: "auto" }, want: { tool_choice: "auto" } },
    { name: "any", choice: { type: "any" }, want: { tool_choice: "required" } },
    {
      name: "tool",
      choice: { type: "tool", name: "Bash" },
      want: { tool_choice: { type: "function", function: { name: "Bash" } } },
    },
    { name: "none", choice: { type: "none" }, want: { tool_choice: "none" } },
    {
      name: "auto without parallel calls",
      choice: { type: "auto", disable_parallel_tool_use: true },
      want: { tool_choice: "auto", parallel_tool_calls: false },
    },
    {
      name: "any without parallel calls",
      choice: { type: "any", disable_parallel_tool_use: true },
      want: { tool_choice: "required", parallel_tool_calls: false },
    },
  ];
  for (const { name, choice, want } of cases) {
    const out = toOpenAIRequest(request([{ role: "user", content: "Hi" }], { tools, tool_choice: choice }), {
      reasoning: "none",
    });
    assert.deepEqual({ tool_choice: out.tool_choice, parallel_tool_calls: out.parallel_tool_calls }, {
      tool_choice: undefined,
      parallel_tool_calls: undefined,
      ...want,
    }, name);
  }
});

Deno.test("toOpenAIRequest sends no tool_choice without tools", () => {
  const out = toOpenAIRequest(request([{ role: "user", content: "Hi" }], { tool_choice: { type: "any" } }), {
    reasoning: "none",
  });
  assert.equal("tool_choice" in out, false);
  assert.equal("tools" in out, false);
});

Deno.test("toOpenAIRequest rejects a tool_choice naming an unknown tool", () => {
  const tools: AnthropicTool[] = [{ name: "Bash", input_schema: { type: "object" } }];
  assertRejected(
    () =>
      toOpenAIRequest(
        request([{ role: "user", content: "Hi" }], { tools, tool_choice: { type: "tool", name: "Read" } }),
        {
          reasoning: "none",
        },
      ),
    /"Read", which is not in tools/,
  );
});

Deno.test("toOpenAIRequest rejects Anthropic server tools", () => {
  for (const type of ["web_search_20250305", "bash_20250124", "text_editor_20250728"]) {
    const tools: AnthropicTool[] = [{ name: "x", type }];
    assertRejected(
      () => toOpenAIRequest(request([{ role: "user", content: "Hi" }], { tools }), { reasoning: "none" }),
      new RegExp(`Tool type "${type}" is an Anthropic server tool`),
    );
  }
});

Deno.test("toOpenAIRequest maps the thinking switch for each reasoning style, never as a contradictory pair", () => {
  const enabled = (budget_tokens: number): AnthropicRequest["thinking"] => ({ type: "enabled", budget_tokens });
  const cases: Array<{ style: ReasoningStyle; thinking: AnthropicRequest["thinking"]; extra?: object; want: object }> =
    [
      { style: "none", thinking: enabled(10000), want: {} },
      { style: "none", thinking: { type: "disabled" }, want: {} },
      { style: "reasoning_effort", thinking: enabled(1024), want: { reasoning_effort: "low" } },
      { style: "reasoning_effort", thinking: enabled(4000), want: { reasoning_effort: "low" } },
      { style: "reasoning_effort", thinking: enabled(10000), want: { reasoning_effort: "medium" } },
      { style: "reasoning_effort", thinking: enabled(31999), want: { reasoning_effort: "high" } },
      { style: "reasoning_effort", thinking: { type: "adaptive" }, want: { reasoning_effort: "medium" } },
      {
        style: "reasoning_effort",
        thinking: { type: "adaptive" },
        extra: { output_config: { effort: "max" } },
        want: { reasoning_effort: "high" },
      },
      { style: "reasoning_effort", thinking: { type: "disabled" }, want: {} },
      { style: "reasoning_effort", thinking: undefined, want: {} },
      {
        style: "chat_template_kwargs",
        thinking: enabled(4000),
        want: { chat_template_kwargs: { enable_thinking: true } },
      },
      {
        style: "chat_template_kwargs",
        thinking: { type: "disabled" },
        want: { chat_template_kwargs: { enable_thinking: false } },
      },
      {
        style: "chat_template_kwargs",
        thinking: undefined,
        want: { chat_template_kwargs: { enable_thinking: false } },
      },
      { style: "thinking_object", thinking: enabled(4000), want: { thinking: { type: "enabled" } } },
      { style: "thinking_object", thinking: { type: "adaptive" }, want: { thinking: { type: "enabled" } } },
      { style: "thinking_object", thinking: { type: "disabled" }, want: { thinking: { type: "disabled" } } },
      { style: "thinking_object", thinking: undefined, want: { thinking: { type: "disabled" } } },
    ];
  for (const { style, thinking, extra, want } of cases) {
    const out = toOpenAIRequest(request([{ role: "user", content: "Hi" }], { thinking, ...extra }), {
      reasoning: style,
    });
    const sent = Object.fromEntries(
      ["reasoning_effort", "chat_template_kwargs", "thinking", "reasoning"].filter((key) => key in out).map((
        key,
      ) => [key, out[key]]),
    );
    assert.deepEqual(sent, want, `${style} with ${JSON.stringify(thinking)}`);
  }
});

Deno.test("toOpenAIRequest joins text blocks with newlines, drops empty ones and collapses to a string", () => {
  const messages = convertMessages([
    { role: "user", content: [{ type: "text", text: "only" }] },
    {
      role: "assistant",
      content: [{ type: "text", text: "" }, { type: "text", text: "a" }, { type: "text", text: "b" }],
    },
    {
      role: "user",
      content: [{ type: "text", text: "first" }, { type: "text", text: "" }, { type: "text", text: "second" }],
    },
  ]);
  assert.deepEqual(messages, [
    { role: "user", content: "only" },
    { role: "assistant", content: "a\nb" },
    { role: "user", content: "first\nsecond" },
  ]);
});

Deno.test("toOpenAIRequest gives a tool-call-only assistant turn null content", () => {
  const [message] = convertMessages([
    {
      role: "assistant",
      content: [{ type: "text", text: "" }, {
        type: "tool_use",
        id: "toolu_1",
        name: "Bash",
        input: { command: "ls" },
      }],
    },
  ]);
  assert.deepEqual(message, {
    role: "assistant",
    content: null,
    tool_calls: [{ id: "toolu_1", type: "function", function: { name: "Bash", arguments: '{"command":"ls"}' } }],
  });
});

Deno.test("toOpenAIRequest joins block-array tool results as text and keeps errors visible", () => {
  const messages = convertMessages([
    {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [{ type: "text", text: "line one" }, { type: "text", text: "line two" }],
        },
        {
          type: "tool_result",
          tool_use_id: "toolu_2",
          content: "<tool_use_error>File not found</tool_use_error>",
          is_error: true,
        },
        { type: "tool_result", tool_use_id: "toolu_3", is_error: true },
        { type: "tool_result", tool_use_id: "toolu_4" },
        { type: "text", text: "Continue." },
      ],
    },
  ]);
  assert.deepEqual(messages, [
    { role: "tool", tool_call_id: "toolu_1", content: "line one\nline two" },
    { role: "tool", tool_call_id: "toolu_2", content: "Error: <tool_use_error>File not found</tool_use_error>" },
    { role: "tool", tool_call_id: "toolu_3", content: "Error" },
    { role: "tool", tool_call_id: "toolu_4", content: "" },
    { role: "user", content: "Continue." },
  ]);
});

Deno.test("toOpenAIRequest moves tool-result images to the following user message, before the user's text", () => {
  const messages = convertMessages([
    {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [
            { type: "text", text: "Two screenshots:" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
            { type: "image", source: { type: "url", url: "https://example.com/b.jpg" } },
          ],
        },
        { type: "text", text: "Compare them." },
      ],
    },
  ]);
  assert.deepEqual(messages, [
    {
      role: "tool",
      tool_call_id: "toolu_1",
      content: "Two screenshots:\n[The 2 images from this tool result are attached to the next user message]",
    },
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        { type: "image_url", image_url: { url: "https://example.com/b.jpg" } },
        { type: "text", text: "Compare them." },
      ],
    },
  ]);
});

Deno.test("toOpenAIRequest keeps image URLs as URLs and inlines base64 images as data URLs", () => {
  const [message] = convertMessages([
    {
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
        { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
      ],
    },
  ]);
  assert.deepEqual(message.content, [
    { type: "text", text: "What is this?" },
    { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
    { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
  ]);
});

Deno.test("toOpenAIRequest keeps plain-text documents as text", () => {
  const [message] = convertMessages([
    {
      role: "user",
      content: [
        {
          type: "document",
          source: { type: "text", media_type: "text/plain", data: "The grass is green." },
          title: "Facts",
        },
        { type: "document", source: { type: "content", content: [{ type: "text", text: "Chunk." }] } },
        { type: "document", source: { type: "base64", media_type: "text/plain", data: btoa("Encoded.") } },
      ],
    },
  ]);
  assert.equal(message.content, "Facts\nThe grass is green.\nChunk.\nEncoded.");
});

Deno.test("toOpenAIRequest rejects blocks it cannot convert with a 400 naming them", () => {
  const cases: Array<{ name: string; messages: AnthropicMessage[]; want: RegExp }> = [
    {
      name: "PDF document",
      messages: [{
        role: "user",
        content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } }],
      }],
      want: /messages\[0\]\.content\[0\]: a "application\/pdf" document cannot be sent/,
    },
    {
      name: "URL document",
      messages: [{ role: "user", content: [{ type: "document", source: { type: "url", url: "https://x/a.pdf" } }] }],
      want: /a document with a "url" source cannot be sent/,
    },
    {
      name: "text document with broken base64",
      messages: [{
        role: "user",
        content: [{ type: "document", source: { type: "base64", media_type: "text/plain", data: "%%%" } }],
      }],
      want: /the document data is not valid base64/,
    },
    {
      name: "server tool result",
      messages: [{
        role: "assistant",
        content: [{ type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] }],
      }],
      want: /content block type "web_search_tool_result" cannot be sent/,
    },
    {
      name: "image from a file id",
      messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "file_1" } }] }],
      want: /image source type "file" is not supported/,
    },
  ];
  for (const { name, messages, want } of cases) {
    assertRejected(() => convertMessages(messages), want, name);
  }
});

Deno.test("toOpenAIRequest passes thinking back as reasoning_content and drops redacted thinking", () => {
  const [message] = convertMessages([
    {
      role: "assistant",
      content: [
        { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4a" },
        { type: "thinking", thinking: "", signature: "sig-only" },
        { type: "thinking", thinking: "Check the tests first.", signature: "abc" },
        { type: "tool_use", id: "call_9", name: "Bash", input: { command: "deno test" } },
      ],
    },
  ]);
  assert.deepEqual(message, {
    role: "assistant",
    content: null,
    tool_calls: [{ id: "call_9", type: "function", function: { name: "Bash", arguments: '{"command":"deno test"}' } }],
    reasoning_content: "Check the tests first.",
  });
});

Deno.test("toOpenAIRequest rejects a request without messages or with a bad role", () => {
  assertRejected(() => toOpenAIRequest(request([]), { reasoning: "none" }), /messages must be a non-empty array/);
  assertRejected(
    () => toOpenAIRequest({ model: "m", max_tokens: 1 } as AnthropicRequest, { reasoning: "none" }),
    /messages must be a non-empty array/,
  );
  assertRejected(
    () => convertMessages([{ role: "tool", content: "x" } as unknown as AnthropicMessage]),
    /messages\[0\]\.role must be "user", "assistant" or "system": received "tool"/,
  );
  assertRejected(
    () =>
      toOpenAIRequest(request([{ role: "user", content: "x" }], { temperature: "hot" as unknown as number }), {
        reasoning: "none",
      }),
    /temperature must be a number/,
  );
});

Deno.test("toOpenAIRequest asks for usage only when streaming", () => {
  const streamed = toOpenAIRequest(request([{ role: "user", content: "Hi" }], { stream: true }), { reasoning: "none" });
  const whole = toOpenAIRequest(request([{ role: "user", content: "Hi" }]), { reasoning: "none" });
  assert.deepEqual(streamed.stream_options, { include_usage: true });
  assert.equal("stream_options" in whole, false);
  assert.equal("stream" in whole, false);
});

Deno.test("toOpenAIRequest maps structured output to response_format", () => {
  const schema = { type: "object", properties: { answer: { type: "string" } } };
  const out = toOpenAIRequest(
    request([{ role: "user", content: "Hi" }], { output_config: { format: { type: "json_schema", schema } } }),
    { reasoning: "none" },
  );
  assert.deepEqual(out.response_format, { type: "json_schema", json_schema: { name: "output", schema } });
});

Deno.test("toOpenAIRequest turns Claude Code's mid-conversation system message into a reminder in the user turn", () => {
  // Shape captured from Claude Code 2.1.332: messages[1] is a system message with the environment block.
  const converted = convertMessages([
    { role: "user", content: [{ type: "text", text: "<system-reminder>attribution</system-reminder>" }] },
    {
      role: "system",
      content: [{ type: "text", text: "# Environment\nPlatform: linux" }],
    } as unknown as AnthropicMessage,
    { role: "user", content: "Say hello" },
    { role: "assistant", content: "Hello" },
  ]);
  assert.deepEqual(converted, [
    {
      role: "user",
      content: "<system-reminder>attribution</system-reminder>\n\n<system-reminder>\n# Environment\nPlatform: linux\n" +
        "</system-reminder>\n\nSay hello",
    },
    { role: "assistant", content: "Hello" },
  ]);
});

Deno.test("toOpenAIRequest degrades tool_reference and other unknown blocks inside a tool result to text", () => {
  const messages = convertMessages([{
    role: "user",
    content: [{
      type: "tool_result",
      tool_use_id: "toolu_01",
      content: [
        { type: "text", text: "Found 2 tools." },
        { type: "tool_reference", tool_name: "mcp__github__create_issue" },
        { type: "search_result", source: "https://x", title: "X", content: [] },
      ],
    }],
  }] as unknown as AnthropicMessage[]);
  assert.deepEqual(messages, [{
    role: "tool",
    tool_call_id: "toolu_01",
    content:
      'Found 2 tools.\nTool reference: mcp__github__create_issue\n{"type":"search_result","source":"https://x","title":"X","content":[]}',
  }]);
});

Deno.test("toOpenAIRequest sends the upstream's own tool-call ids back, not the prefixed ones", () => {
  const messages = convertMessages([
    {
      role: "assistant",
      content: [
        { type: "tool_use", id: "toolu_sp_Kx1aB2", name: "Bash", input: { command: "ls" } },
        { type: "tool_use", id: "toolu_sp64_ZnVuY3Rpb25zLkJhc2g6MA", name: "Bash", input: { command: "pwd" } },
        { type: "tool_use", id: "toolu_01A", name: "Bash", input: { command: "id" } },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_sp_Kx1aB2", content: "a.ts" },
        { type: "tool_result", tool_use_id: "toolu_sp64_ZnVuY3Rpb25zLkJhc2g6MA", content: "/src" },
        { type: "tool_result", tool_use_id: "toolu_01A", content: "uid=1" },
      ],
    },
  ]);
  const ids = messages.flatMap((message) =>
    message.role === "tool" ? [message.tool_call_id] : (message.tool_calls ?? []).map((call) => call.id)
  );
  assert.deepEqual(ids, ["Kx1aB2", "functions.Bash:0", "toolu_01A", "Kx1aB2", "functions.Bash:0", "toolu_01A"]);
});
