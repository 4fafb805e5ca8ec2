/**
 * End-to-end: the direction matrix. Every fault case runs in every direction (each client dialect through the real
 * proxy to each upstream dialect, see `tests/support/dialects.ts`: passthrough when they match, conversion
 * otherwise), and the client's wire shape is checked by its dialect: status, error body, SSE error event, final
 * event, the official SDK's error class. A third dialect joins every case by adding its dialect objects there.
 * That each step leaves no open server, connection, timer or stream behind is checked by Deno's sanitizers alone.
 */

import assert from "node:assert/strict";
import type { Scenario } from "../support/mock_upstream.ts";
import { type Direction, DIRECTIONS, MATRIX_MODEL } from "../support/dialects.ts";
import { postJson } from "../support/http.ts";
import { readSse } from "../support/sse.ts";
import { type ConvertingRig, recordedBody, withConvertingProxy } from "./convert_harness.ts";

/** Options of {@linkcode withDirection}. */
interface RigOptions {
  /** Extra keys of the proxy's upstream entry. */
  upstream?: Record<string, unknown>;
  /** Top-level proxy config keys. */
  config?: Record<string, unknown>;
}

/** Runs `body` with a mock upstream speaking only `direction`'s upstream dialect, answering `scenario`. */
function withDirection(
  direction: Direction,
  scenario: Scenario | ((attempt: number) => Scenario),
  body: (rig: ConvertingRig) => Promise<void>,
  options: RigOptions = {},
): Promise<void> {
  let attempt = 0;
  return withConvertingProxy({
    upstream: direction.upstream.mock,
    scenario: () => typeof scenario === "function" ? scenario(attempt++) : scenario,
    upstreamConfig: options.upstream,
    config: options.config,
  }, body);
}

/** Declares one fault case as a test with one step per direction. */
function matrixCase(name: string, run: (direction: Direction) => Promise<void>): void {
  Deno.test(name, async (t) => {
    for (const direction of DIRECTIONS) await t.step(direction.name, () => run(direction));
  });
}

/** Posts the client dialect's request, streamed, and returns the response after checking it is an event stream. */
async function postStream(rig: ConvertingRig, direction: Direction): Promise<Response> {
  const response = await postJson(
    `${rig.proxy.url}${direction.client.path}`,
    direction.client.request({ stream: true }),
  );
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  return response;
}

/** Streams with the SDK, which must reject with its API error, and returns the recorded stream's error. */
async function failingSdkStream(rig: ConvertingRig, direction: Direction) {
  await assert.rejects(direction.client.sdkStream(rig.proxy.url, rig.fetch), direction.client.errorClass(0));
  return direction.client.failedStream(recordedBody(rig, 0).events);
}

// --- Errors before the answer starts ---------------------------------------------------------------------------

for (const status of [400, 401, 429, 500, 503, 529]) {
  matrixCase(
    `an upstream ${status} reaches the client in its shape, raised as the SDK's class, with retry-after`,
    async (d) => {
      await withDirection(d, { status, headers: { "retry-after": "7" } }, async (rig) => {
        const error = await d.client.sdkCreate(rig.proxy.url, rig.fetch).then(
          () => assert.fail("the request must fail"),
          (error: unknown) => error,
        );
        assert.ok(error instanceof d.client.errorClass(status), `got ${String(error)}`);
        assert.equal((error as { status?: number }).status, status);
        assert.equal((error as { headers?: Headers }).headers?.get("retry-after"), "7");
        const recorded = recordedBody(rig, 0);
        assert.equal(recorded.status, status);
        const body = JSON.parse(recorded.text);
        const message = `Mock upstream error ${status}`;
        if (d.passthrough) assert.deepEqual(body, d.upstream.nativeError(status, message), "passthrough: untouched");
        else assert.deepEqual(d.client.errorOf(body), d.client.convertedError(status, message));
      });
    },
  );
}

matrixCase(
  "an upstream error before a stream starts makes the SDK's stream helper reject with its class",
  async (d) => {
    await withDirection(d, { status: 429 }, async (rig) => {
      await assert.rejects(d.client.sdkStream(rig.proxy.url), d.client.errorClass(429));
    });
  },
);

matrixCase("an upstream error sent as an event stream reads as its message", async (d) => {
  const scenario: Scenario = {
    status: 503,
    errorBody: d.upstream.sseErrorBody("Slot unavailable"),
    headers: { "content-type": "text/event-stream" },
  };
  await withDirection(d, scenario, async (rig) => {
    const error = await d.client.sdkCreate(rig.proxy.url, rig.fetch).catch((e) => e);
    assert.ok(error instanceof d.client.errorClass(503), String(error));
    assert.equal(error.status, 503);
    assert.match(String(error.message), /Slot unavailable/);
    if (!d.passthrough) {
      assert.equal(d.client.errorOf(JSON.parse(recordedBody(rig, 0).text)).message, "Slot unavailable");
    }
  });
});

matrixCase("an upstream that sends no headers in time gives a 504 timeout error in the client's shape", async (d) => {
  await withDirection(d, { hang: "before-headers" }, async (rig) => {
    const response = await postJson(`${rig.proxy.url}${d.client.path}`, d.client.request());
    assert.equal(response.status, 504);
    assert.equal(d.client.errorOf(await response.json()).type, d.client.errorType("timeout"));
    await rig.mock.waitForAbort(0);
  }, { upstream: { response_timeout_seconds: 0.2 } });
});

matrixCase("a client that disconnects before the upstream answers aborts the upstream request", async (d) => {
  await withDirection(d, { hang: "before-headers" }, async (rig) => {
    const controller = new AbortController();
    const pending = postJson(`${rig.proxy.url}${d.client.path}`, d.client.request(), { signal: controller.signal })
      .catch((error) => error);
    await rig.mock.waitForRequests(1);
    controller.abort();
    await pending;
    await rig.mock.waitForAbort(0);
  });
});

matrixCase(
  "an upstream's 200 error body is a 502 with its message when converted, untouched in passthrough",
  async (d) => {
    const answer = d.upstream.errorAnswer("Model failed to load: out of memory");
    await withDirection(
      d,
      { rawSse: [JSON.stringify(answer)], headers: { "content-type": "application/json" } },
      async (rig) => {
        const response = await postJson(`${rig.proxy.url}${d.client.path}`, d.client.request());
        const body = await response.json();
        if (d.passthrough) {
          assert.equal(response.status, 200);
          assert.deepEqual(body, answer);
          return;
        }
        assert.equal(response.status, 502);
        const expected = d.client.convertedError(d.upstream.streamErrorStatus, "Model failed to load: out of memory");
        assert.deepEqual(d.client.errorOf(body), expected);
      },
    );
  },
);

// --- Faults mid-stream -------------------------------------------------------------------------------------------

matrixCase(
  "an upstream that drops mid-stream ends the client's stream with an error event, never a clean end",
  async (d) => {
    const scenario = { text: "a b c d e f", drop: { afterChunks: d.upstream.midStreamChunks } };
    await withDirection(d, scenario, async (rig) => {
      const error = await failingSdkStream(rig, d);
      if (!d.passthrough) assert.equal(error.type, d.client.errorType("upstream"));
    });
  },
);

matrixCase("an upstream that goes idle mid-stream ends the stream with a timeout error event", async (d) => {
  const scenario = { text: "a b c d e f", hang: { afterChunks: d.upstream.midStreamChunks } };
  await withDirection(d, scenario, async (rig) => {
    const error = await failingSdkStream(rig, d);
    assert.equal(error.type, d.client.errorType("timeout"));
    await rig.mock.waitForAbort(0);
  }, { upstream: { timeout_seconds: 0.3 } });
});

matrixCase("an upstream error event mid-stream reaches the client as its error event with the message", async (d) => {
  const scenario = { text: "a b c d e f", streamError: { afterChunks: d.upstream.midStreamChunks, message: "Boom" } };
  await withDirection(d, scenario, async (rig) => {
    const error = await failingSdkStream(rig, d);
    const expected = d.passthrough
      ? d.upstream.nativeStreamError("Boom")
      : d.client.convertedError(d.upstream.streamErrorStatus, "Boom");
    assert.deepEqual(error, expected);
  });
});

matrixCase("an upstream stream that ends without its final event ends with an error event", async (d) => {
  await withDirection(d, { rawSse: d.upstream.truncatedStream }, async (rig) => {
    const error = await failingSdkStream(rig, d);
    assert.equal(error.type, d.client.errorType("upstream"));
  });
});

matrixCase("an upstream event over max_event_bytes ends the stream with an error event", async (d) => {
  const scenario: Scenario = {
    rawSse: [...d.upstream.endlessEventStart, ...Array(300).fill("x".repeat(1000))],
    chunkDelayMs: 2,
    hang: { afterChunks: 202 },
  };
  await withDirection(d, scenario, async (rig) => {
    const events = await readSse(await postStream(rig, d));
    // Passthrough holds the unterminated event back: the client gets the first event and the error, nothing else.
    if (d.passthrough) assert.equal(events.length, 2);
    const error = d.client.failedStream(events);
    assert.deepEqual(
      [error.type, error.message],
      [d.client.errorType("upstream"), "Upstream sent an SSE event over 16384 bytes"],
    );
    await rig.mock.waitForAbort(0);
    // The model's one concurrency slot came back: a plain request gets its answer.
    rig.mock.setScenario(() => ({ text: "ok" }));
    const next = await postJson(`${rig.proxy.url}${d.client.path}`, d.client.request());
    assert.equal(next.status, 200);
    await next.body?.cancel();
  }, { upstream: { max_event_bytes: 16_384 }, config: { parallel_limits: { [MATRIX_MODEL]: 1 } } });
});

matrixCase("a client that stops reading mid-stream aborts the upstream request", async (d) => {
  const scenario = { text: "a b c d e f", hang: { afterChunks: d.upstream.midStreamChunks } };
  await withDirection(d, scenario, async (rig) => {
    await d.client.sdkStreamFirstDelta(rig.proxy.url);
    await rig.mock.waitForAbort(0);
    const mode = d.passthrough ? "passthrough" : "convert";
    const logged = rig.proxy.logs.some((line) => line.includes(`mode=${mode}`) && line.includes("outcome=cancelled"));
    assert.ok(logged, rig.proxy.logs.join("\n"));
  });
});

// --- Garbage loops -----------------------------------------------------------------------------------------------

const CLEAN = "A clean answer.";
const WORD_LOOP: Scenario = { text: "Let me think. ", loop: { unit: "again ", repeats: 100_000 } };
const GUARD = { validation: { enabled: true } };

matrixCase("a looping stream is cut, aborted upstream and retried in one clean client stream", async (d) => {
  await withDirection(d, (attempt) => attempt === 0 ? WORD_LOOP : { text: CLEAN }, async (rig) => {
    const answer = d.client.cleanStream(await readSse(await postStream(rig, d)));
    assert.deepEqual(answer, { text: CLEAN, finish: d.client.finishes.stop });
    await rig.mock.waitForAbort(0);
    assert.deepEqual(rig.mock.requests.map((request) => request.path), [d.upstream.path, d.upstream.path]);
  }, { config: GUARD });
});

matrixCase("a looping whole answer is retried before the client gets it", async (d) => {
  const repeated: Scenario = {
    text: "Let me think. ",
    loop: { unit: "I will now check the configuration file again to be sure. ", repeats: 12 },
  };
  await withDirection(d, (attempt) => attempt === 0 ? repeated : { text: CLEAN }, async (rig) => {
    const response = await postJson(`${rig.proxy.url}${d.client.path}`, d.client.request());
    assert.equal(response.status, 200);
    assert.deepEqual(d.client.answer(await response.json()), { text: CLEAN, finish: d.client.finishes.stop });
    assert.equal(rig.mock.requests.length, 2);
  }, { config: GUARD });
});

matrixCase("a stream that keeps looping ends at the loop start as a length cut", async (d) => {
  await withDirection(d, WORD_LOOP, async (rig) => {
    const answer = d.client.cleanStream(await readSse(await postStream(rig, d)));
    assert.equal(answer.finish, d.client.finishes.length);
    assert.ok(answer.text.startsWith("Let me think."), answer.text);
    assert.ok(answer.text.split("again").length <= 2, answer.text);
    assert.equal(rig.mock.requests.length, 1);
  }, { config: { validation: { enabled: true, max_retries: 0 } } });
});
