/**
 * End-to-end: what a client and the log see when an upstream is misconfigured: a key variable that is not set, a
 * wrong `base_url`, an upstream that is down.
 */

import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";

const MESSAGES = { model: "glm-5", max_tokens: 16, messages: [{ role: "user", content: "Hello" }] };
const CHAT = { model: "local-model", messages: [{ role: "user", content: "Hello" }] };

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

Deno.test("an unset api_key_env answers 401 in the client's shape for that upstream only, naming the variable", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [
      { name: "local", base_url: mock.url },
      {
        name: "zai",
        base_url: mock.origin,
        api_key_env: "ZAI_TEST_UNSET",
        supports_openai: false,
        supports_anthropic: true,
      },
    ],
    model_upstream_binding: { "glm-*": "zai", "*": "local" },
  });
  const anthropic = await post(`${proxy.url}/v1/messages`, MESSAGES);
  assert.equal(anthropic.status, 401);
  const error = await anthropic.json();
  assert.equal(error.type, "error");
  assert.equal(error.error.type, "authentication_error");
  assert.match(error.error.message, /Upstream "zai" has no API key: environment variable ZAI_TEST_UNSET is not set/);
  const openai = await post(`${proxy.url}/v1/chat/completions`, { ...CHAT, model: "glm-5" });
  assert.equal(openai.status, 401);
  assert.match((await openai.json()).error.message, /ZAI_TEST_UNSET/);
  const local = await post(`${proxy.url}/v1/chat/completions`, CHAT);
  assert.equal(local.status, 200);
  await local.body?.cancel();
  assert.deepEqual(mock.requests.map((r) => r.path), ["/v1/chat/completions"], "nothing was sent to zai");
});
