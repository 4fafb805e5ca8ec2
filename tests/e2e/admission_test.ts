/**
 * End-to-end: concurrency limits with a bounded queue, and the throttle, as wired into the request path. A slot is
 * keyed by the upstream model name, taken before the throttle's turn, and released once when the response body
 * ends, whichever way it ends.
 *
 * Timing: tests assert order and state. Where a test asserts a gap, it is a lower bound only, measured from a time
 * read no later than the event it bounds (a client's send, the mock's answer after a gate opened, plus the mock's
 * own pauses between chunks), so no slack is needed.
 */

import assert from "node:assert/strict";
import type { PoolFigures } from "../../src/admission/limiter.ts";
import type { JsonObject } from "../support/json_guards.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { postJson } from "../support/http.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";
import { readSse } from "../support/sse.ts";
import {
  chatBody,
  createGate,
  holdTagged,
  messagesBody,
  proxyConfig,
  tagOf,
  upstreamJson,
  waitUntil,
} from "./harness.ts";

const CHAT = "/v1/chat/completions";
const MESSAGES = "/v1/messages";

/** The live figures of `model`'s pool (the zero pool when the limiter has forgotten it). */
function pool(proxy: TestProxy, model: string): PoolFigures {
  return proxy.app.context.limiter.snapshot().models[model] ?? { limit: null, inUse: 0, waiting: 0, longestWaitMs: 0 };
}

/** Waits until `model`'s pool shows `waiting` queued requests. */
function waitForQueued(proxy: TestProxy, model: string, waiting: number): Promise<void> {
  return waitUntil(() => pool(proxy, model).waiting === waiting, `${waiting} queued for ${model}`);
}

/** Waits until no slot of `model` (nor a global one) is held and nobody waits. */
function waitForIdle(proxy: TestProxy, model: string): Promise<void> {
  return waitUntil(() => {
    const { global } = proxy.app.context.limiter.snapshot();
    const figures = pool(proxy, model);
    return figures.inUse === 0 && figures.waiting === 0 && (global?.inUse ?? 0) === 0;
  }, `the slots of ${model} to be released`);
}

/** How many log lines contain `text`. */
function countLines(proxy: TestProxy, text: string): number {
  return proxy.logs.filter((line) => line.includes(text)).length;
}

/** Whether request `id` (e.g. `req-2`) has written its final line with `outcome`. */
function finishedWith(proxy: TestProxy, id: string, outcome: "complete" | "error" | "cancelled"): boolean {
  return proxy.logs.some((line) => line.includes(`[${id}] `) && line.includes(`outcome=${outcome}`));
}

/** The tags of the requests the mock received, in arrival order. */
function arrivals(mock: MockUpstream): string[] {
  return mock.requests.map((request) => tagOf(request.json));
}

/** Resolves after `ms`, for tests that must let time pass before acting (never asserted on). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A request whose client can go away: the pending response (or the error it ended with) and the abort switch. */
function abortableRequest(url: string, body: JsonObject): { done: Promise<unknown>; abort: () => void } {
  const controller = new AbortController();
  const done = postJson(url, body, { signal: controller.signal }).then(
    (response) => response.body?.cancel(),
    (error: unknown) => error,
  );
  return { done, abort: () => controller.abort() };
}

Deno.test("ConcurrencyLimiter holds a second request until the first one's body has ended", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, { config: { parallel_limits: { m: 1 } } }));
  using gate = createGate();
  const CHUNK_DELAY_MS = 30;
  let firstAnsweredAt = 0;
  let secondArrivedAt = 0;
  mock.setScenario(async (request) => {
    if (tagOf(request.json) === "second") {
      secondArrivedAt = performance.now();
    } else {
      await gate.opened;
      firstAnsweredAt = performance.now();
    }
    // The body takes a while after the headers: a slot released at the headers would let "second" in early.
    return { text: "one two three four", chunks: 4, chunkDelayMs: CHUNK_DELAY_MS };
  });
  const first = postJson(`${proxy.url}${CHAT}`, chatBody("m", { stream: true }, "first"));
  await mock.waitForRequests(1);
  const second = postJson(`${proxy.url}${CHAT}`, chatBody("m", { stream: true }, "second"));
  await waitForQueued(proxy, "m", 1);
  assert.equal(mock.requests.length, 1);
  const health = await (await fetch(`${proxy.url}/health`)).json();
  assert.deepEqual({ ...health.concurrency.models.m, longestWaitMs: 0 }, {
    limit: 1,
    inUse: 1,
    waiting: 1,
    longestWaitMs: 0,
  });

  gate.open();
  const firstEvents = await readSse(await first);
  assert.equal(firstEvents.at(-1)?.data, "[DONE]");
  assert.equal((await readSse(await second)).at(-1)?.data, "[DONE]");
  assert.deepEqual(arrivals(mock), ["first", "second"]);
  // The mock paused between the first body's events, so that body ended no earlier than this after it answered.
  const firstBodyTookAtLeast = (firstEvents.length - 1) * CHUNK_DELAY_MS;
  const gap = secondArrivedAt - firstAnsweredAt;
  assert.ok(gap >= firstBodyTookAtLeast, `second arrived ${gap} ms after the first answer began`);
  const lines = proxy.logs.map((line) => line.replace(/^\S+ \S+\s+/, ""));
  const at = (text: string, from = 0) => lines.findIndex((line, index) => index >= from && line.includes(text));
  const queued = at("Queueing for m, 1 request waiting (limit: 1)");
  const released = at("Slot released m, used: 0/1");
  assert.ok(at("Slot acquired m, used: 1/1") < queued && queued < released, lines.join("\n"));
  assert.ok(at("Slot acquired m, used: 1/1", released) > released, "the second request took the freed slot");
  // Each line names its request, as the seed's `[R:n]` did: the first request acquired, the second queued.
  assert.match(lines[at("Slot acquired m, used: 1/1")], /^\[req-1\] /);
  assert.match(lines[queued], /^\[req-2\] /);
  await waitForIdle(proxy, "m");
});

Deno.test("ConcurrencyLimiter never blocks another model behind a queued request", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    // The queue timeout is a safety net: a "b" wrongly queued behind "a2" fails in 5 s instead of 300.
    config: { parallel_limits: { global: 2, a: 1 }, queue: { timeout_seconds: 5 } },
  }));
  using gate = holdTagged(mock, "a1");
  const a1 = postJson(`${proxy.url}${CHAT}`, chatBody("a", {}, "a1"));
  await mock.waitForRequests(1);
  const a2 = postJson(`${proxy.url}${CHAT}`, chatBody("a", {}, "a2"));
  await waitForQueued(proxy, "a", 1);
  // a2 waits for its model slot without holding a global one, so b gets the second global slot.
  const b1 = await postJson(`${proxy.url}${CHAT}`, chatBody("b", {}, "b1"));
  assert.equal(b1.status, 200);
  await b1.body?.cancel();
  assert.deepEqual(arrivals(mock), ["a1", "b1"]);
  assert.equal(pool(proxy, "a").waiting, 1);

  gate.open();
  for (const response of [await a1, await a2]) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  assert.deepEqual(arrivals(mock), ["a1", "b1", "a2"]);
  await waitForIdle(proxy, "a");
});

Deno.test("ConcurrencyLimiter keys slots by the upstream model name, after renames", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    upstream: { supports_anthropic: false },
    config: { parallel_limits: { qwen3: 1 }, models: { "qwen3:precise": { rename: "qwen3" } } },
  }));
  using gate = holdTagged(mock, "virtual");
  const virtual = postJson(`${proxy.url}${CHAT}`, chatBody("qwen3:precise", {}, "virtual"));
  await mock.waitForRequests(1);
  assert.equal(pool(proxy, "qwen3").inUse, 1);
  assert.equal(proxy.app.context.limiter.snapshot().models["qwen3:precise"], undefined);
  // An Anthropic client converted to the OpenAI upstream asks for the same upstream model.
  const real = postJson(`${proxy.url}${MESSAGES}`, messagesBody("qwen3", {}, "real"));
  await waitForQueued(proxy, "qwen3", 1);
  gate.open();
  for (const response of [await virtual, await real]) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  assert.deepEqual(mock.requests.map((_, index) => upstreamJson(mock, index).model), ["qwen3", "qwen3"]);
  await waitForIdle(proxy, "qwen3");
});

/**
 * Runs `body` with the proxy's `m` slot (limit 1) held by a request the mock answers only when `body` is done.
 * `body` returns the requests it left queued; they must then be served, after the holder.
 */
async function withSlotHeld(
  config: Record<string, unknown>,
  body: (proxy: TestProxy, mock: MockUpstream) => Promise<Promise<Response>[] | void>,
): Promise<void> {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, { config: { parallel_limits: { m: 1 }, ...config } }));
  using gate = holdTagged(mock, "holder");
  const holder = postJson(`${proxy.url}${CHAT}`, chatBody("m", {}, "holder"));
  await mock.waitForRequests(1);
  const queued = await body(proxy, mock) ?? [];
  gate.open();
  for (const response of [await holder, ...await Promise.all(queued)]) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  assert.equal(mock.requests.length, 1 + queued.length);
  await waitForIdle(proxy, "m");
}

/** Checks a rejection: status, a positive integer `Retry-After`, the error shape of the client's protocol. */
async function assertRejected(
  response: Response,
  expected: { status: number; protocol: "openai" | "anthropic"; type: string; message: RegExp },
): Promise<void> {
  assert.equal(response.status, expected.status);
  const retryAfter = response.headers.get("retry-after") ?? "";
  assert.match(retryAfter, /^[1-9]\d*$/);
  const body = await response.json();
  if (expected.protocol === "anthropic") {
    assert.equal(body.type, "error");
    assert.equal(body.error.type, expected.type);
    assert.match(body.error.message, expected.message);
  } else {
    assert.equal(body.error.type, expected.type);
    assert.match(body.error.message, expected.message);
  }
}

Deno.test("ConcurrencyLimiter with max_waiting 0 rejects at once with 429 and Retry-After in the client's shape", async () => {
  await withSlotHeld({ queue: { max_waiting: 0 } }, async (proxy, mock) => {
    const full = /Too many requests waiting for a slot for model "m" \(limit: 1\)/;
    await assertRejected(await postJson(`${proxy.url}${CHAT}`, chatBody("m")), {
      status: 429,
      protocol: "openai",
      type: "rate_limit_error",
      message: full,
    });
    await assertRejected(await postJson(`${proxy.url}${MESSAGES}`, messagesBody("m")), {
      status: 429,
      protocol: "anthropic",
      type: "rate_limit_error",
      message: full,
    });
    assert.equal(mock.requests.length, 1);
    assert.equal(countLines(proxy, "Queue full for m, 0 requests waiting (max: 0)"), 2);
    assert.ok(finishedWith(proxy, "req-2", "error"));
  });
});

Deno.test("ConcurrencyLimiter with max_waiting 1 queues one request and rejects the next", async () => {
  await withSlotHeld({ queue: { max_waiting: 1 } }, async (proxy, mock) => {
    const queued = postJson(`${proxy.url}${CHAT}`, chatBody("m", {}, "queued"));
    await waitForQueued(proxy, "m", 1);
    await assertRejected(await postJson(`${proxy.url}${MESSAGES}`, messagesBody("m")), {
      status: 429,
      protocol: "anthropic",
      type: "rate_limit_error",
      message: /1 already queued/,
    });
    assert.equal(mock.requests.length, 1);
    return [queued];
  });
});

Deno.test("ConcurrencyLimiter rejects with 503 when queue.status is 503", async () => {
  await withSlotHeld({ queue: { max_waiting: 0, status: 503 } }, async (proxy) => {
    await assertRejected(await postJson(`${proxy.url}${MESSAGES}`, messagesBody("m")), {
      status: 503,
      protocol: "anthropic",
      type: "overloaded_error",
      message: /Too many requests waiting/,
    });
    await assertRejected(await postJson(`${proxy.url}${CHAT}`, chatBody("m")), {
      status: 503,
      protocol: "openai",
      type: "server_error",
      message: /Too many requests waiting/,
    });
  });
});

Deno.test("ConcurrencyLimiter applies queue.per_model bounds to the matching models only", async () => {
  await withSlotHeld({ queue: { per_model: { "m*": { max_waiting: 0 } } } }, async (proxy) => {
    const rejected = await postJson(`${proxy.url}${CHAT}`, chatBody("m"));
    assert.equal(rejected.status, 429);
    await rejected.body?.cancel();
  });
  await withSlotHeld({ queue: { per_model: { "x*": { max_waiting: 0 } } } }, async (proxy) => {
    // Not matched, so the default bound applies and the request queues.
    const queued = postJson(`${proxy.url}${CHAT}`, chatBody("m"));
    await waitForQueued(proxy, "m", 1);
    return [queued];
  });
});

Deno.test("ConcurrencyLimiter times a queued request out with 429 after queue.timeout_seconds", async () => {
  await withSlotHeld({ queue: { timeout_seconds: 0.2 } }, async (proxy, mock) => {
    await assertRejected(await postJson(`${proxy.url}${MESSAGES}`, messagesBody("m")), {
      status: 429,
      protocol: "anthropic",
      type: "rate_limit_error",
      message: /Timed out after 0\.2s waiting for a slot for model "m"/,
    });
    assert.equal(pool(proxy, "m").waiting, 0);
    assert.equal(mock.requests.length, 1);
    assert.equal(countLines(proxy, "Queue timeout for m after 0.2s"), 1);
  });
});

Deno.test("ConcurrencyLimiter drops a queued request whose client disconnects, before it reaches upstream", async () => {
  await withSlotHeld({}, async (proxy, mock) => {
    const leaving = abortableRequest(`${proxy.url}${CHAT}`, chatBody("m", {}, "leaving"));
    await waitForQueued(proxy, "m", 1);
    leaving.abort();
    await leaving.done;
    await waitForQueued(proxy, "m", 0);
    await waitUntil(() => finishedWith(proxy, "req-2", "cancelled"), "the cancelled request's final line");
    assert.equal(pool(proxy, "m").inUse, 1);
    assert.equal(mock.requests.length, 1);
  });
});

Deno.test("ConcurrencyLimiter serves the next request after a queued one left, not the one that left", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, { config: { parallel_limits: { m: 1 } } }));
  using gate = holdTagged(mock, "holder");
  const holder = postJson(`${proxy.url}${CHAT}`, chatBody("m", {}, "holder"));
  await mock.waitForRequests(1);
  const leaving = abortableRequest(`${proxy.url}${CHAT}`, chatBody("m", {}, "leaving"));
  await waitForQueued(proxy, "m", 1);
  leaving.abort();
  await leaving.done;
  gate.open();
  await (await holder).body?.cancel();
  // Had "leaving" stayed queued, it would have taken the slot freed by "holder" before "next" was even sent.
  const next = await postJson(`${proxy.url}${CHAT}`, chatBody("m", {}, "next"));
  assert.equal(next.status, 200);
  await next.body?.cancel();
  assert.deepEqual(arrivals(mock), ["holder", "next"]);
  await waitForIdle(proxy, "m");
});

/** One way a request can end, played against a proxy whose model `m` has limit 1 (and `global` 2). */
interface Ending {
  name: string;
  upstream?: Record<string, unknown>;
  scenario: Scenario;
  /** Slots the request takes: 0 when it fails before admission. */
  slots: number;
  /** Sends the request and consumes its outcome. */
  run(proxy: TestProxy, mock: MockUpstream): Promise<void>;
}

/** Sends a streamed request, reads one chunk, then goes away. */
async function abortMidStream(url: string, body: JsonObject, mock: MockUpstream): Promise<void> {
  const controller = new AbortController();
  const response = await postJson(url, body, { signal: controller.signal });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.cancel().catch(() => {});
  await mock.waitForAbort(0);
}

/** Sends a request and checks its status, consuming the body. */
async function expectStatus(url: string, body: JsonObject, status: number): Promise<string> {
  const response = await postJson(url, body);
  const text = await response.text();
  assert.equal(response.status, status, text);
  return text;
}

const CONVERTING = { supports_anthropic: false };

const ENDINGS: Ending[] = [
  {
    name: "a completed stream",
    scenario: { text: "a b c", chunks: 3 },
    slots: 1,
    run: async (proxy) => {
      const response = await postJson(`${proxy.url}${CHAT}`, chatBody("m", { stream: true }));
      assert.equal((await readSse(response)).at(-1)?.data, "[DONE]");
    },
  },
  {
    name: "a completed converted response",
    upstream: CONVERTING,
    scenario: { text: "a b c" },
    slots: 1,
    run: async (proxy) => {
      assert.equal(JSON.parse(await expectStatus(`${proxy.url}${MESSAGES}`, messagesBody("m"), 200)).type, "message");
    },
  },
  {
    name: "a client abort mid-stream",
    scenario: { text: "a b c d", chunks: 4, hang: { afterChunks: 1 } },
    slots: 1,
    run: (proxy, mock) => abortMidStream(`${proxy.url}${CHAT}`, chatBody("m", { stream: true }), mock),
  },
  {
    name: "a client abort mid-stream of a converted stream",
    upstream: CONVERTING,
    scenario: { text: "a b c d", chunks: 4, hang: { afterChunks: 2 } },
    slots: 1,
    run: (proxy, mock) => abortMidStream(`${proxy.url}${MESSAGES}`, messagesBody("m", { stream: true }), mock),
  },
  {
    name: "a client abort before the upstream answers",
    scenario: { hang: "before-headers" },
    slots: 1,
    run: async (proxy, mock) => {
      const request = abortableRequest(`${proxy.url}${MESSAGES}`, messagesBody("m"));
      await mock.waitForRequests(1);
      request.abort();
      await request.done;
      await mock.waitForAbort(0);
    },
  },
  {
    name: "an upstream error status",
    scenario: { status: 500 },
    slots: 1,
    run: async (proxy) => void await expectStatus(`${proxy.url}${CHAT}`, chatBody("m", { stream: true }), 500),
  },
  {
    name: "an upstream error status on a converted request",
    upstream: CONVERTING,
    scenario: { status: 503 },
    slots: 1,
    run: async (proxy) => {
      const body = JSON.parse(await expectStatus(`${proxy.url}${MESSAGES}`, messagesBody("m", { stream: true }), 503));
      assert.equal(body.type, "error");
    },
  },
  {
    name: "an upstream drop mid-stream",
    scenario: { text: "a b c d e f", chunks: 6, drop: { afterChunks: 3 } },
    slots: 1,
    run: async (proxy) => {
      const events = await readSse(await postJson(`${proxy.url}${MESSAGES}`, messagesBody("m", { stream: true })));
      assert.equal(events.at(-1)?.event, "error");
    },
  },
  {
    name: "an upstream response timeout",
    upstream: { response_timeout_seconds: 0.2 },
    scenario: { hang: "before-headers" },
    slots: 1,
    run: async (proxy, mock) => {
      await expectStatus(`${proxy.url}${CHAT}`, chatBody("m"), 504);
      await mock.waitForAbort(0);
    },
  },
  {
    name: "an upstream idle timeout mid-stream",
    upstream: { timeout_seconds: 0.2 },
    scenario: { text: "a b c d", chunks: 4, hang: { afterChunks: 2 } },
    slots: 1,
    run: async (proxy, mock) => {
      const events = await readSse(await postJson(`${proxy.url}${CHAT}`, chatBody("m", { stream: true })));
      assert.equal(JSON.parse(events.at(-1)?.data ?? "{}").error.type, "timeout_error");
      await mock.waitForAbort(0);
    },
  },
  {
    name: "a conversion error before the call",
    upstream: CONVERTING,
    scenario: {},
    slots: 0,
    run: async (proxy, mock) => {
      await expectStatus(`${proxy.url}${MESSAGES}`, messagesBody("m", { messages: [] }), 400);
      assert.equal(mock.requests.length, 0);
    },
  },
  {
    name: "a converted response that is not JSON",
    upstream: CONVERTING,
    scenario: { rawSse: ["<html>not json</html>"], headers: { "content-type": "text/html" } },
    slots: 1,
    run: async (proxy) => void await expectStatus(`${proxy.url}${MESSAGES}`, messagesBody("m"), 502),
  },
];

for (const ending of ENDINGS) {
  Deno.test(`ConcurrencyLimiter gets its slot back after ${ending.name}`, async () => {
    await using mock = await startMockUpstream({ scenario: () => ending.scenario });
    await using proxy = await startProxy(proxyConfig(mock, {
      upstream: ending.upstream,
      config: { parallel_limits: { global: 2, m: 1 } },
    }));
    await ending.run(proxy, mock);
    await waitForIdle(proxy, "m");
    const health = await (await fetch(`${proxy.url}/health`)).json();
    assert.deepEqual(health.concurrency, {
      global: { limit: 2, inUse: 0, waiting: 0, longestWaitMs: 0 },
      models: { m: { limit: 1, inUse: 0, waiting: 0, longestWaitMs: 0 } },
    });
    assert.equal(countLines(proxy, "Slot acquired m, used: 1/1"), ending.slots);
    assert.equal(countLines(proxy, "Slot released m, used: 0/1"), ending.slots);
    assert.equal(countLines(proxy, "Global slot released, used: 0/2"), ending.slots);
    assert.equal(countLines(proxy, "outcome="), 1, "one final line");
  });
}

Deno.test("ConcurrencyLimiter gets its slot back when the upstream refuses connections", async () => {
  const closed = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response());
  await closed.shutdown();
  await using proxy = await startProxy({
    upstreams: [{ name: "gone", base_url: `http://127.0.0.1:${closed.addr.port}/v1` }],
    parallel_limits: { m: 1 },
  });
  const response = await postJson(`${proxy.url}${CHAT}`, chatBody("m"));
  assert.ok(response.status >= 500, `status ${response.status}`);
  await response.body?.cancel();
  await waitForIdle(proxy, "m");
  assert.equal(countLines(proxy, "Slot released m, used: 0/1"), 1);
});

Deno.test("Throttle spaces the upstream starts of one model by start_pause_seconds", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: { throttle: { enabled: true, global: { start_pause_seconds: 0.3 } } },
  }));
  const arrivedAt = new Map<string, number>();
  mock.setScenario((request) => {
    arrivedAt.set(tagOf(request.json), performance.now());
    return { text: "ok" };
  });
  const sentFirstAt = performance.now();
  const first = postJson(`${proxy.url}${CHAT}`, chatBody("m", {}, "first"));
  await mock.waitForRequests(1);
  const second = postJson(`${proxy.url}${MESSAGES}`, messagesBody("m", {}, "second"));
  for (const response of [await first, await second]) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  // The first start happened after the client sent it, so the second one is at least a pause after that.
  assert.ok(arrivedAt.get("second")! - sentFirstAt >= 300, `gap ${arrivedAt.get("second")! - sentFirstAt} ms`);
  assert.deepEqual(arrivals(mock), ["first", "second"]);
  assert.ok(proxy.logs.some((line) => /Throttle: waiting 0\.\d+s before sending to m$/.test(line)));
});

Deno.test("Throttle counts end_pause_seconds from the end of the previous response", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: { throttle: { enabled: true, global: { end_pause_seconds: 0.3 } } },
  }));
  using gate = createGate();
  let answeredAt = 0;
  let secondAt = 0;
  mock.setScenario(async (request) => {
    if (tagOf(request.json) === "second") {
      secondAt = performance.now();
      return { text: "ok" };
    }
    await gate.opened;
    answeredAt = performance.now();
    return { text: "a b c", chunks: 3 };
  });
  const first = postJson(`${proxy.url}${CHAT}`, chatBody("m", { stream: true }, "first"));
  await mock.waitForRequests(1);
  // Let more than the pause pass since the first start: a pause counted from the start would be over by now.
  await sleep(400);
  gate.open();
  assert.equal((await readSse(await first)).at(-1)?.data, "[DONE]");
  const second = await postJson(`${proxy.url}${CHAT}`, chatBody("m", {}, "second"));
  assert.equal(second.status, 200);
  await second.body?.cancel();
  // The first response ended after the mock started answering it; the next send waited a pause after that end.
  assert.ok(secondAt - answeredAt >= 300, `gap ${secondAt - answeredAt} ms`);
});

Deno.test("Throttle takes per_model pauses over global ones, and null disables a pause", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: {
      // A safety net: a send wrongly held by the 600 s pause fails in 5 s instead of 300.
      queue: { timeout_seconds: 5 },
      throttle: {
        enabled: true,
        global: { start_pause_seconds: 600 },
        per_model: {
          "fast-*": { start_pause_seconds: null },
          quick: { start_pause_seconds: 0.05 },
          slow: { end_pause_seconds: 0.1 },
        },
      },
    },
  }));
  const models = ["fast-a", "fast-a", "fast-b", "fast-b", "quick", "quick", "slow", "other"];
  for (const tag of models) {
    const response = await postJson(`${proxy.url}${CHAT}`, chatBody(tag, {}, tag));
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  // A 600 s start pause would have held the second fast-a or quick; "other" shares no timer with "slow".
  assert.deepEqual(arrivals(mock), models);
  const blocked = abortableRequest(`${proxy.url}${CHAT}`, chatBody("slow", {}, "slow again"));
  await waitUntil(() => proxy.logs.some((line) => line.includes("before sending to slow")), "the throttle wait");
  // "slow" keeps the global start pause, as its key sets only the end pause.
  const line = proxy.logs.find((entry) => entry.includes("before sending to slow")) ?? "";
  const seconds = Number(/Throttle: waiting ([\d.]+)s/.exec(line)?.[1]);
  assert.ok(seconds > 590, line);
  assert.ok(!proxy.logs.some((entry) => entry.includes("before sending to fast")));
  blocked.abort();
  await blocked.done;
});

Deno.test("Throttle lets a client that disconnects while waiting leave at once, releasing its slot", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: {
      parallel_limits: { m: 2 },
      // Far longer than the 5 s the test waits for the disconnect to be noticed; shorter than the default 300 s,
      // so that a wait that ignored the disconnect fails the test soon.
      queue: { timeout_seconds: 30 },
      throttle: { enabled: true, global: { start_pause_seconds: 600 } },
    },
  }));
  const first = await postJson(`${proxy.url}${CHAT}`, chatBody("m", {}, "first"));
  await first.body?.cancel();
  const waiting = abortableRequest(`${proxy.url}${CHAT}`, chatBody("m", {}, "waiting"));
  await waitUntil(() => proxy.logs.some((line) => line.includes("Throttle: waiting")), "the throttle wait");
  // The slot is taken before the throttle's turn.
  assert.equal(pool(proxy, "m").inUse, 1);
  waiting.abort();
  await waiting.done;
  // A 600 s pause (and a 300 s throttle timeout) would still be running had the wait not ended with the client;
  // the test sanitizers would also report its timers.
  await waitUntil(() => finishedWith(proxy, "req-2", "cancelled"), "the cancelled request's final line");
  await waitForIdle(proxy, "m");
  assert.deepEqual(arrivals(mock), ["first"]);
});

Deno.test("Throttle times a waiting request out with 429 after queue.timeout_seconds", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: {
      parallel_limits: { m: 2 },
      queue: { timeout_seconds: 0.2 },
      throttle: { enabled: true, global: { start_pause_seconds: 600 } },
    },
  }));
  const first = await postJson(`${proxy.url}${CHAT}`, chatBody("m"));
  await first.body?.cancel();
  await assertRejected(await postJson(`${proxy.url}${MESSAGES}`, messagesBody("m")), {
    status: 429,
    protocol: "anthropic",
    type: "rate_limit_error",
    message: /Timed out after 0\.2s waiting for the throttle of model "m"/,
  });
  await waitForIdle(proxy, "m");
  assert.equal(mock.requests.length, 1);
});
