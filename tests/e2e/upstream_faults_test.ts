/**
 * End-to-end: hostile and broken upstreams (issue 9): clients that leave during a non-streamed read, bodies and
 * events that never end, compression bombs, requests that never finish.
 */

import { postJson } from "../support/http.ts";
import assert from "node:assert/strict";
import { OpenAI } from "../support/sdk.ts";
import { blackHole } from "../support/black_hole.ts";
import { gzipBomb } from "../support/gzip_bomb.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";
import { parseSseText, readSse } from "../support/sse.ts";

const CHAT = { model: "mock-model", messages: [{ role: "user", content: "Hello" }] };
const MESSAGES = { model: "mock-model", max_tokens: 64, messages: [{ role: "user", content: "Hello" }] };

Deno.test("a client that leaves during a non-streamed read aborts the upstream read while a stream is in flight", async () => {
  // The non-streamed answer starts its body, then stalls: the proxy is reading it when the client leaves.
  const stalled: Scenario = {
    rawSse: ['{"id":"x","object":"chat.completion",'],
    headers: { "content-type": "application/json" },
    hang: { afterChunks: 1 },
  };
  const variants: { name: string; path: string; body: unknown; config?: Record<string, unknown> }[] = [
    { name: "passthrough", path: "/v1/chat/completions", body: CHAT },
    { name: "converted", path: "/v1/messages", body: MESSAGES },
    { name: "garbage guard", path: "/v1/chat/completions", body: CHAT, config: { validation: { enabled: true } } },
  ];
  for (const { name, path, body, config } of variants) {
    // The stream stays in flight (it stalls after two events) until the end of the check.
    const inFlight: Scenario = { text: "tick tock", hang: { afterChunks: 2 } };
    await using mock = await startMockUpstream({
      scenario: (request) => (request.json as { stream?: boolean }).stream ? inFlight : stalled,
    });
    await using proxy = await startProxy({ upstreams: [{ name: "mock", base_url: mock.url }], ...config });
    const stream = await postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, stream: true });
    const reading = stream.body!.getReader();
    await reading.read();
    const client = new AbortController();
    const answer = postJson(`${proxy.url}${path}`, body, { signal: client.signal });
    await mock.waitForRequests(2);
    // Sequencing only (no timing assertion): let the proxy receive the headers and start reading the body.
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.abort();
    await assert.rejects(answer);
    await mock.waitForAbort(1);
    await reading.cancel();
    await mock.waitForAbort(0);
    const logged = proxy.logs.some((entry) =>
      /\[req-2\] .*status=499 .*outcome=cancelled .*reason="Client closed/.test(entry)
    );
    assert.ok(logged, `${name}:\n${proxy.logs.join("\n")}`);
  }
});

/** Runs `body` with a mock upstream answering `scenario` and a proxy whose upstream has the `upstream` settings. */
async function withProxy(
  scenario: Scenario,
  upstream: Record<string, unknown>,
  body: (proxy: TestProxy, mock: MockUpstream) => Promise<void>,
): Promise<void> {
  await using mock = await startMockUpstream({ scenario: () => scenario });
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: mock.url, ...upstream }],
    parallel_limits: { "mock-model": 1 },
  });
  await body(proxy, mock);
}

/** Asserts that the one concurrency slot of the model is free again: a plain request gets its answer. */
async function assertSlotFree(proxy: TestProxy, mock: MockUpstream, next: Scenario = { text: "ok" }): Promise<void> {
  mock.setScenario(() => next);
  const response = await postJson(`${proxy.url}/v1/chat/completions`, CHAT);
  assert.equal(response.status, 200);
  await response.body?.cancel();
}

Deno.test("a gzip bomb from a non-streamed upstream gets a 502 in the client's shape at max_response_bytes", async () => {
  const bomb = await gzipBomb(200);
  const scenario: Scenario = {
    rawSse: [bomb],
    headers: { "content-type": "application/json", "content-encoding": "gzip" },
  };
  await withProxy(scenario, { supports_anthropic: true, max_response_bytes: 1024 * 1024 }, async (proxy, mock) => {
    const openai = await postJson(`${proxy.url}/v1/chat/completions`, CHAT);
    assert.equal(openai.status, 502);
    assert.deepEqual(
      (await openai.json()).error.message,
      "Upstream response is larger than the limit of 1048576 bytes",
    );
    assert.equal(mock.requests[0].headers["accept-encoding"], "identity");
    const anthropic = await postJson(`${proxy.url}/v1/messages`, MESSAGES);
    assert.equal(anthropic.status, 502);
    const body = await anthropic.json();
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "api_error");
    await assertSlotFree(proxy, mock);
  });
});

Deno.test("a streamed gzip bomb ends the client's stream with an error event at max_response_bytes", async () => {
  const bomb = await gzipBomb(200);
  const scenario: Scenario = {
    rawSse: [bomb],
    headers: { "content-type": "text/event-stream", "content-encoding": "gzip" },
  };
  await withProxy(scenario, { max_response_bytes: 1024 * 1024 }, async (proxy, mock) => {
    // A safety net, not a timing assertion: without the limit the proxy would hold the endless line for minutes.
    const gaveUp = AbortSignal.timeout(30_000);
    const response = await postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, stream: true }, { signal: gaveUp });
    assert.equal(response.status, 200);
    const events = parseSseText(await readCapped(response, 4 * 1024 * 1024));
    assert.match(events.at(-1)?.data ?? "", /"Upstream response is larger than the limit of 1048576 bytes"/);
    await assertSlotFree(proxy, mock);
  });
});

/** The body's text; throws once it is longer than `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  let text = "";
  let bytes = 0;
  const decoder = new TextDecoder();
  for await (const chunk of response.body ?? []) {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      await response.body?.cancel();
      throw new Error(`The response is longer than ${maxBytes} bytes`);
    }
    text += decoder.decode(chunk, { stream: true });
  }
  return text;
}

Deno.test("max_duration_seconds ends a trickling stream with an error event and a slow answer with a 504", async () => {
  const trickle: Scenario = { text: "tick ".repeat(100), chunks: 100, chunkDelayMs: 50 };
  await withProxy(trickle, { max_duration_seconds: 0.5, timeout_seconds: 60 }, async (proxy, mock) => {
    const events = await readSse(await postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, stream: true }));
    const { error } = JSON.parse(events.at(-1)?.data ?? "{}");
    assert.equal(error.type, "timeout_error");
    assert.match(error.message, /did not finish within 0\.5 s \(max_duration_seconds\)$/);
    await mock.waitForAbort(0);
    mock.setScenario(() => ({ hang: "before-headers" }));
    const slow = await postJson(`${proxy.url}/v1/chat/completions`, CHAT);
    assert.equal(slow.status, 504);
    assert.match((await slow.json()).error.message, /max_duration_seconds/);
    await mock.waitForAbort(1);
    await assertSlotFree(proxy, mock, { text: "ok", chunks: 1 });
  });
});

Deno.test("connect_timeout_seconds gives a 504 in the client's shape when the upstream never accepts", async () => {
  await using hole = await blackHole();
  await using proxy = await startProxy({
    upstreams: [{
      name: "hole",
      base_url: `http://127.0.0.1:${hole.port}/v1`,
      supports_anthropic: true,
      connect_timeout_seconds: 0.2,
      response_timeout_seconds: 0.35,
    }],
  });
  const response = await postJson(`${proxy.url}/v1/messages`, MESSAGES);
  assert.equal(response.status, 504);
  const body = await response.json();
  assert.equal(body.type, "error");
  assert.equal(body.error.message, 'Could not connect to upstream "hole" within 0.2 s');
});

Deno.test("the OpenAI SDK gets a complete passthrough stream that ends with finish_reason and usage but no [DONE]", async () => {
  const chunk = (body: unknown) => `data: ${JSON.stringify(body)}\n\n`;
  const base = { id: "c1", object: "chat.completion.chunk", created: 1, model: "mock-model" };
  const scenario: Scenario = {
    rawSse: [
      chunk({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }] }),
      chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
      chunk({ ...base, choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }),
      ": keep-alive\n\n",
    ],
  };
  await withProxy(scenario, {}, async (proxy) => {
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "k", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "mock-model",
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
    });
    let text = "";
    let usage: unknown;
    for await (const part of stream) {
      text += part.choices[0]?.delta?.content ?? "";
      usage ??= part.usage ?? undefined;
    }
    assert.equal(text, "Hi");
    assert.deepEqual(usage, { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
    assert.ok(proxy.logs.some((entry) => /\[req-1\] .*outcome=complete/.test(entry)), proxy.logs.join("\n"));
  });
});

Deno.test("an upstream count_tokens answer over max_response_bytes gets a 502 in Anthropic's shape", async () => {
  const scenario: Scenario = {
    rawSse: [`{"input_tokens": 1, "padding": "${"x".repeat(64 * 1024)}"}`],
    headers: { "content-type": "application/json" },
  };
  await withProxy(scenario, { supports_anthropic: true, max_response_bytes: 16_384 }, async (proxy) => {
    const response = await postJson(`${proxy.url}/v1/messages/count_tokens`, MESSAGES);
    assert.equal(response.status, 502);
    const body = await response.json();
    assert.deepEqual(body.error, {
      type: "api_error",
      message: "Upstream response is larger than the limit of 16384 bytes",
    });
  });
});
