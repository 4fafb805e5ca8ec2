/**
 * End-to-end: SGLang's native `POST /generate` (and `/v1/generate`) is forwarded to the upstream's server root,
 * routed by the body's `model` or by the `*` binding, with the sampling policy applied inside `sampling_params`;
 * streams pass through; concurrency limits apply.
 */

import assert from "node:assert/strict";
import { isRecord, type JsonObject } from "../support/json_guards.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { postJson } from "../support/http.ts";
import { startProxy } from "../support/proxy_server.ts";
import { readSse } from "../support/sse.ts";
import { createGate, upstreamJson, waitUntil } from "./harness.ts";

/** Policy keys from every source: global defaults and forced values, per-model defaults, a rule. */
const POLICY = {
  default_sampling_params: { temperature: 0.1, top_k: 10, min_p: 0.05 },
  model_sampling_params: { "qwen3-served": { top_k: 20 } },
  override: { sampling_params: { top_p: 0.9 } },
  models: {
    "qwen3": { rename: "qwen3-served", strip: ["frequency_penalty"], max_tokens_cap: 100 },
    "*": { defaults: { repetition_penalty: 1.1 } },
  },
};

Deno.test("POST /generate without a model goes to the * binding's server root with the policy in sampling_params", async () => {
  await using other = await startMockUpstream({ sglang: true });
  await using sglang = await startMockUpstream({ sglang: true, scenario: () => ({ text: "Paris." }) });
  await using proxy = await startProxy({
    upstreams: [{ name: "other", base_url: other.url }, { name: "sglang", base_url: sglang.url }],
    model_upstream_binding: { "qwen*": "other", "*": "sglang" },
    ...POLICY,
  });
  const sent = { text: "The capital of France is", sampling_params: { temperature: 0.5, max_new_tokens: 16 } };
  const response = await postJson(`${proxy.url}/generate`, sent);
  assert.equal(response.status, 200);
  const answer = await response.json();
  assert.equal(answer.text, "Paris.");
  assert.equal(other.requests.length, 0);
  assert.equal(sglang.requests[0].path, "/generate");
  assert.deepEqual(upstreamJson(sglang, 0), {
    text: "The capital of France is",
    sampling_params: {
      temperature: 0.5,
      max_new_tokens: 16,
      top_p: 0.9,
      repetition_penalty: 1.1,
      top_k: 10,
      min_p: 0.05,
    },
  });
});

Deno.test("POST /generate with a model is routed by it; rename, strip and clamp act as for chat", async () => {
  await using qwen = await startMockUpstream({ sglang: true });
  await using fallback = await startMockUpstream({ sglang: true });
  await using proxy = await startProxy({
    upstreams: [{ name: "qwen", base_url: qwen.origin }, { name: "fallback", base_url: fallback.url }],
    model_upstream_binding: { "qwen*": "qwen", "*": "fallback" },
    ...POLICY,
  });
  const sent = {
    model: "qwen3",
    text: "Hi",
    sampling_params: { frequency_penalty: 1, max_new_tokens: 4096 },
  };
  const response = await postJson(`${proxy.url}/generate`, sent);
  assert.equal(response.status, 200, await response.clone().text());
  await response.body?.cancel();
  assert.equal(fallback.requests.length, 0);
  assert.equal(qwen.requests[0].path, "/generate");
  assert.deepEqual(upstreamJson(qwen, 0), {
    model: "qwen3-served",
    text: "Hi",
    sampling_params: { max_new_tokens: 100, top_p: 0.9, top_k: 20, temperature: 0.1, min_p: 0.05 },
  });
});

Deno.test("POST /v1/generate is SGLang's /generate too, not a /v1 endpoint with top-level sampling keys", async () => {
  await using mock = await startMockUpstream({ sglang: true });
  await using proxy = await startProxy({
    upstreams: [{ name: "sglang", base_url: mock.url }],
    default_sampling_params: { temperature: 0.3 },
  });
  const response = await postJson(`${proxy.url}/v1/generate`, { text: "Hi" });
  assert.equal(response.status, 200, await response.clone().text());
  await response.body?.cancel();
  assert.equal(mock.requests[0].path, "/generate");
  assert.deepEqual(upstreamJson(mock, 0), { text: "Hi", sampling_params: { temperature: 0.3 } });
});

Deno.test("POST /generate streams SGLang's data: lines through, ending with [DONE]", async () => {
  await using mock = await startMockUpstream({ sglang: true, scenario: () => ({ text: "one two three" }) });
  await using proxy = await startProxy({
    upstreams: [{ name: "sglang", base_url: mock.url }],
    override: { sampling_params: { temperature: 0 } },
  });
  const response = await postJson(`${proxy.url}/generate`, { text: "Count", stream: true });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
  const events = await readSse(response);
  assert.equal(events.at(-1)?.data, "[DONE]");
  const texts = events.slice(0, -1).map((event) => JSON.parse(event.data).text);
  assert.deepEqual(texts, ["one ", "one two ", "one two three"]);
  const sent = upstreamJson(mock, 0);
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.sampling_params, { temperature: 0 });
});

Deno.test("POST /generate without a model and without a * binding answers 400 in JSON", async () => {
  await using mock = await startMockUpstream({ sglang: true });
  await using proxy = await startProxy({
    upstreams: [{ name: "sglang", base_url: mock.url }],
    model_upstream_binding: { "qwen*": "sglang" },
  });
  const response = await postJson(`${proxy.url}/generate`, { text: "Hi" });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.ok(isRecord(body.error));
  assert.match(String(body.error.message), /"\*" binding/);
  assert.equal(mock.requests.length, 0);
});

Deno.test("POST /generate takes a concurrency slot like other generation (model-less requests share *)", async () => {
  await using mock = await startMockUpstream({ sglang: true });
  using gate = createGate();
  mock.setScenario(async (request) => {
    if (isRecord(request.json) && request.json.text === "first") await gate.opened;
    return { text: "ok" };
  });
  await using proxy = await startProxy({
    upstreams: [{ name: "sglang", base_url: mock.url }],
    parallel_limits: { "*": 1 },
  });
  const send = (text: string): Promise<JsonObject> =>
    postJson(`${proxy.url}/generate`, { text }).then((response) => response.json());
  const first = send("first");
  await mock.waitForRequests(1);
  const second = send("second");
  const limiter = proxy.app.context.limiter;
  await waitUntil(() => limiter.snapshot().models["*"]?.waiting === 1, "the second request to queue");
  assert.equal(mock.requests.length, 1);
  gate.open();
  assert.deepEqual([(await first).text, (await second).text], ["ok", "ok"]);
  assert.equal(mock.requests.length, 2);
});
