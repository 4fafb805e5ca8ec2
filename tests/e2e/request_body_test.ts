/**
 * End-to-end: request bodies are bounded before admission (value and depth budgets, the body byte budget), and
 * every refusal comes in the client's protocol shape.
 */

import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";
import { waitUntil } from "./harness.ts";

const encoder = new TextEncoder();

function post(url: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

Deno.test("a body of 600,000 tiny values gets 413 before it is parsed, in the client's shape", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({ upstreams: [{ name: "mock", base_url: mock.url, supports_anthropic: true }] });
  const bomb = '{"model":"mock-model","max_tokens":8,"messages":[],"x":[' + "{},".repeat(600_000) + "{}]}";
  const chat = await post(`${proxy.url}/v1/chat/completions`, bomb);
  assert.equal(chat.status, 413);
  const chatJson = await chat.json();
  assert.match(chatJson.error.message, /more than 500000 JSON values \(listen\.max_json_elements\)/);
  const messages = await post(`${proxy.url}/v1/messages`, bomb);
  assert.equal(messages.status, 413);
  assert.deepEqual((await messages.json()).error.type, "request_too_large");
  const deep = '{"model":"mock-model","x":' + "[".repeat(200) + "]".repeat(200) + "}";
  const nested = await post(`${proxy.url}/v1/messages/count_tokens`, deep);
  assert.equal(nested.status, 400);
  const nestedJson = await nested.json();
  assert.equal(nestedJson.type, "error");
  assert.match(nestedJson.error.message, /nested deeper than 128 levels/);
  assert.equal(mock.requests.length, 0);
});

Deno.test("when the body budget is taken, a new body waits briefly and then gets 503 with retry-after", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ text: "ok" }) });
  await using proxy = await startProxy({
    upstreams: [{ name: "mock", base_url: mock.url, supports_anthropic: true }],
    listen: { max_body_bytes: 4096, body_budget_bytes: 4096, body_wait_seconds: 0.2 },
  });
  // A body of unknown length reserves the largest body, the whole budget, until it has been read and parsed.
  const slow = Promise.withResolvers<void>();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode('{"model":"mock-model","messages":[{"role":"user",'));
      await slow.promise;
      controller.enqueue(encoder.encode('"content":"hi"}]}'));
      controller.close();
    },
  });
  const first = fetch(
    `${proxy.url}/v1/chat/completions`,
    { method: "POST", body: stream, duplex: "half" } as RequestInit,
  );
  await waitUntil(() => proxy.app.context.bodyLimits.budget.used > 0, "the slow body's reservation");
  const body = JSON.stringify({ model: "mock-model", max_tokens: 8, messages: [{ role: "user", content: "x" }] });
  const refused = await post(`${proxy.url}/v1/messages`, body);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  const json = await refused.json();
  assert.deepEqual([json.type, json.error.type], ["error", "overloaded_error"]);
  slow.resolve();
  const answered = await first;
  assert.equal(answered.status, 200);
  await answered.body?.cancel();
  assert.equal(proxy.app.context.bodyLimits.budget.used, 0);
  const later = await post(`${proxy.url}/v1/messages`, body);
  assert.equal(later.status, 200, "the budget came back");
  await later.body?.cancel();
});
