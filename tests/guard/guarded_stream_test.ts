import assert from "node:assert/strict";
import { GarbageGuard, guardSettings } from "../../src/guard/garbage_guard.ts";
import { guardedStreamResponse, suspicionGrace } from "../../src/guard/guarded_stream.ts";
import type { StreamOutcome } from "../../src/http/stream_end.ts";
import type { UpstreamResponse } from "../../src/http/upstream_call.ts";
import { memoryLogger } from "../../src/observability/logger.ts";
import { assertValidOpenAIStream } from "../support/anthropic_stream_grammar.ts";
import { parseSseText } from "../support/sse.ts";
import { debugLogging, exchangeOptions } from "./exchange_options.ts";
import { validationConfig } from "../support/config_defaults.ts";
import type { ValidationConfig } from "../../src/config/config.ts";

/** A streamed upstream answer made of `pieces`; `aborted` records an abort. */
function streamed(pieces: string[], status = 200) {
  const state = { aborted: false };
  const encoder = new TextEncoder();
  const body = ReadableStream.from(pieces.map((piece) => encoder.encode(piece)));
  const upstream: UpstreamResponse = {
    status,
    headers: new Headers({ "content-type": status < 300 ? "text/event-stream" : "application/json" }),
    reader: () => body.getReader(),
    body,
    headersMs: 0,
    abort: () => {
      state.aborted = true;
    },
  };
  return { upstream, state };
}

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  return `data: ${
    JSON.stringify({
      id: "c1",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })
  }\n\n`;
}

const HEALTHY = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Hello there." }),
  chunk({}, "stop"),
  "data: [DONE]\n\n",
];
const LOOP = [chunk({ role: "assistant", content: "" }), ...Array(100).fill(chunk({ content: "again " }))];

/** Guards `first`; retries get `later` in turn. Returns the client's text and what happened. */
async function run(first: UpstreamResponse, later: UpstreamResponse[], validation: Partial<ValidationConfig> = {}) {
  const dumpDir = await Deno.makeTempDir();
  const ends: StreamOutcome[] = [];
  const sent: string[] = [];
  const guard = new GarbageGuard(
    guardSettings(validationConfig({ enabled: true, ...validation }), debugLogging(dumpDir)),
    {
      logger: memoryLogger(),
    },
  );
  const options = exchangeOptions(guard, {
    body: { model: "m", messages: [] },
    retrySampling: validation.retrySampling ?? {},
    send: (body) => {
      sent.push(body);
      const next = later.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error("no more answers"));
    },
    onEnd: (outcome) => ends.push(outcome),
  });
  try {
    const response = guardedStreamResponse(first, options);
    return { response, text: await response.text(), ends, sent };
  } finally {
    await Deno.remove(dumpDir, { recursive: true });
  }
}

Deno.test("guardedStreamResponse passes a healthy stream's events on and ends once", async () => {
  const { response, text, ends } = await run(streamed(HEALTHY).upstream, []);
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(text, HEALTHY.join(""));
  assert.deepEqual(ends, ["complete"]);
});

Deno.test("guardedStreamResponse ends a passthrough stream cut short with an error event", async () => {
  const { text, ends } = await run(streamed(HEALTHY.slice(0, 2)).upstream, []);
  const summary = assertValidOpenAIStream(parseSseText(text));
  assert.equal(summary.text, "Hello there.");
  assert.match(String(summary.error?.message), /ended before the response was complete/);
  assert.deepEqual(ends, ["error"]);
});

Deno.test("guardedStreamResponse aborts a looping upstream and retries it", async () => {
  const first = streamed(LOOP);
  const { text, sent } = await run(first.upstream, [streamed(HEALTHY).upstream]);
  assert.equal(first.state.aborted, true);
  assert.equal(assertValidOpenAIStream(parseSseText(text)).text, "Hello there.");
  assert.deepEqual(sent.map((body) => JSON.parse(body)), [{ model: "m", messages: [] }]);
});

Deno.test("guardedStreamResponse ends the stream with the error of a retry that fails", async () => {
  const failed = streamed(['{"error":{"message":"Model is loading"}}'], 503);
  const { text, ends } = await run(streamed(LOOP).upstream, [failed.upstream]);
  const summary = assertValidOpenAIStream(parseSseText(text));
  assert.equal(summary.text, "");
  assert.match(String(summary.error?.message), /Retry failed: Model is loading/);
  assert.deepEqual(ends, ["error"]);
});

Deno.test("guardedStreamResponse ends the stream with an error when a retry cannot be sent", async () => {
  const { text } = await run(streamed(LOOP).upstream, []);
  assert.match(String(assertValidOpenAIStream(parseSseText(text)).error?.message), /no more answers/);
});

Deno.test("guardedStreamResponse aborts the upstream when the client cancels", async () => {
  const dumpDir = await Deno.makeTempDir();
  const upstream = streamed([chunk({ role: "assistant", content: "" }), ...Array(5).fill(chunk({ content: "word " }))]);
  const ends: StreamOutcome[] = [];
  const guard = new GarbageGuard(guardSettings(validationConfig({ enabled: true }), debugLogging(dumpDir)), {
    logger: memoryLogger(),
  });
  const response = guardedStreamResponse(
    upstream.upstream,
    exchangeOptions(guard, { retrySampling: {}, onEnd: (outcome) => ends.push(outcome) }),
  );
  const reader = response.body!.getReader();
  await reader.read();
  await reader.cancel("gone");
  assert.equal(upstream.state.aborted, true);
  assert.deepEqual(ends, ["cancelled"]);
  await Deno.remove(dumpDir, { recursive: true });
});

Deno.test("suspicionGrace is eight units, from 512 to 4096 characters", () => {
  assert.deepEqual([2, 100, 4000].map(suspicionGrace), [512, 800, 4096]);
});
