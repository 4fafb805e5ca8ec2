import assert from "node:assert/strict";
import { BodyBudget } from "../../src/http/body_budget.ts";
import { ProxyError } from "../../src/http/errors.ts";

Deno.test("BodyBudget grants in arrival order as bytes come back, and a release is counted once", async () => {
  const budget = new BodyBudget({ capacityBytes: 100, waitMs: 10_000 });
  const first = await budget.reserve(60);
  const order: string[] = [];
  const big = budget.reserve(80).then((release) => (order.push("big"), release));
  const small = budget.reserve(10).then((release) => (order.push("small"), release));
  await Promise.resolve();
  assert.deepEqual(order, [], "the small one waits behind the big one");
  first();
  first();
  const releaseBig = await big;
  const releaseSmall = await small;
  assert.deepEqual(order, ["big", "small"]);
  assert.equal(budget.used, 90);
  releaseBig();
  releaseSmall();
  assert.equal(budget.used, 0);
});

Deno.test("BodyBudget caps a reservation at its capacity, so one body never waits forever", async () => {
  const budget = new BodyBudget({ capacityBytes: 100, waitMs: 10_000 });
  const release = await budget.reserve(1_000);
  assert.equal(budget.used, 100);
  release();
});

Deno.test("BodyBudget answers 503 after the wait, and a client that leaves the line frees its place", async () => {
  const budget = new BodyBudget({ capacityBytes: 100, waitMs: 30 });
  const held = await budget.reserve(100);
  await assert.rejects(budget.reserve(1), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.headers["retry-after"]], [503, "1"]);
    return true;
  });
  const client = new AbortController();
  const patient = new BodyBudget({ capacityBytes: 100, waitMs: 10_000 });
  const heldToo = await patient.reserve(100);
  const leaving = patient.reserve(50, client.signal);
  const staying = patient.reserve(50);
  client.abort(new Error("client gone"));
  await assert.rejects(leaving, /client gone/);
  heldToo();
  const release = await staying;
  assert.equal(patient.used, 50);
  release();
  held();
});
