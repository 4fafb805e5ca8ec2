/**
 * End-to-end: what reaches an upstream, and what a hostile request target, `Host` or `Origin` gets instead. Cases
 * about the wire (dot segments, malformed escapes, `Host`) are sent as raw HTTP over `Deno.connect`, since `fetch`
 * normalises paths and sets `Host` itself.
 */

import assert from "node:assert/strict";
import { OpenAI } from "../support/sdk.ts";
import { Anthropic } from "../support/sdk.ts";
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";
import { chatBody, messagesBody } from "./harness.ts";

/** Runs `body` with a mock upstream and a proxy in front of it; `upstream` and `config` extend the proxy config. */
async function withProxy(
  options: { upstream?: Record<string, unknown>; config?: Record<string, unknown>; mock?: MockUpstreamOptions },
  body: (proxy: TestProxy, mock: MockUpstream) => Promise<void>,
): Promise<void> {
  await using mock = await startMockUpstream(options.mock);
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: mock.url, supports_anthropic: true, ...options.upstream }],
    ...options.config,
  });
  await body(proxy, mock);
}

/** A raw HTTP/1.1 answer. */
interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** Sends `head` (request line and headers, without the blank line) and `body` as raw bytes; reads to the close. */
async function rawHttp(proxy: TestProxy, head: string, body = ""): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(proxy.url).port) });
  const length = body === "" ? "" : `\r\ncontent-length: ${new TextEncoder().encode(body).length}`;
  await conn.write(new TextEncoder().encode(`${head}${length}\r\nconnection: close\r\n\r\n${body}`));
  const text = await new Response(conn.readable).text();
  const split = text.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
  const headers = new Headers(lines.map((line): [string, string] => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  }));
  return { status: Number(statusLine.split(" ")[1]), headers, body: text.slice(split + 4) };
}

/** A raw POST of an OpenAI chat body to `target` with `Host: localhost` and `extra` header lines. */
function rawPost(proxy: TestProxy, target: string, extra = ""): Promise<RawAnswer> {
  const head = `POST ${target} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json${extra}`;
  return rawHttp(proxy, head, JSON.stringify(chatBody("mock-model")));
}

/** Asserts an OpenAI-shaped JSON error with `status` whose message matches `message`. */
function assertOpenAIError(answer: RawAnswer, status: number, message: RegExp): void {
  assert.equal(answer.status, status, answer.body);
  assert.match(answer.headers.get("content-type") ?? "", /application\/json/);
  const body = JSON.parse(answer.body);
  assert.equal(typeof body.error?.type, "string");
  assert.match(body.error.message, message);
}

Deno.test("dot segments, encoded slashes and malformed escapes get 400 JSON and never reach the upstream", async () => {
  await withProxy({ upstream: { api_key: "SECRET" } }, async (proxy, mock) => {
    for (
      const target of [
        "/v1/%2e%2e/slots/0?action=erase",
        "/v1/%2E%2E/%2E%2E/slots/0?action=erase",
        "/v1/..%2Fslots/0?action=erase",
        "/v1/chat/..%2F..%2Fslots/0",
        "/v1/../slots/0?action=erase",
        "/v1/chat%2Fcompletions",
        "/v1/%ZZ",
        "/%",
      ]
    ) {
      assertOpenAIError(await rawPost(proxy, target), 400, /Request path refused/);
    }
    const get = await rawHttp(proxy, "GET /% HTTP/1.1\r\nhost: localhost");
    assertOpenAIError(get, 400, /malformed percent escape/);
    assert.equal(mock.requests.length, 0);
  });
});

Deno.test("only the inference endpoints are forwarded unless the upstream's forward_paths allows more", async () => {
  await withProxy({}, async (proxy, mock) => {
    for (const target of ["/v1/fine_tuning/jobs", "/v1/batches", "/v1/organization/admin_api_keys", "/v1/slots/0"]) {
      const answer = await rawPost(proxy, target);
      assertOpenAIError(answer, 404, /forward_paths/);
    }
    assert.equal(mock.requests.length, 0);
    const embeddings = await rawPost(proxy, "/v1/embeddings");
    assert.equal(embeddings.status, 200, embeddings.body);
    assert.equal(mock.requests.at(-1)?.path, "/v1/embeddings");
  });
  await withProxy({ upstream: { forward_paths: ["/v1/batches", "/v1/files/*"] } }, async (proxy, mock) => {
    await rawPost(proxy, "/v1/batches");
    await rawPost(proxy, "/v1/files/f1");
    assert.deepEqual(mock.requests.map((r) => r.path), ["/v1/batches", "/v1/files/f1"]);
    assertOpenAIError(await rawPost(proxy, "/v1/files/f1/content"), 404, /forward_paths/);
    assert.equal(mock.requests.length, 2);
  });
});

Deno.test("forward_paths of one upstream does not open the path on another", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [
      { name: "open", base_url: mock.url, forward_paths: ["/v1/batches"] },
      { name: "closed", base_url: mock.url },
    ],
    model_upstream_binding: { "open-*": "open", "*": "closed" },
  });
  const answer = await rawHttp(
    proxy,
    "POST /v1/batches HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json",
    JSON.stringify({ model: "mock-model" }),
  );
  assertOpenAIError(answer, 404, /forward_paths/);
  assert.equal(mock.requests.length, 0);
});

Deno.test("the Host header cannot change the route and a malformed one gets 400", async () => {
  await withProxy({}, async (proxy, mock) => {
    const tricked = await rawHttp(proxy, "GET /health HTTP/1.1\r\nhost: x/v1/models?");
    assertOpenAIError(tricked, 400, /Host/);
    const health = await rawHttp(proxy, "GET /health HTTP/1.1\r\nhost: localhost:1234");
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, "ok");
    assert.equal(mock.requests.length, 0);
  });
});

Deno.test("a foreign Host (DNS rebinding) gets 403 unless listen.allowed_hosts names it", async () => {
  await withProxy({}, async (proxy, mock) => {
    const body = JSON.stringify(messagesBody("mock-model"));
    const rebound = await rawHttp(
      proxy,
      "POST /v1/messages HTTP/1.1\r\nhost: rebind.attacker.example:8001\r\ncontent-type: text/plain",
      body,
    );
    assert.equal(rebound.status, 403);
    const error = JSON.parse(rebound.body);
    assert.equal(error.type, "error");
    assert.equal(error.error.type, "permission_error");
    assert.match(error.error.message, /listen\.allowed_hosts/);
    for (const host of ["127.0.0.1:9", "[::1]:9", "localhost"]) {
      const ok = await rawHttp(proxy, `GET /health HTTP/1.1\r\nhost: ${host}`);
      assert.equal(ok.status, 200, host);
    }
    assert.equal(mock.requests.length, 0);
  });
  await withProxy({ config: { listen: { allowed_hosts: ["proxy.example"] } } }, async (proxy) => {
    const ok = await rawHttp(proxy, "GET /health HTTP/1.1\r\nhost: proxy.example:8001");
    assert.equal(ok.status, 200);
  });
});

Deno.test("a web page's request (foreign Origin) gets 403 in the client's shape and spends no key", async () => {
  await withProxy({ upstream: { api_key: "SECRET" } }, async (proxy, mock) => {
    const openai = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin: "https://evil.example" },
      body: JSON.stringify(chatBody("mock-model")),
    });
    assert.equal(openai.status, 403);
    assert.match((await openai.json()).error.message, /cors\.origins/);
    assert.equal(openai.headers.get("access-control-allow-origin"), null);
    const anthropic = await fetch(`${proxy.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin: "https://evil.example" },
      body: JSON.stringify(messagesBody("mock-model")),
    });
    assert.equal(anthropic.status, 403);
    assert.equal((await anthropic.json()).type, "error");
    assert.equal(mock.requests.length, 0);
  });
});

Deno.test("an origin in cors.origins gets preflights answered and CORS headers on its responses", async () => {
  const origin = "http://localhost:3000";
  await withProxy({ config: { cors: { origins: [origin] } } }, async (proxy, mock) => {
    const preflight = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    await preflight.body?.cancel();
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.equal(preflight.headers.get("access-control-allow-headers"), "authorization, content-type");
    const answer = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify(chatBody("mock-model")),
    });
    assert.equal(answer.status, 200);
    await answer.json();
    assert.equal(answer.headers.get("access-control-allow-origin"), origin);
    assert.match(answer.headers.get("vary") ?? "", /origin/i);
    const other = await fetch(`${proxy.url}/health`, { headers: { origin: "http://localhost:3001" } });
    assert.equal(other.status, 403);
    await other.body?.cancel();
    const sdk = await fetch(`${proxy.url}/health`);
    assert.equal(sdk.status, 200);
    await sdk.body?.cancel();
    assert.equal(mock.requests.length, 1);
  });
});

Deno.test("a keyed upstream gets only the proxy's credentials, not the client's headers or ?key=", async () => {
  const clientHeaders = {
    "content-type": "application/json",
    authorization: "Bearer sk-client",
    "x-goog-api-key": "AIza-client",
    "openai-organization": "org-client",
    "openai-project": "proj-client",
    forwarded: "for=203.0.113.9",
    "x-forwarded-for": "203.0.113.9",
    "x-real-ip": "203.0.113.9",
  };
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: `${mock.url}?key=SECRET`, api_key: "SECRET" }],
  });
  const answer = await fetch(`${proxy.url}/v1/chat/completions?key=ATTACKER&beta=true`, {
    method: "POST",
    headers: clientHeaders,
    body: JSON.stringify(chatBody("mock-model")),
  });
  assert.equal(answer.status, 200);
  await answer.json();
  const seen = mock.requests[0];
  assert.deepEqual(seen.query, { key: "SECRET", beta: "true" });
  assert.equal(seen.headers.authorization, "Bearer SECRET");
  for (const name of Object.keys(clientHeaders).filter((n) => n !== "content-type" && n !== "authorization")) {
    assert.equal(seen.headers[name], undefined, name);
  }
});

Deno.test("an upstream without a key still gets the client's own key and query", async () => {
  await withProxy({}, async (proxy, mock) => {
    const answer = await fetch(`${proxy.url}/v1/chat/completions?key=CLIENT`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-client" },
      body: JSON.stringify(chatBody("mock-model")),
    });
    assert.equal(answer.status, 200);
    await answer.json();
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-client");
    assert.equal(mock.requests[0].query.key, "CLIENT");
  });
});

Deno.test("a gzip request body is forwarded inflated, without content-encoding", async () => {
  await withProxy({}, async (proxy, mock) => {
    const json = JSON.stringify(chatBody("mock-model"));
    const gzipped = await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"))).bytes();
    const answer = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipped,
    });
    assert.equal(answer.status, 200);
    await answer.json();
    assert.equal(mock.requests[0].headers["content-encoding"], undefined);
    assert.equal(mock.requests[0].body, json);
  });
});

Deno.test("GET /v1/models/{id} serves one model from the union for the OpenAI SDK, 404 when unknown", async () => {
  await withProxy({ mock: { models: ["mock-model", "Qwen/Qwen3-8B"] } }, async (proxy) => {
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "k", maxRetries: 0 });
    const model = await client.models.retrieve("mock-model");
    assert.equal(model.id, "mock-model");
    assert.equal(model.object, "model");
    assert.equal(model.owned_by, "mock");
    assert.equal((await client.models.retrieve("Qwen/Qwen3-8B")).id, "Qwen/Qwen3-8B");
    await assert.rejects(client.models.retrieve("nope"), (error: unknown) => error instanceof OpenAI.NotFoundError);
    const list = await client.models.list();
    assert.deepEqual(list.data.map((m) => m.id), ["mock-model", "Qwen/Qwen3-8B"]);
  });
});

Deno.test("the model list and item carry Anthropic's fields for the Anthropic SDK", async () => {
  await withProxy({ mock: { models: ["mock-model", "Qwen/Qwen3-8B"] } }, async (proxy) => {
    const client = new Anthropic({ baseURL: proxy.url, apiKey: "k", maxRetries: 0 });
    const model = await client.models.retrieve("Qwen/Qwen3-8B");
    assert.equal(model.type, "model");
    assert.equal(model.id, "Qwen/Qwen3-8B");
    assert.equal(model.display_name, "Qwen/Qwen3-8B");
    assert.ok(!Number.isNaN(Date.parse(model.created_at)));
    const ids: string[] = [];
    for await (const entry of client.models.list()) {
      assert.equal(entry.type, "model");
      ids.push(entry.id);
    }
    assert.deepEqual(ids, ["mock-model", "Qwen/Qwen3-8B"]);
    await assert.rejects(client.models.retrieve("nope"), (error: unknown) => error instanceof Anthropic.NotFoundError);
    const raw = await fetch(`${proxy.url}/v1/models/nope`, { headers: { "anthropic-version": "2023-06-01" } });
    assert.equal(raw.status, 404);
    assert.equal((await raw.json()).type, "error");
  });
});

const MESSAGE: Anthropic.MessageCreateParamsNonStreaming = {
  model: "mock-model",
  max_tokens: 64,
  messages: [{ role: "user", content: "Hello" }],
};

Deno.test("a doubled /v1 (base URL ending in /v1) reaches the known endpoints, with a one-time hint", async () => {
  await withProxy({}, async (proxy, mock) => {
    const client = new Anthropic({ baseURL: `${proxy.url}/v1`, apiKey: "k", maxRetries: 0 });
    const message = await client.messages.create(MESSAGE);
    assert.equal(message.type, "message");
    await client.messages.create(MESSAGE);
    assert.deepEqual(mock.requests.map((r) => r.path), ["/v1/messages", "/v1/messages"]);
    assert.equal(proxy.logs.filter((line) => line.includes("remove /v1 from the client's base URL")).length, 1);
    const models = await fetch(`${proxy.url}/v1/v1/models`);
    assert.equal(models.status, 200);
    assert.equal((await models.json()).data[0].id, "mock-model");
    const unknown = await fetch(`${proxy.url}/v1/v1/batches`, { method: "POST", body: "{}" });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  });
});
