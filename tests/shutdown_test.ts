/**
 * Graceful stop of the app behind the connection gate, against the mock upstream: streams in flight finish within
 * the grace period or end with their protocol's error event after it; queued and new requests get a 503 in their
 * protocol's shape at once.
 */

import assert from "node:assert/strict";
import { App } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import { type ConnectionGate, serveGated } from "../src/http/connection_gate.ts";
import { memoryLogger } from "../src/observability/logger.ts";
import { stopGracefully } from "../src/shutdown.ts";
import { chatBody, messagesBody, proxyConfig, waitUntil } from "./e2e/harness.ts";
import { postJson } from "./support/http.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "./support/mock_upstream.ts";
import { readSse } from "./support/sse.ts";

interface Proxy {
  app: App;
  gate: ConnectionGate;
  url: string;
}

function startGated(mock: MockUpstream, config: Record<string, unknown> = {}): Proxy {
  const { config: parsed } = parseConfig(JSON.stringify(proxyConfig(mock, { config })), { source: "test", env: {} });
  const app = new App(parsed, { logger: memoryLogger() });
  const gate = serveGated(app.handler, {
    hostname: "127.0.0.1",
    port: 0,
    headerTimeoutSeconds: 30,
    bodyTimeoutSeconds: 30,
    keepAliveTimeoutSeconds: 30,
    log: () => {},
  });
  return { app, gate, url: `http://127.0.0.1:${gate.addr.port}` };
}

function stop(proxy: Proxy, graceSeconds: number): Promise<void> {
  return stopGracefully(proxy.gate, proxy.app.context.drain, { graceSeconds, log: () => {} });
}

Deno.test("stop lets a stream in flight finish within the grace and answers a queued request 503 at once", async () => {
  await using mock = await startMockUpstream({
    scenario: (): Scenario => ({ text: "one two three four", chunks: 4, chunkDelayMs: 100 }),
  });
  const proxy = startGated(mock, { parallel_limits: { global: 1 } });
  try {
    const streaming = await postJson(`${proxy.url}/v1/messages`, messagesBody("m", { stream: true }));
    const queued = postJson(`${proxy.url}/v1/messages`, messagesBody("m"));
    await waitUntil(() => proxy.app.context.limiter.snapshot().global?.waiting === 1, "the queued request");
    const stopped = stop(proxy, 10);
    const refused = await queued;
    assert.equal(refused.status, 503);
    const body = await refused.json();
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "overloaded_error");
    const events = await readSse(streaming);
    assert.equal(events.at(-1)?.event, "message_stop");
    assert.ok(!events.some((event) => event.event === "error"));
    await stopped;
  } finally {
    await proxy.gate.close();
  }
});

Deno.test("stop ends a stream that outlives the grace with its protocol's error event", async () => {
  await using mock = await startMockUpstream({
    scenario: (): Scenario => ({ text: "never ends", hang: { afterChunks: 1 } }),
  });
  const proxy = startGated(mock);
  try {
    const openai = await postJson(`${proxy.url}/v1/chat/completions`, chatBody("m", { stream: true }));
    const anthropic = await postJson(`${proxy.url}/v1/messages`, messagesBody("m", { stream: true }));
    await mock.waitForRequests(2);
    await stop(proxy, 0.2);
    const openaiEvents = await readSse(openai);
    const last = JSON.parse(openaiEvents.at(-1)?.data ?? "{}");
    assert.match(last.error?.message, /shut down before the response was complete/);
    const anthropicEvents = await readSse(anthropic);
    assert.equal(anthropicEvents.at(-1)?.event, "error");
    assert.equal(JSON.parse(anthropicEvents.at(-1)?.data ?? "{}").error?.type, "overloaded_error");
  } finally {
    await proxy.gate.close();
  }
});

Deno.test("a request that arrives while the proxy stops gets a 503 in its protocol's shape", async () => {
  await using mock = await startMockUpstream();
  const proxy = startGated(mock);
  try {
    proxy.app.context.drain.begin();
    const response = await proxy.app.handler(
      new Request(`${proxy.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(chatBody("m")) }),
    );
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    assert.equal((await response.json()).error.type, "server_error");
    assert.equal(mock.requests.length, 0);
  } finally {
    await proxy.gate.close();
  }
});

Deno.test("stop answers a request still waiting for its upstream after the grace with a 503 in its shape", async () => {
  await using mock = await startMockUpstream({ scenario: (): Scenario => ({ hang: "before-headers" }) });
  const proxy = startGated(mock);
  try {
    const waiting = postJson(`${proxy.url}/v1/messages`, messagesBody("m"));
    await mock.waitForRequests(1);
    const stopped = stop(proxy, 0.2);
    const response = await waiting;
    assert.equal(response.status, 503);
    assert.equal((await response.json()).error.type, "overloaded_error");
    await stopped;
    await mock.waitForAbort(0);
  } finally {
    await proxy.gate.close();
  }
});
