/**
 * End-to-end: what a client and the log see when an upstream is misconfigured: a key variable that is not set, a
 * wrong `base_url`, an upstream that is down.
 */

import { postJson } from "../support/http.ts";
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";

const MESSAGES = { model: "glm-5", max_tokens: 16, messages: [{ role: "user", content: "Hello" }] };
const CHAT = { model: "local-model", messages: [{ role: "user", content: "Hello" }] };

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
  const anthropic = await postJson(`${proxy.url}/v1/messages`, MESSAGES);
  assert.equal(anthropic.status, 401);
  const error = await anthropic.json();
  assert.equal(error.type, "error");
  assert.equal(error.error.type, "authentication_error");
  assert.match(error.error.message, /Upstream "zai" has no API key: environment variable ZAI_TEST_UNSET is not set/);
  const openai = await postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, model: "glm-5" });
  assert.equal(openai.status, 401);
  assert.match((await openai.json()).error.message, /ZAI_TEST_UNSET/);
  const local = await postJson(`${proxy.url}/v1/chat/completions`, CHAT);
  assert.equal(local.status, 200);
  await local.body?.cancel();
  assert.deepEqual(mock.requests.map((r) => r.path), ["/v1/chat/completions"], "nothing was sent to zai");
});

Deno.test("an upstream 404 on a generation endpoint names the upstream and endpoint, and the log line has the URL", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "local", base_url: `${mock.url}/v1?key=secret-query-key`, supports_anthropic: true }],
  });
  for (const [path, body] of [["/v1/chat/completions", CHAT], ["/v1/messages", MESSAGES]] as const) {
    const response = await postJson(`${proxy.url}${path}`, body);
    assert.equal(response.status, 404, path);
    const answer = await response.json();
    const error = path === "/v1/messages" ? (assert.equal(answer.type, "error"), answer.error) : answer.error;
    assert.equal(error.type, "not_found_error");
    const endpoint = path.slice("/v1/".length);
    assert.match(error.message, new RegExp(`^Upstream "local" answered 404 for /${endpoint}.*base_url`));
    assert.doesNotMatch(error.message, /127\.0\.0\.1|secret/);
  }
  const lines = proxy.logs.filter((line) => line.includes("status=404"));
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.match(
      line,
      / WARN .*outcome=error url=http:\/\/127\.0\.0\.1:\d+\/v1\/v1\/(chat\/completions|messages)\?key=(\*\*\*|\[REDACTED\]) /,
    );
    assert.doesNotMatch(line, /secret-query-key/);
  }
});

Deno.test("an upstream 404 on an endpoint at the server root (/generate) names that path", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({ upstreams: [{ name: "local", base_url: `${mock.url}?key=secret` }] });
  const response = await postJson(`${proxy.url}/generate`, { text: "Hi", sampling_params: {} });
  assert.equal(response.status, 404);
  const { error } = await response.json();
  assert.match(error.message, /^Upstream "local" answered 404 for \/generate: /);
  assert.doesNotMatch(error.message, /127\.0\.0\.1|secret/);
});

Deno.test("an unreachable upstream is logged at warn with the URL that was called", async () => {
  const mock = await startMockUpstream();
  const deadUrl = mock.url;
  await mock.close();
  await using proxy = await startProxy({ upstreams: [{ name: "local", base_url: deadUrl }] });
  const response = await postJson(`${proxy.url}/v1/chat/completions`, CHAT);
  assert.equal(response.status, 502);
  await response.body?.cancel();
  const line = proxy.logs.find((l) => l.includes("status=502"));
  assert.ok(line, proxy.logs.join("\n"));
  assert.match(line, / WARN .*upstream=local .*outcome=error url=http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions /);
});

Deno.test("an upstream 5xx answer is logged at warn with the URL, not as a plain info line", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ status: 503 }) });
  await using proxy = await startProxy({ upstreams: [{ name: "local", base_url: mock.url }] });
  const response = await postJson(`${proxy.url}/v1/chat/completions`, CHAT);
  assert.equal(response.status, 503);
  await response.body?.cancel();
  const line = proxy.logs.find((l) => l.includes("status=503"));
  assert.match(line ?? "", / WARN .*outcome=complete url=http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions$/);
});
