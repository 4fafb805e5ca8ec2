/**
 * End-to-end: the listen timeouts with short configured values, through the proxy's real handler. A client that
 * stalls its request body gets a 408 in its protocol's shape; a slow upstream (a long wait for the answer, a stream
 * with pauses) is never cut by these timeouts, which only run while the proxy waits on the client.
 */

import assert from "node:assert/strict";
import { type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { postJson } from "../support/http.ts";
import { startProxy } from "../support/proxy_server.ts";
import { readToEnd } from "../support/raw_conn.ts";
import { readSse } from "../support/sse.ts";
import { chatBody, messagesBody, proxyConfig } from "./harness.ts";

const SHORT = { header_timeout_seconds: 0.2, body_timeout_seconds: 0.2, keep_alive_timeout_seconds: 0.2 };

/** Sends headers and the start of a body, then stalls; returns everything the proxy sends until it closes. */
async function stallBody(url: string, path: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head =
    `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n`;
  await conn.write(new TextEncoder().encode(`${head}{"model":`));
  return await readToEnd(conn);
}

Deno.test("a stalled request body gets a 408 in the client's protocol shape", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, { config: { listen: SHORT } }));
  const anthropic = await stallBody(proxy.url, "/v1/messages");
  assert.match(anthropic, /^HTTP\/1\.1 408 /);
  assert.match(anthropic, /\{"type":"error","error":\{"type":"timeout_error","message":"Request body stalled/);
  const openai = await stallBody(proxy.url, "/v1/chat/completions");
  assert.match(openai, /^HTTP\/1\.1 408 /);
  assert.match(openai, /\{"error":\{"message":"Request body stalled[^"]*","type":"timeout_error"/);
  assert.equal(mock.requests.length, 0);
});

Deno.test("listen timeouts do not cut a slow answer or a stream with long pauses", async () => {
  await using mock = await startMockUpstream({
    scenario: (request): Scenario =>
      (request.json as { stream?: boolean }).stream
        ? { text: "one two three", chunks: 3, chunkDelayMs: 300 }
        : { text: "slow", delayMs: 600 },
  });
  await using proxy = await startProxy(proxyConfig(mock, { config: { listen: SHORT } }));
  const answer = await postJson(`${proxy.url}/v1/chat/completions`, chatBody("m"));
  assert.equal(answer.status, 200);
  assert.equal((await answer.json()).choices[0].message.content, "slow");
  const stream = await postJson(`${proxy.url}/v1/messages`, messagesBody("m", { stream: true }));
  const events = await readSse(stream);
  assert.equal(events.at(-1)?.event, "message_stop");
});
