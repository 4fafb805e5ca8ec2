/**
 * End-to-end: the real handler on port 0 in front of the mock upstream, for clients whose protocol the upstream
 * speaks natively (passthrough).
 */

import assert from "node:assert/strict";
import { Anthropic, OpenAI } from "../support/sdk.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";
import { readSse } from "../support/sse.ts";
import { assertValidAnthropicStream, assertValidOpenAIStream } from "../support/anthropic_stream_grammar.ts";

const CHAT = { model: "mock-model", messages: [{ role: "user", content: "Hello" }] };
const MESSAGES = { model: "mock-model", max_tokens: 64, messages: [{ role: "user", content: "Hello" }] };

/** Runs `body` with a mock upstream (both protocols) and a proxy bound to it with `extra` config. */
async function withProxy(
  scenario: (req: { path: string }) => Scenario,
  body: (proxy: TestProxy, mock: MockUpstream) => Promise<void>,
  extra: Record<string, unknown> = {},
  upstream: Record<string, unknown> = {},
): Promise<void> {
  await using mock = await startMockUpstream({ scenario });
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: mock.url, supports_anthropic: true, ...upstream }],
    ...extra,
  });
  await body(proxy, mock);
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test("passthrough returns the upstream's OpenAI body byte for byte", async () => {
  await withProxy(() => ({ text: "Hi there" }), async (proxy, mock) => {
    const direct = await (await post(`${mock.url}/chat/completions`, CHAT)).text();
    const response = await post(`${proxy.url}/v1/chat/completions`, CHAT);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.deepEqual(withoutVolatile(text), withoutVolatile(direct));
    assert.equal(mock.requests[1].path, "/v1/chat/completions");
    assert.deepEqual(mock.requests[1].json, CHAT);
  });
});

/** Ids and timestamps differ between two answers of the mock; everything else must not. */
function withoutVolatile(text: string): string {
  return text.replace(/"(id|created)":("[^"]*"|\d+)/g, '"$1":0');
}

Deno.test("passthrough forwards the request body unchanged and the path without /v1 too", async () => {
  await withProxy(() => ({ text: "ok" }), async (proxy, mock) => {
    const raw = '{"model":"mock-model",  "messages":[{"role":"user","content":"x"}], "extra_field": {"a": 1.50}}';
    const response = await fetch(`${proxy.url}/chat/completions`, { method: "POST", body: raw });
    await response.body?.cancel();
    assert.equal(mock.requests[0].body, raw);
    assert.equal(mock.requests[0].path, "/v1/chat/completions");
  });
});

Deno.test("passthrough streams OpenAI events unchanged and valid", async () => {
  await withProxy(() => ({ text: "One two three four", chunks: 4 }), async (proxy) => {
    const response = await post(`${proxy.url}/v1/chat/completions`, { ...CHAT, stream: true });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
    const summary = assertValidOpenAIStream(await readSse(response));
    assert.equal(summary.text, "One two three four");
  });
});

/** A real-shaped Anthropic stream with a thinking signature; the proxy must not change one byte of it. */
const ANTHROPIC_RAW = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant",',
  '"model":"mock-model","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm \u00e9"}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDJvu+/Ag=="}}\n\n',
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Answer."}}\n\n',
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
];

Deno.test("passthrough streams Anthropic events byte for byte, thinking signatures included", async () => {
  await withProxy(() => ({ rawSse: ANTHROPIC_RAW }), async (proxy, mock) => {
    const response = await post(`${proxy.url}/v1/messages`, { ...MESSAGES, stream: true }, {
      "anthropic-version": "2023-06-01",
    });
    const text = await response.text();
    assert.equal(text, ANTHROPIC_RAW.join(""));
    const summary = assertValidAnthropicStream(await readSse(new Response(text)));
    assert.equal(summary.text, "Answer.");
    assert.equal(mock.requests[0].path, "/v1/messages");
    assert.equal(mock.requests[0].headers["anthropic-version"], "2023-06-01");
  });
});

Deno.test("a body over the cap gives 413 and invalid JSON 400, in the client's shape", async () => {
  await withProxy(() => ({ text: "x" }), async (proxy, mock) => {
    const big = { ...MESSAGES, messages: [{ role: "user", content: "x".repeat(5000) }] };
    const tooLarge = await post(`${proxy.url}/v1/messages`, big);
    assert.equal(tooLarge.status, 413);
    assert.equal((await tooLarge.json()).error.type, "request_too_large");
    const invalid = await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", body: "{nope" });
    assert.equal(invalid.status, 400);
    assert.equal((await invalid.json()).error.type, "invalid_request_error");
    const noModel = await post(`${proxy.url}/v1/chat/completions`, { messages: [] });
    assert.equal(noModel.status, 400);
    assert.match((await noModel.json()).error.message, /model/);
    assert.equal(mock.requests.length, 0);
  }, { listen: { max_body_bytes: 4096 } });
});

Deno.test("a model no binding matches gives 400 naming the model and the patterns tried", async () => {
  await withProxy(() => ({ text: "x" }), async (proxy) => {
    const response = await post(`${proxy.url}/v1/messages`, { ...MESSAGES, model: "gpt-9" });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.type, "error");
    assert.match(body.error.message, /"gpt-9".*"qwen\*"/);
  }, { model_upstream_binding: { "qwen*": "mock" } });
});

Deno.test("the client's key is forwarded unless the upstream has its own", async () => {
  await withProxy(() => ({ text: "x" }), async (proxy, mock) => {
    const response = await post(`${proxy.url}/v1/chat/completions`, CHAT, {
      authorization: "Bearer client-key",
      cookie: "a=b",
      "proxy-authorization": "Basic x",
      "x-stainless-lang": "js",
    });
    await response.body?.cancel();
    const seen = mock.requests[0].headers;
    assert.equal(seen["authorization"], "Bearer client-key");
    assert.equal(seen["x-stainless-lang"], "js");
    assert.equal(seen["cookie"], undefined);
    assert.equal(seen["proxy-authorization"], undefined);
  });
  await withProxy(
    () => ({ text: "x" }),
    async (proxy, mock) => {
      const response = await post(`${proxy.url}/v1/messages`, MESSAGES, { "x-api-key": "client-key" });
      await response.body?.cancel();
      assert.equal(mock.requests[0].headers["x-api-key"], "upstream-key");
      assert.ok(!proxy.logs.join("\n").includes("upstream-key"), "no key in any log line");
    },
    {},
    { api_key: "upstream-key" },
  );
});

Deno.test("other /v1 endpoints pass through to the upstream bound by the body's model", async () => {
  await withProxy(() => ({ text: "x" }), async (proxy, mock) => {
    const response = await post(`${proxy.url}/v1/embeddings`, { model: "mock-model", input: "hello" });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(mock.requests[0].path, "/v1/embeddings");
  });
});

Deno.test("count_tokens passes through to an Anthropic upstream", async () => {
  await withProxy(() => ({ text: "x" }), async (proxy, mock) => {
    const response = await post(`${proxy.url}/v1/messages/count_tokens`, {
      model: "mock-model",
      messages: MESSAGES.messages,
    });
    assert.equal(response.status, 200);
    assert.equal(typeof (await response.json()).input_tokens, "number");
    assert.equal(mock.requests[0].path, "/v1/messages/count_tokens");
  });
});

Deno.test("/v1/models is the union of the upstreams' lists, skipping one that is down", async () => {
  await using a = await startMockUpstream({ models: ["alpha", "shared"] });
  await using b = await startMockUpstream({ models: ["beta", "shared"] });
  await using down = await startMockUpstream({ scenario: () => ({ status: 500 }) });
  await using proxy = await startProxy({
    upstreams: [
      { name: "a", base_url: a.url },
      { name: "b", base_url: b.origin },
      { name: "down", base_url: down.url },
    ],
    model_upstream_binding: { "*": "a" },
  });
  const response = await fetch(`${proxy.url}/v1/models`);
  const body = await response.json();
  assert.equal(body.object, "list");
  assert.deepEqual(body.data.map((m: { id: string }) => m.id), ["alpha", "shared", "beta"]);
  assert.deepEqual(body.data.map((m: { owned_by: string }) => m.owned_by), ["a", "a", "b"]);
  assert.ok(
    proxy.logs.some((line) => /upstream "down" skipped: .*; url=http:\/\/127\.0\.0\.1:\d+\/v1\/models/.test(line)),
  );
});

Deno.test("health reports version, upstreams without credentials and bindings, under the base path", async () => {
  await withProxy(
    () => ({ text: "x" }),
    async (proxy, mock) => {
      const health = await (await fetch(`${proxy.url}/health`)).json();
      assert.equal(health.status, "ok");
      assert.equal(health.upstreams[0].name, "mock");
      assert.deepEqual(health.bindings, [{ pattern: "*", upstream: "mock" }]);
      const root = await fetch(`${proxy.url}/`);
      assert.equal(root.status, 200);
      await root.body?.cancel();
      const outside = await fetch(proxy.url.replace("/proxy", "/health"));
      assert.equal(outside.status, 404);
      await outside.body?.cancel();
      const chat = await post(`${proxy.url}/v1/chat/completions`, CHAT);
      assert.equal(chat.status, 200);
      await chat.body?.cancel();
      assert.equal(mock.requests[0].path, "/v1/chat/completions");
    },
    { listen: { base_path: "/proxy/" } },
  );
});

Deno.test("health never shows credentials embedded in an upstream URL", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: mock.url.replace("http://", "http://user:secret@") }],
  });
  const health = await (await fetch(`${proxy.url}/health`)).json();
  assert.equal(health.upstreams[0].url, mock.url);
  assert.ok(!JSON.stringify(health).includes("secret"));
});

Deno.test("unknown paths answer 404 and wrong methods 405, as JSON", async () => {
  await withProxy(() => ({ text: "x" }), async (proxy) => {
    const missing = await fetch(`${proxy.url}/nothing/here`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.type, "not_found_error");
    const wrong = await fetch(`${proxy.url}/v1/messages`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "POST");
    assert.equal((await wrong.json()).type, "error");
  });
});

Deno.test("the OpenAI SDK works through the proxy, stream and non-stream", async () => {
  await withProxy(() => ({ text: "Hello from the mock", chunks: 3 }), async (proxy) => {
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "k", maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: "mock-model",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(completion.choices[0].message.content, "Hello from the mock");
    const stream = await client.chat.completions.create({
      model: "mock-model",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Hello from the mock");
  });
});

Deno.test("the Anthropic SDK works through the proxy, stream and non-stream", async () => {
  await withProxy(() => ({ text: "Hello from the mock", chunks: 3 }), async (proxy) => {
    const client = new Anthropic({ baseURL: proxy.url, apiKey: "k", maxRetries: 0 });
    const message = await client.messages.create({
      model: "mock-model",
      max_tokens: 64,
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(message.content[0].type === "text" ? message.content[0].text : "", "Hello from the mock");
    const stream = client.messages.stream({
      model: "mock-model",
      max_tokens: 64,
      messages: [{ role: "user", content: "Hi" }],
    });
    const final = await stream.finalMessage();
    assert.equal(final.content[0].type === "text" ? final.content[0].text : "", "Hello from the mock");
  });
});

Deno.test("a Responses API stream (Codex) passes through unchanged, ending without [DONE]", async () => {
  const raw = await Deno.readTextFile(new URL("../testdata/responses/stream.sse", import.meta.url));
  await withProxy(() => ({ rawSse: raw.split(/(?<=\n\n)/) }), async (proxy, mock) => {
    const response = await post(`${proxy.url}/v1/responses`, { model: "mock-model", input: "Hi", stream: true });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), raw);
    assert.equal(mock.requests[0].path, "/v1/responses");
  });
});
