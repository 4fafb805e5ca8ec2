/**
 * End-to-end: client keys (`auth.keys`) over a real socket, in front of the mock upstream, with the official SDKs
 * where they fit.
 */

import assert from "node:assert/strict";
import { OpenAI } from "../support/sdk.ts";
import { Anthropic } from "../support/sdk.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";

const KEY = "proxy-client-key-1";
const CHAT = { model: "mock-model", messages: [{ role: "user", content: "Hello" }] };
const MESSAGES = { model: "mock-model", max_tokens: 64, messages: [{ role: "user", content: "Hello" }] };

/** Runs `body` with a mock upstream and a proxy that needs `KEY`; `upstream` adds keys to the upstream entry. */
async function withAuthProxy(
  body: (proxy: TestProxy, mock: MockUpstream) => Promise<void>,
  upstream: Record<string, unknown> = {},
): Promise<void> {
  await using mock = await startMockUpstream({ scenario: () => ({ text: "ok" }) });
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: mock.url, supports_anthropic: true, ...upstream }],
    auth: { keys: ["another-key", KEY] },
  });
  await body(proxy, mock);
}

function request(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  return fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const ROUTES: { name: string; method: string; path: string; body?: unknown; headers?: Record<string, string> }[] = [
  { name: "chat", method: "POST", path: "/v1/chat/completions", body: CHAT },
  { name: "chat without /v1", method: "POST", path: "/chat/completions", body: CHAT },
  { name: "messages", method: "POST", path: "/v1/messages", body: MESSAGES },
  { name: "count_tokens", method: "POST", path: "/v1/messages/count_tokens", body: MESSAGES },
  { name: "models", method: "GET", path: "/v1/models" },
  {
    name: "models (Anthropic client)",
    method: "GET",
    path: "/v1/models",
    headers: { "anthropic-version": "2023-06-01" },
  },
  { name: "telemetry", method: "POST", path: "/api/event_logging/batch", body: { events: [] } },
  { name: "one model", method: "GET", path: "/v1/models/mock-model" },
  { name: "SGLang generate", method: "POST", path: "/generate", body: { text: "x" } },
  { name: "doubled /v1", method: "POST", path: "/v1/v1/chat/completions", body: CHAT },
  { name: "other /v1 endpoint", method: "POST", path: "/v1/embeddings", body: { model: "mock-model", input: "x" } },
  { name: "unknown path", method: "GET", path: "/v1/nothing/here" },
];

Deno.test("client keys: every route but health answers 401 in the client's shape without a valid key", async () => {
  await withAuthProxy(async (proxy, mock) => {
    const credentials: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-key" },
      { "x-api-key": "wrong-key" },
      { "api-key": `${KEY}x` },
      { authorization: `Basic ${btoa(`user:${KEY}`)}` },
    ];
    for (const route of ROUTES) {
      for (const headers of credentials) {
        const label = `${route.name} with ${JSON.stringify(headers)}`;
        const response = await request(
          `${proxy.url}${route.path}`,
          route.method,
          { ...route.headers, ...headers },
          route.body,
        );
        assert.equal(response.status, 401, label);
        assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="sampling-proxy"', label);
        const json = await response.json();
        const anthropic = route.path.includes("messages") || route.headers?.["anthropic-version"] !== undefined;
        if (anthropic) {
          assert.equal(json.type, "error", label);
          assert.equal(json.error.type, "authentication_error", label);
        } else {
          assert.equal(json.error.type, "authentication_error", label);
          assert.equal(json.error.code, "invalid_api_key", label);
        }
      }
    }
    assert.equal(mock.requests.length, 0, "nothing reached the upstream");
  });
});

Deno.test("client keys: Bearer, x-api-key and api-key are accepted, and the client's key never reaches the upstream", async () => {
  await withAuthProxy(async (proxy, mock) => {
    const forms: Record<string, string>[] = [{ authorization: `Bearer ${KEY}` }, { "x-api-key": KEY }, {
      "api-key": KEY,
    }];
    for (const headers of forms) {
      for (const route of ROUTES.slice(0, 5)) {
        const response = await request(`${proxy.url}${route.path}`, route.method, headers, route.body);
        assert.equal(response.status, 200, `${route.name} with ${Object.keys(headers)[0]}`);
        await response.body?.cancel();
      }
    }
    assert.ok(mock.requests.length >= 12);
    for (const recorded of mock.requests) {
      assert.equal(JSON.stringify(recorded.headers).includes(KEY), false, `${recorded.path} got the client key`);
      for (const name of ["authorization", "x-api-key", "api-key"]) assert.equal(recorded.headers[name], undefined);
    }
  });
});

Deno.test("client keys: an upstream with its own key gets that key, never the client's", async () => {
  await withAuthProxy(async (proxy, mock) => {
    const response = await request(`${proxy.url}/v1/chat/completions`, "POST", { "x-api-key": KEY }, CHAT);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(mock.requests[0].headers.authorization, "Bearer upstream-secret-key");
    assert.equal(mock.requests[0].headers["x-api-key"], undefined);
  }, { api_key: "upstream-secret-key" });
});

Deno.test("client keys: the OpenAI and Anthropic SDKs work with the proxy's key (apiKey and authToken)", async () => {
  await withAuthProxy(async (proxy) => {
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const chat = await openai.chat.completions.create({
      model: "mock-model",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(chat.choices[0].message.content, "ok");
    for (const credentials of [{ apiKey: KEY }, { apiKey: null, authToken: KEY }]) {
      const anthropic = new Anthropic({ baseURL: proxy.url, maxRetries: 0, ...credentials });
      const message = await anthropic.messages.create(MESSAGES as Anthropic.MessageCreateParamsNonStreaming);
      assert.deepEqual(message.content, [{ type: "text", text: "ok" }]);
    }
    const wrong = new Anthropic({ baseURL: proxy.url, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(
      wrong.messages.create(MESSAGES as Anthropic.MessageCreateParamsNonStreaming),
      (error: unknown) => error instanceof Anthropic.AuthenticationError,
    );
  });
});

Deno.test("client keys: /health and / stay open but show only name, status and version without a key", async () => {
  await withAuthProxy(async (proxy) => {
    for (const path of ["/health", "/"]) {
      const open = await (await fetch(`${proxy.url}${path}`)).json();
      assert.deepEqual(Object.keys(open).sort(), ["name", "status", "version"], path);
      assert.equal(open.status, "ok");
      const wrong = await (await fetch(`${proxy.url}${path}`, { headers: { "x-api-key": "wrong" } })).json();
      assert.deepEqual(Object.keys(wrong).sort(), ["name", "status", "version"], path);
      const full = await (await fetch(`${proxy.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } })).json();
      assert.equal(full.upstreams[0].name, "mock", path);
      assert.ok(full.bindings && full.concurrency, path);
    }
  });
});

Deno.test("client keys: the configured keys never appear in log lines", async () => {
  await withAuthProxy(async (proxy) => {
    const response = await request(`${proxy.url}/v1/chat/completions`, "POST", { "x-api-key": KEY }, {
      ...CHAT,
      model: `model-${KEY}`,
    });
    await response.body?.cancel();
    assert.ok(proxy.logs.some((line) => line.includes("model=model-[REDACTED]")), proxy.logs.join("\n"));
    assert.equal(proxy.logs.some((line) => line.includes(KEY)), false);
  });
});

Deno.test("client keys: a client that goes away still cancels the upstream request (the signal survives)", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ text: "ok", hang: "after-headers" }) });
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: mock.url }],
    auth: { keys: [KEY] },
  });
  const client = new AbortController();
  const response = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ ...CHAT, stream: true }),
    signal: client.signal,
  });
  assert.equal(response.status, 200);
  client.abort();
  await response.body?.cancel().catch(() => {});
  await mock.waitForAbort(0);
});
