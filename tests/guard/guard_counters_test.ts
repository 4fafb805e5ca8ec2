import assert from "node:assert/strict";
import { GuardCounters } from "../../src/guard/guard_counters.ts";

Deno.test("GuardCounters counts incidents, retries and continuations per model", () => {
  const counters = new GuardCounters();
  counters.detection("a", "periodic-tail");
  counters.detection("a", "periodic-tail");
  counters.detection("a", "validator");
  counters.retry("a");
  counters.continuation("a");
  counters.exhausted("b");
  const snapshot = counters.snapshot();
  assert.deepEqual(snapshot.a.detections, { "periodic-tail": 2, validator: 1 });
  assert.deepEqual([snapshot.a.retries, snapshot.a.continuations, snapshot.a.exhausted], [1, 1, 0]);
  assert.equal(snapshot.b.exhausted, 1);
});

Deno.test("GuardCounters averages validator latency and counts failures", () => {
  const counters = new GuardCounters();
  counters.detection("a", "x");
  assert.equal(counters.snapshot().a.validator_avg_latency_ms, null);
  counters.validatorCall("a", { ok: true, latencyMs: 100 });
  counters.validatorCall("a", { ok: false, latencyMs: 301 });
  const figures = counters.snapshot().a;
  assert.equal(figures.validator_calls, 2);
  assert.equal(figures.validator_failures, 1);
  assert.equal(figures.validator_avg_latency_ms, 201);
});

Deno.test("GuardCounters folds models past the 256th into one entry", () => {
  const counters = new GuardCounters();
  for (let i = 0; i < 300; i++) counters.retry(`model-${i}`);
  const snapshot = counters.snapshot();
  assert.equal(Object.keys(snapshot).length, 257);
  assert.equal(snapshot["(other)"].retries, 44);
  counters.retry("model-0");
  assert.equal(counters.snapshot()["model-0"].retries, 2);
});
