/**
 * The model union when some upstreams misbehave: refused connections, a 200 that is not JSON, a list far larger
 * than the cap, a list that never ends. The other upstreams' models are still listed, and nothing is a 500.
 */

import { closedPort } from "../support/black_hole.ts";
import assert from "node:assert/strict";
import { ModelList } from "../../src/handlers/models.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";

/** The ids of an OpenAI model list answer. */
async function listedIds(response: Response): Promise<string[]> {
  const body = await response.json() as { data: { id: string }[] };
  return body.data.map((model) => model.id);
}

Deno.test("/v1/models lists the good upstream's models when another refuses connections or answers non-JSON", async () => {
  await using good = await startMockUpstream({ models: ["good-model"] });
  await using garbage = await startMockUpstream({ scenario: () => ({ rawSse: ["<html>Bad gateway</html>"] }) });
  await using proxy = await startProxy({
    upstreams: [
      { name: "down", base_url: `http://127.0.0.1:${closedPort()}/v1` },
      { name: "garbage", base_url: garbage.url },
      { name: "good", base_url: good.url },
    ],
  });
  const response = await fetch(`${proxy.url}/v1/models`);
  assert.equal(response.status, 200);
  assert.deepEqual(await listedIds(response), ["good-model"]);
  assert.equal(garbage.requests[0].path, "/v1/models");
  for (const name of ["down", "garbage"]) {
    assert.ok(proxy.logs.some((line) => line.includes(`Model list of upstream "${name}" skipped`)), name);
  }
});

/** A model list that trickles on forever. */
function* endlessList(): Generator<string> {
  yield '{"object":"list","data":[{"id":"first"}';
  for (let index = 0;; index++) yield `,{"id":"endless-${index}"}`;
}

Deno.test("/v1/models answers without an upstream whose list trickles on forever, once its deadline passes", async () => {
  await using good = await startMockUpstream({ models: ["good-model"] });
  await using stuck = await startMockUpstream({ scenario: () => ({ rawSse: endlessList(), chunkDelayMs: 20 }) });
  await using proxy = await startProxy({
    upstreams: [
      { name: "stuck", base_url: stuck.url, response_timeout_seconds: 0.3 },
      { name: "good", base_url: good.url },
    ],
  });
  const response = await fetch(`${proxy.url}/v1/models`);
  assert.equal(response.status, 200);
  assert.deepEqual(await listedIds(response), ["good-model"]);
  await stuck.waitForAbort(0);
});

/** A valid model list of about `mebibytes` MiB, written lazily in pieces of about 1 KiB. */
function* hugeList(mebibytes: number): Generator<string> {
  yield '{"object":"list","data":[';
  for (let index = 0; index < mebibytes * 1024; index++) {
    yield `${index === 0 ? "" : ","}{"id":"huge-${index}-${"x".repeat(1000)}","object":"model"}`;
  }
  yield "]}";
}

Deno.test("ModelList reads each upstream's list only up to its cap and skips one that is larger", async () => {
  await using good = await startMockUpstream({ models: ["good-model"] });
  // Larger than loopback socket buffers can hold, so the mock sees the proxy stop reading.
  await using big = await startMockUpstream({ scenario: () => ({ rawSse: hugeList(16) }) });
  await using proxy = await startProxy({
    upstreams: [{ name: "big", base_url: big.url }, { name: "good", base_url: good.url }],
  });
  const models = await new ModelList(proxy.app.context, { maxBytes: 64 * 1024 }).get(new Headers());
  assert.deepEqual(models.map((model) => model.id), ["good-model"]);
  assert.ok(proxy.logs.some((line) => line.includes('upstream "big" skipped') && line.includes("65536 bytes")));
  await big.waitForAbort(0);
});

Deno.test("/v1/models honours the upstream's max_response_bytes, not only the list's own cap", async () => {
  await using good = await startMockUpstream({ models: ["good-model"] });
  const many = Array.from({ length: 100 }, (_, index) => `small-upstream-model-${index}`);
  await using small = await startMockUpstream({ models: many });
  await using proxy = await startProxy({
    upstreams: [{ name: "small", base_url: small.url, max_response_bytes: 1024 }, { name: "good", base_url: good.url }],
  });
  const response = await fetch(`${proxy.url}/v1/models`);
  assert.deepEqual(await listedIds(response), ["good-model"]);
  assert.ok(proxy.logs.some((line) => line.includes('upstream "small" skipped') && line.includes("1024 bytes")));
});

Deno.test("/v1/models honours the upstream's idle timeout within the list's deadline", async () => {
  await using good = await startMockUpstream({ models: ["good-model"] });
  // The list pauses a second between its pieces: longer than the upstream may stay idle, well within the deadline.
  const pieces = ['{"object":"list","data":[', '{"id":"slow-model"}', "]}"];
  await using slow = await startMockUpstream({ scenario: () => ({ rawSse: pieces, chunkDelayMs: 1000 }) });
  await using proxy = await startProxy({
    upstreams: [
      { name: "slow", base_url: slow.url, timeout_seconds: 0.2, response_timeout_seconds: 5 },
      { name: "good", base_url: good.url },
    ],
  });
  const response = await fetch(`${proxy.url}/v1/models`);
  assert.deepEqual(await listedIds(response), ["good-model"]);
  assert.ok(proxy.logs.some((line) => line.includes('upstream "slow" skipped')));
});
