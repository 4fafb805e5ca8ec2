/**
 * End-to-end: `/health` reports what the upstream probes found, and the probes run periodically until stopped.
 */

import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";

interface HealthUpstream {
  name: string;
  reachable?: boolean | null;
  last_error?: string | null;
  checked_at?: string | null;
}

async function health(url: string): Promise<{ status: string; upstreams: HealthUpstream[] }> {
  return await (await fetch(`${url}/health`)).json();
}

/** A base URL where nothing listens: a mock upstream's, after closing it. */
async function deadUrl(): Promise<string> {
  const mock = await startMockUpstream();
  await mock.close();
  return mock.url;
}

Deno.test("/health is degraded while an upstream does not answer its probe, naming the error", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "up", base_url: mock.url }, { name: "down", base_url: await deadUrl() }],
    model_upstream_binding: { "*": "up" },
  });
  const before = await health(proxy.url);
  assert.equal(before.status, "ok", "nothing is known before the first probe");
  assert.deepEqual(before.upstreams.map((u) => u.reachable), [null, null]);

  await proxy.app.upstreamHealth.probeAll();
  const after = await health(proxy.url);
  assert.equal(after.status, "degraded");
  const [up, down] = after.upstreams;
  assert.equal(up.reachable, true);
  assert.equal(up.last_error, null);
  assert.ok(!Number.isNaN(Date.parse(up.checked_at ?? "")));
  assert.equal(down.reachable, false);
  assert.match(down.last_error ?? "", /Could not reach upstream|refused/i);
  assert.deepEqual(mock.requests.map((r) => `${r.method} ${r.path}`), ["GET /v1/models"]);
  assert.ok(
    proxy.logs.some((l) => / WARN .*Upstream "down" probe failed: .*\/v1\/models/.test(l)),
    proxy.logs.join("\n"),
  );
});

Deno.test("/health stays ok when every upstream answers, and a 404 probe is reachable but names base_url", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "a", base_url: mock.url }, { name: "b", base_url: `${mock.url}/v1` }],
    model_upstream_binding: { "*": "a" },
  });
  await proxy.app.upstreamHealth.probeAll();
  const report = await health(proxy.url);
  assert.equal(report.status, "ok");
  assert.equal(report.upstreams[0].last_error, null);
  assert.equal(report.upstreams[1].reachable, true);
  assert.match(
    report.upstreams[1].last_error ?? "",
    /\/v1\/v1\/models answered 404: is base_url the upstream's API root/,
  );
});

Deno.test("upstream probes repeat every interval until stopped, and see an upstream go down", async () => {
  const mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "m", base_url: mock.url }],
    health_check: { interval_seconds: 0.05, timeout_seconds: 0.5 },
  });
  proxy.app.upstreamHealth.start();
  await mock.waitForRequests(2);
  assert.equal((await health(proxy.url)).upstreams[0].reachable, true);
  await mock.close();
  let report = await health(proxy.url);
  for (let i = 0; i < 200 && report.status !== "degraded"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    report = await health(proxy.url);
  }
  assert.equal(report.status, "degraded");
  assert.equal(report.upstreams[0].reachable, false);
  await proxy.app.upstreamHealth.stop();
});

Deno.test("health_check.interval_seconds 0 disables the probes and the reachability fields", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "m", base_url: mock.url }],
    health_check: { interval_seconds: 0 },
  });
  proxy.app.upstreamHealth.start();
  const report = await health(proxy.url);
  assert.equal(report.status, "ok");
  assert.equal("reachable" in report.upstreams[0], false);
  assert.equal(mock.requests.length, 0);
});

Deno.test("an upstream whose api_key_env is not set is not probed and shows why in /health", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [{ name: "keyed", base_url: mock.url, api_key_env: "HEALTH_TEST_UNSET_KEY" }],
  });
  await proxy.app.upstreamHealth.probeAll();
  const [keyed] = (await health(proxy.url)).upstreams;
  assert.equal(keyed.reachable, false);
  assert.match(keyed.last_error ?? "", /HEALTH_TEST_UNSET_KEY is not set/);
  assert.equal(mock.requests.length, 0);
});
