/**
 * End-to-end: `POST /v1/messages/count_tokens` through the real proxy, for each way of counting: the upstream's own
 * count_tokens (Anthropic-capable upstreams), its llama.cpp-style `/tokenize`, and the local estimate. It never
 * answers 404, as Claude Code then sizes its context meter wrongly (field note 14).
 */

import assert from "node:assert/strict";
import { Anthropic } from "../support/sdk.ts";
import { estimateAnthropicInputTokens } from "../../src/convert/count_tokens.ts";
import type { AnthropicCountTokensRequest } from "../../src/protocols/anthropic.ts";
import { postJson } from "../support/http.ts";
import { type ConvertingRig, type ConvertingSetup, withConvertingProxy } from "./convert_harness.ts";

const MODEL = "qwen3-coder-30b";

/** A 1×1 transparent PNG. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/** A request with a system prompt, one tool and a short conversation. */
const REQUEST: Anthropic.MessageCountTokensParams = {
  model: MODEL,
  system: "You are a careful assistant.",
  tools: [{
    name: "get_weather",
    description: "Current weather for a city",
    input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  }],
  messages: [
    { role: "user", content: "What is the weather in Paris?" },
    {
      role: "assistant",
      content: [{ type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } }],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "Sunny and warm" }] },
  ],
};

/** Claude Code sends a dozen or more tools with long descriptions; they are most of a short prompt. */
function manyTools(count: number): Anthropic.Tool[] {
  const description = "Performs one step of a coding task. ".repeat(20) +
    "Usage notes: always prefer this tool over shell commands, read files before editing them, and keep edits small.";
  return Array.from({ length: count }, (_, index) => ({
    name: `Tool${index}`,
    description,
    input_schema: {
      type: "object",
      properties: {
        file_path: { type: "string", description: "The absolute path to the file" },
        content: { type: "string", description: "The content to write or the pattern to search for" },
      },
      required: ["file_path"],
    },
  }));
}

/** Runs `body` with the given mock upstream and proxy. */
function withUpstream(setup: ConvertingSetup, body: (rig: ConvertingRig) => Promise<void>): Promise<void> {
  return withConvertingProxy(setup, body);
}

/** An SDK client of the proxy. */
function sdk(rig: ConvertingRig): Anthropic {
  return new Anthropic({ baseURL: rig.proxy.url, apiKey: "client-key", maxRetries: 0 });
}

/** The local estimate, as the proxy computes it. */
function estimate(request: Anthropic.MessageCountTokensParams): number {
  return estimateAnthropicInputTokens(request as AnthropicCountTokensRequest);
}

/** Asks the mock's own `/tokenize` how many tokens `content` has. */
async function mockTokenCount(rig: ConvertingRig, content: string): Promise<number> {
  const response = await postJson(`${rig.mock.origin}/tokenize`, { content });
  const { tokens } = await response.json() as { tokens: unknown[] };
  return tokens.length;
}

Deno.test("count_tokens passes through to an Anthropic-capable upstream", async () => {
  await withUpstream({ upstream: "anthropic" }, async (rig) => {
    const { input_tokens } = await sdk(rig).messages.countTokens(REQUEST);
    const seen = rig.mock.requests[0];
    assert.equal(seen.path, "/v1/messages/count_tokens");
    assert.deepEqual(seen.json, REQUEST);
    const direct = await postJson(`${rig.mock.url}/messages/count_tokens`, REQUEST);
    assert.equal(input_tokens, (await direct.json()).input_tokens);
  });
});

Deno.test("count_tokens falls back to the local estimate when an Anthropic-capable upstream has no count_tokens", async () => {
  const scenario = (request: { path: string }) => request.path.endsWith("/count_tokens") ? { status: 404 } : {};
  await withUpstream({ upstream: "anthropic", scenario }, async (rig) => {
    const { input_tokens } = await sdk(rig).messages.countTokens(REQUEST);
    assert.equal(input_tokens, estimate(REQUEST));
    assert.equal(rig.mock.requests[0].path, "/v1/messages/count_tokens");
    assert.ok(
      rig.proxy.logs.some((line) =>
        /Upstream "mock" has no count_tokens \(status 404 from http:\/\/127\.0\.0\.1:\d+\/v1\/messages\/count_tokens\)/
          .test(line)
      ),
      rig.proxy.logs.join("\n"),
    );
  });
});

Deno.test("count_tokens uses an OpenAI upstream's /tokenize on the rendered system, tools and messages", async () => {
  await withUpstream({ upstream: "openai", tokenize: true, upstreamConfig: { tokenize: true } }, async (rig) => {
    const { input_tokens } = await sdk(rig).messages.countTokens(REQUEST);
    const seen = rig.mock.requests[0];
    assert.equal(seen.path, "/tokenize");
    const content = (seen.json as { content: string }).content;
    for (const part of ["You are a careful assistant.", "Current weather for a city", "weather in Paris", "Sunny"]) {
      assert.ok(content.includes(part), `the tokenized text includes "${part}"`);
    }
    assert.equal(input_tokens, await mockTokenCount(rig, content));
    assert.notEqual(input_tokens, estimate(REQUEST), "the upstream's count, not the local estimate");
  });
});

Deno.test("count_tokens calls /tokenize like any upstream request: extra headers, key, identity encoding", async () => {
  const upstreamConfig = { tokenize: true, api_key: "sk-upstream", headers: { "x-team": "blue" } };
  await withUpstream({ upstream: "openai", tokenize: true, upstreamConfig }, async (rig) => {
    await sdk(rig).messages.countTokens(REQUEST);
    const seen = rig.mock.requests[0];
    assert.equal(seen.path, "/tokenize");
    assert.equal(seen.headers["x-team"], "blue");
    assert.equal(seen.headers["authorization"], "Bearer sk-upstream");
    assert.equal(seen.headers["accept-encoding"], "identity");
    assert.equal(seen.headers["anthropic-version"], undefined, "an OpenAI-style endpoint gets no Anthropic headers");
  });
});

Deno.test("count_tokens adds a fixed estimate per image to the upstream tokenizer's count", async () => {
  const request: Anthropic.MessageCountTokensParams = {
    model: MODEL,
    messages: [{
      role: "user",
      content: [
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_BASE64 } },
        { type: "text", text: "What is in this picture?" },
      ],
    }],
  };
  await withUpstream({ upstream: "openai", tokenize: true, upstreamConfig: { tokenize: true } }, async (rig) => {
    const { input_tokens } = await sdk(rig).messages.countTokens(request);
    const content = (rig.mock.requests[0].json as { content: string }).content;
    assert.ok(!content.includes(PNG_BASE64), "image data is not tokenized as text");
    assert.equal(input_tokens, (await mockTokenCount(rig, content)) + 1600);
  });
});

Deno.test("count_tokens falls back to the local estimate when /tokenize fails, and logs why", async () => {
  await withUpstream({ upstream: "openai", tokenize: false, upstreamConfig: { tokenize: true } }, async (rig) => {
    const { input_tokens } = await sdk(rig).messages.countTokens(REQUEST);
    assert.equal(input_tokens, estimate(REQUEST));
    assert.equal(rig.mock.requests[0].path, "/tokenize");
    assert.ok(
      rig.proxy.logs.some((line) =>
        /Tokenize on upstream "mock" failed \(.*\); using the local estimate; url=http:\/\/127\.0\.0\.1:\d+\/tokenize/
          .test(line)
      ),
      rig.proxy.logs.join("\n"),
    );
  });
});

Deno.test("count_tokens estimates locally without calling an OpenAI upstream, counting every tool", async () => {
  await withUpstream({ upstream: "openai" }, async (rig) => {
    const client = sdk(rig);
    const withTools = await client.messages.countTokens({ ...REQUEST, tools: manyTools(20) });
    const withoutTools = await client.messages.countTokens({ ...REQUEST, tools: [] });
    assert.ok(withTools.input_tokens >= 2000, `20 long tools count in the thousands: ${withTools.input_tokens}`);
    assert.ok(withTools.input_tokens - withoutTools.input_tokens >= 2000, "the tools make the difference");
    assert.ok(withoutTools.input_tokens > 0);
    assert.equal(rig.mock.requests.length, 0);
  });
});

Deno.test("count_tokens without messages or model is a 400 in the Anthropic error shape", async () => {
  await withUpstream({ upstream: "openai" }, async (rig) => {
    for (const body of [{ model: MODEL }, { messages: REQUEST.messages }, { model: MODEL, messages: "Hello" }]) {
      const response = await postJson(`${rig.proxy.url}/v1/messages/count_tokens`, body);
      assert.equal(response.status, 400);
      const error = await response.json();
      assert.equal(error.type, "error");
      assert.equal(error.error.type, "invalid_request_error");
      assert.match(error.error.message, /"(messages|model)"/);
    }
    assert.equal(rig.mock.requests.length, 0);
  });
});
