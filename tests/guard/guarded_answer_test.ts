import assert from "node:assert/strict";
import { GarbageGuard, guardSettings } from "../../src/guard/garbage_guard.ts";
import type { ValidationConfig } from "../../src/config/config.ts";
import { vetAnswer } from "../../src/guard/guarded_answer.ts";
import type { Validator } from "../../src/guard/validator_client.ts";
import { ProxyError } from "../../src/http/errors.ts";
import { readAll, type UpstreamResponse } from "../../src/http/upstream_call.ts";
import { memoryLogger } from "../../src/observability/logger.ts";
import { debugLogging, exchangeOptions } from "./exchange_options.ts";
import { validationConfig } from "../support/config_defaults.ts";

const LOOPING = "Let me think. " + "I will now check the configuration file again to be sure. ".repeat(12);

/** An upstream answer whose body is `text`. */
function answer(status: number, text: string): UpstreamResponse {
  const bytes = new TextEncoder().encode(text);
  let sent = false;
  const reader = {
    read: () =>
      Promise.resolve(
        sent ? { done: true as const, value: undefined } : (sent = true, { done: false as const, value: bytes }),
      ),
    cancel: () => Promise.resolve(),
  };
  return { status, headers: new Headers(), reader: () => reader, body: null, headersMs: 0, abort: () => {} };
}

function chat(content: string): string {
  return JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] });
}

/** Runs vetAnswer on `first`, with `later` answering each retry in turn. */
async function vet(
  first: UpstreamResponse,
  later: UpstreamResponse[],
  validation: Partial<ValidationConfig> = {},
  validator?: Validator,
  logger = memoryLogger(),
) {
  const dumpDir = await Deno.makeTempDir();
  const sent: Record<string, unknown>[] = [];
  const guard = new GarbageGuard(
    guardSettings(validationConfig({ enabled: true, retryBaseDelaySeconds: 0, ...validation }), debugLogging(dumpDir)),
    { logger, validator },
  );
  const options = exchangeOptions(guard, {
    body: { model: "m", messages: [] },
    send: (body) => {
      sent.push(JSON.parse(body));
      const next = later.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error("no more answers"));
    },
  });
  try {
    const result = await vetAnswer(first, { ...options, readBody: readAll });
    const text = new TextDecoder().decode(await readAll(result.reader()!));
    return { result, text, sent, guard };
  } finally {
    await Deno.remove(dumpDir, { recursive: true });
  }
}

Deno.test("vetAnswer hands a clean answer back unchanged", async () => {
  const { result, text, sent } = await vet(answer(200, chat("Fine.")), []);
  assert.equal(result.status, 200);
  assert.equal(text, chat("Fine."));
  assert.deepEqual(sent, []);
});

Deno.test("vetAnswer retries a looping answer with the retry sampling parameters", async () => {
  const { text, sent, guard } = await vet(answer(200, chat(LOOPING)), [answer(200, chat("Fine."))], {
    retrySampling: { presence_penalty: 0.4 },
  });
  assert.equal(text, chat("Fine."));
  assert.deepEqual(sent, [{ model: "m", messages: [], presence_penalty: 0.4 }]);
  assert.equal(guard.counters.snapshot().m.retries, 1);
});

Deno.test("vetAnswer ends the last looping answer at its loop start as a length cut, with a header", async () => {
  const { result, text, guard } = await vet(answer(200, chat(LOOPING)), [answer(200, chat(LOOPING))], {
    maxRetries: 1,
  });
  assert.equal(result.status, 200);
  assert.equal(result.headers.get("x-sampling-proxy-garbage"), "exhausted");
  const choice = JSON.parse(text).choices[0];
  assert.equal(choice.finish_reason, "length");
  assert.ok(LOOPING.startsWith(choice.message.content));
  assert.equal(choice.message.content.split("configuration").length, 2, "one copy of the looping sentence");
  assert.equal(guard.counters.snapshot().m.exhausted, 1);
});

Deno.test("vetAnswer with on_exhausted error throws a 422 that says retrying will not help", async () => {
  await assert.rejects(
    vet(answer(200, chat(LOOPING)), [answer(200, chat(LOOPING))], { maxRetries: 1, onExhausted: "error" }),
    (error: unknown) =>
      error instanceof ProxyError && error.status === 422 && error.code === "garbage_detected" &&
      error.headers["x-should-retry"] === "false" && /will not help/.test(error.message),
  );
});

Deno.test("vetAnswer passes a retry's upstream error on", async () => {
  const { result, text } = await vet(answer(200, chat(LOOPING)), [answer(503, '{"error":"busy"}')]);
  assert.equal(result.status, 503);
  assert.equal(text, '{"error":"busy"}');
});

Deno.test("vetAnswer passes a body that is not JSON on unchecked", async () => {
  const { text } = await vet(answer(200, "<html>"), []);
  assert.equal(text, "<html>");
});

Deno.test("vetAnswer asks the validator about a suspicion and retries when it confirms", async () => {
  const suspicious = chat("Let me think. " + "I will now check the configuration file again to be sure. ".repeat(3));
  const checks: string[] = [];
  const validator: Validator = {
    check: (text) => {
      checks.push(text);
      return Promise.resolve({ ok: true, verdict: { isLoop: true, confidence: 0.9, issue: null }, latencyMs: 1 });
    },
  };
  const { text } = await vet(answer(200, suspicious), [answer(200, chat("Fine."))], {}, validator);
  assert.equal(text, chat("Fine."));
  assert.equal(checks.length, 1);
});

Deno.test("vetAnswer lets a suspicion through without a validator", async () => {
  const suspicious = chat("Let me think. " + "I will now check the configuration file again to be sure. ".repeat(3));
  const { text, sent } = await vet(answer(200, suspicious), []);
  assert.equal(text, suspicious);
  assert.deepEqual(sent, []);
});

Deno.test("vetAnswer with local detection off asks the validator about the whole content", async () => {
  const checks: string[] = [];
  const validator: Validator = {
    check: (text) => {
      checks.push(text);
      return Promise.resolve({ ok: true, verdict: { isLoop: false, confidence: 0.9, issue: null }, latencyMs: 1 });
    },
  };
  const { text } = await vet(answer(200, chat(LOOPING)), [], { localDetection: false }, validator);
  assert.equal(text, chat(LOOPING));
  assert.deepEqual(checks, [LOOPING]);
});

Deno.test("vetAnswer's answer gives the same reader each time it is asked", async () => {
  const { result } = await vet(answer(200, chat("Fine.")), []);
  assert.equal(result.reader(), result.reader());
});

Deno.test("vetAnswer logs a give-up after one attempt in the singular", async () => {
  const logger = memoryLogger();
  await vet(answer(200, chat(LOOPING)), [], { maxRetries: 0 }, undefined, logger);
  const line = logger.lines.find((l) => l.includes("gave up"));
  assert.match(line ?? "", /on attempt 1 of 1: gave up after 1 attempt:/);
});
