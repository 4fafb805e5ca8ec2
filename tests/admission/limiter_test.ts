import assert from "node:assert/strict";
import {
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  DEFAULT_RETRY_AFTER_SECONDS,
  type Slot,
} from "../../src/admission/limiter.ts";
import { AdmissionError, QueueFullError, QueueTimeoutError } from "../../src/admission/errors.ts";
import { FakeClock, settle } from "./fake_clock.ts";

/** A limiter on a fake clock that records its log lines and the order in which requests got their slots. */
function setup(options: ConcurrencyLimiterOptions = {}) {
  const clock = new FakeClock();
  const lines: string[] = [];
  const limiter = new ConcurrencyLimiter({
    clock,
    log: (level, message) => lines.push(`${level}: ${message}`),
    ...options,
  });
  const granted: string[] = [];
  const slots = new Map<string, Slot>();
  /** Starts acquiring; `label` names the request in `granted` and `slots`. */
  const request = (label: string, model: string, signal?: AbortSignal) => {
    const promise = limiter.acquire(model, { signal }).then((slot) => {
      granted.push(label);
      slots.set(label, slot);
      return slot;
    });
    promise.catch(() => {});
    return promise;
  };
  return { clock, limiter, lines, granted, slots, request };
}

Deno.test("ConcurrencyLimiter grants at once while under the limit", async () => {
  const { limiter, request, granted } = setup({ limits: { "glm-5": 2 } });
  await request("a", "glm-5");
  await request("b", "glm-5");
  assert.deepEqual(granted, ["a", "b"]);
  assert.deepEqual(limiter.snapshot().models["glm-5"], { limit: 2, inUse: 2, waiting: 0, longestWaitMs: 0 });
});

Deno.test("ConcurrencyLimiter queues beyond the model limit and grants in FIFO order", async () => {
  const { limiter, request, granted, slots } = setup({ limits: { "glm-5": 1 } });
  await request("a", "glm-5");
  request("b", "glm-5");
  request("c", "glm-5");
  await settle();
  assert.deepEqual(granted, ["a"]);
  assert.equal(limiter.snapshot().models["glm-5"].waiting, 2);
  slots.get("a")!.release();
  await settle();
  assert.deepEqual(granted, ["a", "b"]);
  slots.get("b")!.release();
  await settle();
  assert.deepEqual(granted, ["a", "b", "c"]);
});

Deno.test("ConcurrencyLimiter lets a free model pass a full one (no head-of-line blocking)", async () => {
  const { limiter, request, granted } = setup({ limits: { global: 2, A: 1 } });
  await request("a1", "A");
  request("a2", "A");
  await settle();
  // a2 waits for A's slot without holding a global slot, so B still finds one free.
  await request("b1", "B");
  assert.deepEqual(granted, ["a1", "b1"]);
  assert.equal(limiter.snapshot().global?.inUse, 2);
});

Deno.test("ConcurrencyLimiter grants a freed global slot to the oldest eligible waiter", async () => {
  const { request, granted, slots } = setup({ limits: { global: 2, A: 1 } });
  await request("a1", "A");
  await request("b1", "B");
  request("a2", "A"); // blocked by A's limit and the global limit
  request("b2", "B"); // blocked by the global limit only
  await settle();
  slots.get("b1")!.release();
  await settle();
  // a2 is older but A is still full, so b2 gets the global slot.
  assert.deepEqual(granted, ["a1", "b1", "b2"]);
  slots.get("a1")!.release();
  await settle();
  assert.deepEqual(granted, ["a1", "b1", "b2", "a2"]);
});

Deno.test("ConcurrencyLimiter orders waiters across models by arrival", async () => {
  const { request, granted, slots } = setup({ limits: { global: 1 } });
  await request("first", "A");
  request("b", "B");
  request("a", "A");
  request("c", "C");
  await settle();
  for (const label of ["first", "b", "a"]) {
    slots.get(label)!.release();
    await settle();
  }
  assert.deepEqual(granted, ["first", "b", "a", "c"]);
});

Deno.test("ConcurrencyLimiter gives each model matching a pattern its own pool", async () => {
  const { limiter, request, granted } = setup({ limits: { "qwen3-*": 1, "qwen3-coder": 2 } });
  await request("8b", "qwen3-8b");
  await request("32b", "qwen3-32b");
  await request("coder1", "qwen3-coder");
  await request("coder2", "qwen3-coder");
  request("8b-2", "qwen3-8b");
  await settle();
  assert.deepEqual(granted, ["8b", "32b", "coder1", "coder2"]);
  const { models } = limiter.snapshot();
  assert.deepEqual(models["qwen3-8b"], { limit: 1, inUse: 1, waiting: 1, longestWaitMs: 0 });
  assert.equal(models["qwen3-coder"].limit, 2);
});

Deno.test("ConcurrencyLimiter rejects with QueueFullError when the model's queue is full", async () => {
  const { limiter, request } = setup({ limits: { A: 1 }, queue: { maxWaiting: 1 } });
  await request("a1", "A");
  request("a2", "A");
  await assert.rejects(limiter.acquire("A"), (error: unknown) => {
    assert.ok(error instanceof QueueFullError && error instanceof AdmissionError);
    assert.equal(error.model, "A");
    assert.equal(error.scope, "model");
    assert.equal(error.limit, 1);
    assert.equal(error.waiting, 1);
    assert.equal(error.retryAfterSeconds, DEFAULT_RETRY_AFTER_SECONDS);
    assert.equal(error.message, 'Too many requests waiting for a slot for model "A" (limit: 1): 1 already queued');
    return true;
  });
  assert.equal(limiter.snapshot().models.A.waiting, 1);
});

Deno.test("ConcurrencyLimiter with maxWaiting 0 rejects whenever no slot is free", async () => {
  const { limiter, request } = setup({ limits: { global: 1 }, queue: { maxWaiting: 0 } });
  await request("a", "A");
  await assert.rejects(limiter.acquire("B"), (error: unknown) => {
    assert.ok(error instanceof QueueFullError);
    assert.equal(error.scope, "global");
    assert.equal(error.limit, 1);
    return true;
  });
  assert.deepEqual(Object.keys(limiter.snapshot().models), ["A"]);
});

Deno.test("ConcurrencyLimiter applies per-model queue bounds by pattern", async () => {
  const { limiter, request } = setup({
    limits: { global: 1 },
    queue: { maxWaiting: 5 },
    queueByModel: { "glm-*": { maxWaiting: 0 } },
  });
  await request("a", "qwen");
  request("b", "qwen");
  await settle();
  await assert.rejects(limiter.acquire("glm-5"), QueueFullError);
  assert.equal(limiter.snapshot().models.qwen.waiting, 1);
});

Deno.test("ConcurrencyLimiter rejects with QueueTimeoutError after the queue timeout", async () => {
  const { clock, limiter, request, granted, slots } = setup({ limits: { A: 1 }, queue: { timeoutSeconds: 30 } });
  await request("a1", "A");
  const late = request("a2", "A");
  await clock.advance(10_000);
  request("a3", "A");
  await clock.advance(19_999);
  assert.equal(limiter.snapshot().models.A.waiting, 2);
  await clock.advance(1);
  await assert.rejects(late, (error: unknown) => {
    assert.ok(error instanceof QueueTimeoutError);
    assert.equal(error.scope, "model");
    assert.equal(error.waiting, 2);
    assert.equal(error.message, 'Timed out after 30s waiting for a slot for model "A" (limit: 1)');
    return true;
  });
  assert.equal(limiter.snapshot().models.A.waiting, 1);
  slots.get("a1")!.release();
  await settle();
  assert.deepEqual(granted, ["a1", "a3"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("ConcurrencyLimiter with a null timeout waits without a timer", async () => {
  const { clock, request, granted, slots } = setup({ limits: { A: 1 }, queue: { timeoutSeconds: null } });
  await request("a1", "A");
  request("a2", "A");
  await settle();
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(10_000_000);
  slots.get("a1")!.release();
  await settle();
  assert.deepEqual(granted, ["a1", "a2"]);
});

Deno.test("ConcurrencyLimiter removes an aborted waiter at once and rejects with the signal's reason", async () => {
  const { clock, limiter, request, granted, slots } = setup({ limits: { A: 1 }, queue: { timeoutSeconds: 300 } });
  await request("a1", "A");
  const controller = new AbortController();
  const gone = request("a2", "A", controller.signal);
  request("a3", "A");
  await settle();
  const reason = new Error("Client disconnected");
  controller.abort(reason);
  await assert.rejects(gone, (error) => error === reason);
  assert.equal(limiter.snapshot().models.A.waiting, 1);
  assert.equal(clock.pendingTimers, 1);
  slots.get("a1")!.release();
  await settle();
  assert.deepEqual(granted, ["a1", "a3"]);
});

Deno.test("ConcurrencyLimiter rejects an already aborted signal without taking a free slot", async () => {
  const { limiter } = setup({ limits: { A: 1 } });
  await assert.rejects(limiter.acquire("A", { signal: AbortSignal.abort(new Error("gone")) }), /gone/);
  assert.deepEqual(limiter.snapshot().models.A, { limit: 1, inUse: 0, waiting: 0, longestWaitMs: 0 });
});

Deno.test("ConcurrencyLimiter releases idempotently", async () => {
  const { limiter, request, granted, slots } = setup({ limits: { A: 2 } });
  await request("a1", "A");
  await request("a2", "A");
  request("a3", "A");
  request("a4", "A");
  await settle();
  const slot = slots.get("a1")!;
  slot.release();
  slot.release();
  slot[Symbol.dispose]();
  await settle();
  assert.deepEqual(granted, ["a1", "a2", "a3"]);
  assert.equal(limiter.snapshot().models.A.inUse, 2);
});

Deno.test("ConcurrencyLimiter slot is released when a using block exits", async () => {
  const { limiter } = setup({ limits: { A: 1 } });
  {
    using _slot = await limiter.acquire("A");
    assert.equal(limiter.snapshot().models.A.inUse, 1);
  }
  assert.equal(limiter.snapshot().models.A.inUse, 0);
});

Deno.test("ConcurrencyLimiter admits unlimited models at once and tracks them while active", async () => {
  const { limiter, lines } = setup();
  const slots = await Promise.all([1, 2, 3].map(() => limiter.acquire("anything")));
  assert.deepEqual(limiter.snapshot(), {
    models: { anything: { limit: null, inUse: 3, waiting: 0, longestWaitMs: 0 } },
  });
  for (const slot of slots) slot.release();
  assert.deepEqual(limiter.snapshot(), { models: {} });
  assert.deepEqual(lines, []);
});

Deno.test("ConcurrencyLimiter snapshot lists idle exact-name models and the longest wait", async () => {
  const { clock, limiter, request } = setup({ limits: { global: 1, "glm-5": 1, "qwen*": 2 } });
  await request("a", "other");
  request("b", "glm-5");
  await clock.advance(1_000);
  request("c", "other");
  await clock.advance(500);
  assert.deepEqual(limiter.snapshot(), {
    global: { limit: 1, inUse: 1, waiting: 2, longestWaitMs: 1_500 },
    models: {
      "glm-5": { limit: 1, inUse: 0, waiting: 1, longestWaitMs: 1_500 },
      other: { limit: null, inUse: 1, waiting: 1, longestWaitMs: 500 },
    },
  });
});

Deno.test("ConcurrencyLimiter snapshot gives whole milliseconds", async () => {
  const { clock, limiter, request } = setup({ limits: { "glm-5": 1 } });
  await request("a", "glm-5");
  request("b", "glm-5");
  await clock.advance(0.3);
  await clock.advance(1_000.4);
  assert.equal(limiter.snapshot().models["glm-5"].longestWaitMs, 1_001);
});

// Queueing is news (info); acquiring and releasing happen for every request, so they are debug lines.
Deno.test("ConcurrencyLimiter logs seed-style queue and slot lines", async () => {
  const { limiter, lines, request, slots } = setup({ limits: { global: 2, "glm-5": 1 } });
  await request("a", "glm-5");
  request("b", "glm-5");
  await request("c", "qwen");
  request("d", "qwen");
  await settle();
  slots.get("a")!.release();
  await settle();
  assert.deepEqual(lines, [
    "debug: Global slot acquired, used: 1/2",
    "debug: Slot acquired glm-5, used: 1/1",
    "info: Queueing for glm-5, 1 request waiting (limit: 1)",
    "debug: Global slot acquired, used: 2/2",
    "info: Queueing for global limit, 1 request waiting (limit: 2)",
    "debug: Slot released glm-5, used: 0/1",
    "debug: Global slot released, used: 1/2",
    "debug: Global slot acquired, used: 2/2",
    "debug: Slot acquired glm-5, used: 1/1",
  ]);
  assert.equal(limiter.snapshot().global?.waiting, 1);
});

Deno.test("ConcurrencyLimiter suggests retryAfterSeconds from the mean slot hold time", async () => {
  const { clock, limiter, request, slots } = setup({ limits: { A: 2 }, queue: { maxWaiting: 3 } });
  await request("a1", "A");
  await clock.advance(20_000);
  slots.get("a1")!.release(); // held 20 s
  await request("a2", "A");
  await request("a3", "A");
  for (const label of ["w1", "w2", "w3"]) request(label, "A");
  await settle();
  // 3 waiting + this one, 2 at a time, 20 s each: 40 s.
  await assert.rejects(limiter.acquire("A"), (error: unknown) => {
    assert.ok(error instanceof QueueFullError);
    assert.equal(error.retryAfterSeconds, 40);
    return true;
  });
});

Deno.test("ConcurrencyLimiter rejects invalid limits and queue bounds", () => {
  const cases: ConcurrencyLimiterOptions[] = [
    { limits: { A: 0 } },
    { limits: { global: 1.5 } },
    { queue: { maxWaiting: -1 } },
    { queue: { timeoutSeconds: 0 } },
    { queueByModel: { "a*": { timeoutSeconds: -5 } } },
  ];
  for (const options of cases) {
    assert.throws(() => new ConcurrencyLimiter(options), RangeError, JSON.stringify(options));
  }
});
