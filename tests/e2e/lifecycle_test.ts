/**
 * End-to-end: a lifecycle subscriber registered at start sees each request's events in order, with the usage the
 * upstream reported, for passthrough, converted, queued, garbage-retried and failed requests, streamed and not.
 */

import assert from "node:assert/strict";
import type { LifecycleEvent, LifecycleSubscriber } from "../../src/observability/lifecycle.ts";
import type { TokenUsage } from "../../src/observability/usage.ts";
import { postJson } from "../support/http.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy, type TestProxy } from "../support/proxy_server.ts";
import { readSse } from "../support/sse.ts";

/** Every event seen, with its request id, in the order delivered. */
class Recorder {
  readonly events: Array<{ id: string; event: LifecycleEvent }> = [];
  #finished = new Map<string, PromiseWithResolvers<void>>();

  readonly subscriber: LifecycleSubscriber = (event, request) => {
    this.events.push({ id: request.id, event });
    if (event.type === "finished") this.#waiter(request.id).resolve();
  };

  /** Resolves when request `id` finished. */
  finished(id: string): Promise<void> {
    return this.#waiter(id).promise;
  }

  /** The event types of request `id`. */
  types(id: string): string[] {
    return this.of(id).map((event) => event.type);
  }

  /** The events of request `id`. */
  of(id: string): LifecycleEvent[] {
    return this.events.filter((entry) => entry.id === id).map((entry) => entry.event);
  }

  /** The one event of `type` of request `id`. */
  one<T extends LifecycleEvent["type"]>(id: string, type: T): Extract<LifecycleEvent, { type: T }> {
    const found = this.of(id).filter((event) => event.type === type);
    assert.equal(found.length, 1, `${id}: ${type} events: ${JSON.stringify(found)}`);
    return found[0] as Extract<LifecycleEvent, { type: T }>;
  }

  /** Where in the whole sequence request `id`'s event of `type` was delivered. */
  indexOf(id: string, type: LifecycleEvent["type"]): number {
    return this.events.findIndex((entry) => entry.id === id && entry.event.type === type);
  }

  #waiter(id: string): PromiseWithResolvers<void> {
    let waiter = this.#finished.get(id);
    if (waiter === undefined) this.#finished.set(id, waiter = Promise.withResolvers<void>());
    return waiter;
  }
}

/** What the mock reports: 100 prompt tokens, 60 of them from the cache, 7 generated. */
const USAGE = { prompt_tokens: 100, completion_tokens: 7, cached_tokens: 60 };
const EXPECTED: TokenUsage = { input: 100, output: 7, cacheRead: 60, cacheWrite: 0, reasoning: 0 };

const CHAT = { model: "m", messages: [{ role: "user", content: "Hello" }] };
const MESSAGES = { model: "m", max_tokens: 64, messages: [{ role: "user", content: "Hello" }] };

interface Rig {
  mock: MockUpstream;
  proxy: TestProxy;
  recorder: Recorder;
}

/**
 * Runs `body` against a proxy with a recording subscriber, in front of a mock that speaks `speaks` and answers
 * `scenarios` in turn (the last one every later request).
 */
async function withRig(
  options: { speaks?: "both" | "openai" | "anthropic"; scenarios?: Scenario[]; config?: Record<string, unknown> },
  body: (rig: Rig) => Promise<void>,
): Promise<void> {
  const { speaks = "both", scenarios = [{ text: "Hello there friend", usage: USAGE }] } = options;
  let served = 0;
  await using mock = await startMockUpstream({
    protocols: { openai: speaks !== "anthropic", anthropic: speaks !== "openai" },
    scenario: () => scenarios[Math.min(served++, scenarios.length - 1)],
  });
  const recorder = new Recorder();
  await using proxy = await startProxy(
    {
      upstreams: [{
        name: "local",
        base_url: mock.url,
        supports_openai: speaks !== "anthropic",
        supports_anthropic: speaks !== "openai",
      }],
      ...options.config,
    },
    {},
    { subscribers: [recorder.subscriber] },
  );
  await body({ mock, proxy, recorder });
}

const NON_STREAM = ["received", "routed", "admitted", "upstream_headers", "usage", "first_byte", "finished"];
const STREAM = ["received", "routed", "admitted", "upstream_headers", "first_byte", "usage", "finished"];

for (
  const { client, speaks, mode } of [
    { client: "openai", speaks: "both", mode: "passthrough" },
    { client: "anthropic", speaks: "both", mode: "passthrough" },
    { client: "anthropic", speaks: "openai", mode: "converted" },
    { client: "openai", speaks: "anthropic", mode: "converted" },
  ] as const
) {
  for (const stream of [false, true]) {
    Deno.test(`lifecycle of a ${mode} ${client} ${stream ? "stream" : "answer"}: events in order, usage`, async () => {
      await withRig({ speaks }, async ({ proxy, recorder }) => {
        const path = client === "openai" ? "/v1/chat/completions" : "/v1/messages";
        const request = client === "openai"
          ? { ...CHAT, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }
          : { ...MESSAGES, stream };
        const response = await postJson(`${proxy.url}${path}`, request);
        assert.equal(response.status, 200);
        const bytes = (await response.bytes()).length;
        await recorder.finished("req-1");
        assert.deepEqual(recorder.types("req-1"), stream ? STREAM : NON_STREAM);
        assert.deepEqual(recorder.one("req-1", "received"), { type: "received", kind: "generation", dialect: client });
        const upstreamDialect = mode === "passthrough" ? client : client === "openai" ? "anthropic" : "openai";
        assert.deepEqual(recorder.one("req-1", "routed"), {
          type: "routed",
          model: "m",
          upstream: "local",
          mode,
          dialect: client,
          upstreamDialect,
        });
        assert.equal(recorder.one("req-1", "admitted").upstreamModel, "m");
        assert.equal(recorder.one("req-1", "upstream_headers").status, 200);
        assert.deepEqual(recorder.one("req-1", "usage").usage, EXPECTED);
        const finished = recorder.one("req-1", "finished");
        assert.deepEqual({ ...finished, durationMs: 0 }, {
          type: "finished",
          outcome: "complete",
          status: 200,
          bytes,
          durationMs: 0,
          detail: undefined,
        });
        const line = proxy.logs.find((entry) => entry.includes("[req-1]") && entry.includes("outcome="));
        assert.match(line ?? "", / input_tokens=100 output_tokens=7 cache_read_tokens=60 outcome=complete$/);
      });
    });
  }
}

Deno.test("lifecycle of a queued request: admitted only after the request before it finished", async () => {
  const gate = Promise.withResolvers<void>();
  await withRig({
    config: { parallel_limits: { m: 1 } },
    scenarios: [{ text: "first answer" }],
  }, async ({ mock, proxy, recorder }) => {
    mock.setScenario(async (request) => {
      if ((request.json as { tag?: string }).tag === "first") await gate.promise;
      return { text: "an answer" };
    });
    const first = postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, tag: "first" });
    await mock.waitForRequests(1);
    const second = postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, tag: "second" });
    while (recorder.indexOf("req-2", "routed") < 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(recorder.types("req-2"), ["received", "routed"]);
    gate.resolve();
    await (await first).body?.cancel();
    await (await second).body?.cancel();
    await recorder.finished("req-2");
    assert.ok(recorder.indexOf("req-2", "admitted") > recorder.indexOf("req-1", "finished"));
    assert.deepEqual(recorder.types("req-2"), NON_STREAM);
    assert.ok(recorder.one("req-2", "admitted").waitMs > 0);
  });
});

/** A word loop the guard cuts before anything of it reaches the client. */
const LOOP: Scenario = { text: "Let me think. ", loop: { unit: "again ", repeats: 2000 } };

for (const stream of [false, true]) {
  Deno.test(`lifecycle of a garbage-retried ${stream ? "stream" : "answer"}: two attempts, one finish`, async () => {
    await withRig({
      config: { validation: { enabled: true, max_retries: 1, retry_delay_seconds: 0 } },
      scenarios: [LOOP, { text: "A clean answer at last.", usage: USAGE }],
    }, async ({ proxy, recorder }) => {
      const response = await postJson(`${proxy.url}/v1/chat/completions`, {
        ...CHAT,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      });
      assert.equal(response.status, 200);
      await response.bytes();
      await recorder.finished("req-1");
      const types = recorder.types("req-1");
      const usage = stream ? [] : ["usage"];
      assert.deepEqual(types.slice(0, 4), ["received", "routed", "admitted", "upstream_headers"]);
      assert.deepEqual(
        types.filter((type) => type === "attempt" || type === "upstream_headers" || type === "finished"),
        ["upstream_headers", "attempt", "upstream_headers", "finished"],
      );
      assert.deepEqual(recorder.one("req-1", "attempt"), { type: "attempt", number: 2, reason: "garbage_retry" });
      assert.equal(types.at(-1), "finished");
      assert.equal(recorder.one("req-1", "finished").outcome, "complete");
      assert.equal(usage.length === 0 || types.includes("usage"), true);
    });
  });
}

Deno.test("lifecycle of a continued stream: attempt 2 is a continuation", async () => {
  const intro = "The parser module reads the configuration, validates every section and reports errors with " +
    "their line numbers. The loader then merges the command line flags into the result, applies the defaults. ";
  await withRig({
    config: { validation: { enabled: true, max_retries: 1, retry_delay_seconds: 0 } },
    scenarios: [
      { text: intro, loop: { unit: "I will now check the configuration file again to be sure. ", repeats: 2000 } },
      { text: "Done." },
    ],
  }, async ({ proxy, recorder }) => {
    const response = await postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, stream: true });
    await readSse(response);
    await recorder.finished("req-1");
    assert.deepEqual(recorder.one("req-1", "attempt"), { type: "attempt", number: 2, reason: "continuation" });
  });
});

Deno.test("lifecycle of an upstream error status: the status, finished complete as today's log line", async () => {
  await withRig({ scenarios: [{ status: 500 }] }, async ({ proxy, recorder }) => {
    const response = await postJson(`${proxy.url}/v1/chat/completions`, CHAT);
    assert.equal(response.status, 500);
    await response.body?.cancel();
    await recorder.finished("req-1");
    assert.deepEqual(recorder.types("req-1"), NON_STREAM.filter((type) => type !== "usage"));
    assert.equal(recorder.one("req-1", "upstream_headers").status, 500);
    const finished = recorder.one("req-1", "finished");
    assert.deepEqual([finished.outcome, finished.status], ["complete", 500]);
  });
});

Deno.test("lifecycle of a stream that fails upstream: finished as an error", async () => {
  await withRig({ scenarios: [{ text: "one two three four", drop: { afterChunks: 2 } }] }, async (rig) => {
    const response = await postJson(`${rig.proxy.url}/v1/chat/completions`, { ...CHAT, stream: true });
    await readSse(response);
    await rig.recorder.finished("req-1");
    assert.deepEqual(rig.recorder.types("req-1"), STREAM.filter((type) => type !== "usage"));
    assert.equal(rig.recorder.one("req-1", "finished").outcome, "error");
  });
});

Deno.test("lifecycle of a refused upstream: no upstream headers, finished as a 502 error", async () => {
  await withRig({}, async ({ mock, proxy, recorder }) => {
    await mock.close();
    const response = await postJson(`${proxy.url}/v1/messages`, MESSAGES);
    assert.equal(response.status, 502);
    await response.body?.cancel();
    await recorder.finished("req-1");
    assert.deepEqual(recorder.types("req-1"), ["received", "routed", "admitted", "first_byte", "finished"]);
    const finished = recorder.one("req-1", "finished");
    assert.deepEqual([finished.outcome, finished.status], ["error", 502]);
  });
});

Deno.test("count_tokens and model lists go through the lifecycle", async () => {
  await withRig({}, async ({ proxy, recorder }) => {
    const counted = await postJson(`${proxy.url}/v1/messages/count_tokens`, MESSAGES);
    assert.equal(counted.status, 200);
    await counted.body?.cancel();
    const models = await fetch(`${proxy.url}/v1/models`);
    assert.equal(models.status, 200);
    await models.body?.cancel();
    const missing = await fetch(`${proxy.url}/v1/models/nope`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    assert.deepEqual(recorder.types("req-1"), ["received", "routed", "first_byte", "finished"]);
    assert.deepEqual(recorder.one("req-1", "received"), {
      type: "received",
      kind: "count_tokens",
      dialect: "anthropic",
    });
    assert.equal(recorder.one("req-1", "routed").mode, "passthrough");
    assert.equal(recorder.one("req-1", "finished").status, 200);
    assert.deepEqual(recorder.types("req-2"), ["received", "first_byte", "finished"]);
    assert.equal(recorder.one("req-2", "received").kind, "models");
    const notFound = recorder.one("req-3", "finished");
    assert.deepEqual([notFound.outcome, notFound.status], ["error", 404]);
    // Only generation requests write the request log line, as before.
    assert.equal(proxy.logs.filter((line) => line.includes("outcome=")).length, 0);
  });
});

Deno.test("a subscriber that throws is logged once and breaks no request", async () => {
  const recorder = new Recorder();
  await using mock = await startMockUpstream({ scenario: () => ({ text: "fine", usage: USAGE }) });
  const broken: LifecycleSubscriber = () => {
    throw new Error("subscriber bug");
  };
  await using proxy = await startProxy(
    { upstreams: [{ name: "local", base_url: mock.url, supports_anthropic: true }] },
    {},
    { subscribers: [broken, recorder.subscriber] },
  );
  for (const stream of [false, true]) {
    const response = await postJson(`${proxy.url}/v1/chat/completions`, { ...CHAT, stream });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  await recorder.finished("req-2");
  assert.equal(recorder.one("req-1", "finished").outcome, "complete");
  assert.equal(proxy.logs.filter((line) => line.includes("subscriber bug")).length, 1);
  assert.equal(proxy.logs.filter((line) => line.includes("outcome=complete")).length, 2);
});
