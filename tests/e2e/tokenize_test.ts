/**
 * End-to-end: llama.cpp's `/tokenize` and `/detokenize` live at the server root, not under `/v1`; the proxy accepts
 * both spellings from clients and forwards them to the upstream's root, whatever the form of its base URL.
 */

import assert from "node:assert/strict";
import { postJson } from "../support/http.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";

const MODEL = "mock-model";

for (const base of ["url", "origin"] as const) {
  Deno.test(`tokenize and detokenize reach the upstream's server root (base_url without and with /v1: ${base})`, async () => {
    await using mock = await startMockUpstream({ tokenize: true });
    await using proxy = await startProxy({ upstreams: [{ name: "llama", base_url: mock[base] }] });
    const calls = [
      { path: "/tokenize", body: { model: MODEL, content: "Hello world" }, upstream: "/tokenize" },
      { path: "/v1/tokenize", body: { model: MODEL, content: "Hello world" }, upstream: "/tokenize" },
      { path: "/detokenize", body: { model: MODEL, tokens: [1, 2] }, upstream: "/detokenize" },
      { path: "/v1/detokenize", body: { model: MODEL, tokens: [1, 2] }, upstream: "/detokenize" },
    ];
    for (const [index, call] of calls.entries()) {
      const response = await postJson(`${proxy.url}${call.path}`, call.body);
      const answer = await response.json();
      assert.equal(response.status, 200, `${call.path}: ${JSON.stringify(answer)}`);
      assert.equal(mock.requests[index].path, call.upstream, call.path);
      assert.deepEqual(mock.requests[index].json, call.body, `${call.path} forwards the client's body`);
      if (call.upstream === "/tokenize") assert.equal((answer as { tokens: unknown[] }).tokens.length, 2);
      else assert.equal((answer as { content: string }).content, "1 2");
    }
  });
}

Deno.test("a tokenize body without a model, as llama.cpp clients send it, goes to the * binding", async () => {
  await using other = await startMockUpstream({ tokenize: true });
  await using llama = await startMockUpstream({ tokenize: true });
  await using proxy = await startProxy({
    upstreams: [{ name: "other", base_url: other.url }, { name: "llama", base_url: llama.url }],
    model_upstream_binding: { "qwen-*": "other", "*": "llama" },
  });
  const response = await postJson(`${proxy.url}/tokenize`, { content: "Hello world" });
  const answer = await response.json() as { tokens: unknown[] };
  assert.equal(response.status, 200, JSON.stringify(answer));
  assert.equal(answer.tokens.length, 2);
  assert.equal(llama.requests[0].path, "/tokenize");
  assert.equal(other.requests.length, 0);
});
