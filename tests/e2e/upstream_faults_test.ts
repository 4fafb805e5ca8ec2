/**
 * End-to-end: hostile and broken upstreams (issue 9): clients that leave during a non-streamed read, bodies and
 * events that never end, compression bombs, requests that never finish.
 */

import assert from "node:assert/strict";
import { type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";

const CHAT = { model: "mock-model", messages: [{ role: "user", content: "Hello" }] };

function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

Deno.test("a client that leaves during a non-streamed read aborts the upstream read while a stream is in flight", async () => {
  const streamed: Scenario = { text: "tick ".repeat(200), chunks: 200, chunkDelayMs: 20 };
  // The non-streamed answer starts its body, then stalls: the proxy is reading it when the client leaves.
  const stalled: Scenario = {
    rawSse: ['{"id":"x","object":"chat.completion",'],
    headers: { "content-type": "application/json" },
    hang: { afterChunks: 1 },
  };
  await using mock = await startMockUpstream({
    scenario: (request) => (request.json as { stream?: boolean }).stream ? streamed : stalled,
  });
  await using proxy = await startProxy({ upstreams: [{ name: "mock", base_url: mock.url }] });
  const stream = await post(`${proxy.url}/v1/chat/completions`, { ...CHAT, stream: true });
  const reading = stream.body!.getReader();
  await reading.read();
  const drained = (async () => {
    while (!(await reading.read()).done);
  })();
  const client = new AbortController();
  const answer = post(`${proxy.url}/v1/chat/completions`, CHAT, client.signal);
  await mock.waitForRequests(2);
  // Sequencing only (no timing assertion): let the proxy receive the headers and start reading the body.
  await new Promise((resolve) => setTimeout(resolve, 200));
  client.abort();
  await assert.rejects(answer);
  await mock.waitForAbort(1);
  await drained;
  const line = proxy.logs.find((entry) => entry.includes("[req-2]"));
  assert.match(line ?? "", /outcome=cancelled/);
});
