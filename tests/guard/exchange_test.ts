import assert from "node:assert/strict";
import {
  backoff,
  consultValidator,
  describeConfirmed,
  describeVerdict,
  exhaustedMessage,
} from "../../src/guard/exchange.ts";
import { GarbageGuard, guardSettings } from "../../src/guard/garbage_guard.ts";
import type { LoopVerdict } from "../../src/guard/loop_verdict.ts";
import type { Validator, ValidatorVerdict } from "../../src/guard/validator_client.ts";
import { memoryLogger } from "../../src/observability/logger.ts";
import { debugLogging, exchangeOptions } from "./exchange_options.ts";
import { validationConfig } from "../support/config_defaults.ts";

const LOGGING = debugLogging("/x", 1);

const VERDICT: LoopVerdict = {
  level: "suspicious",
  reason: "periodic-tail",
  period: 33,
  repeats: 3,
  start: 10,
  detectedAt: 109,
  excerpt: "text",
};

/** Exchange options around a guard whose validator answers `answer`. */
function exchange(answer: ValidatorVerdict | undefined) {
  const logger = memoryLogger();
  const checked: string[] = [];
  const validator: Validator | undefined = answer && {
    check: (text) => {
      checked.push(text);
      return Promise.resolve(answer);
    },
  };
  const guard = new GarbageGuard(guardSettings(validationConfig({ enabled: true }), LOGGING), { logger, validator });
  const options = exchangeOptions(guard);
  return { options, logger, checked, guard };
}

const signal = new AbortController().signal;

Deno.test("consultValidator reports a confirmed loop and counts the call", async () => {
  const { options, logger, checked, guard } = exchange({
    ok: true,
    verdict: { isLoop: true, confidence: 0.9, issue: "same line" },
    latencyMs: 12,
  });
  assert.deepEqual(await consultValidator(options, "abc", { reason: "r", signal }), {
    kind: "loop",
    confidence: 0.9,
    issue: "same line",
  });
  assert.deepEqual(checked, ["abc"]);
  assert.equal(guard.counters.snapshot().m.validator_calls, 1);
  assert.ok(logger.lines.some((line) => line.includes('Validator: loop (confidence 0.90, "same line") after 12 ms')));
});

Deno.test("consultValidator reports no loop as clear", async () => {
  const { options } = exchange({ ok: true, verdict: { isLoop: false, confidence: 0.9, issue: null }, latencyMs: 1 });
  assert.deepEqual(await consultValidator(options, "abc", { reason: "r", signal }), { kind: "clear" });
});

Deno.test("consultValidator logs a failure once and counts it", async () => {
  const { options, logger, guard } = exchange({ ok: false, kind: "timeout", error: "too slow", latencyMs: 300 });
  assert.deepEqual(await consultValidator(options, "abc", { reason: "r", signal }), { kind: "failed" });
  assert.equal(logger.lines.filter((line) => line.includes("Validator failed (timeout)")).length, 1);
  assert.equal(guard.counters.snapshot().m.validator_failures, 1);
});

Deno.test("consultValidator neither counts nor logs an aborted check", async () => {
  const { options, logger, guard } = exchange({ ok: false, kind: "aborted", error: "aborted", latencyMs: 3 });
  assert.deepEqual(await consultValidator(options, "abc", { reason: "r", signal }), { kind: "failed" });
  assert.deepEqual(logger.lines, []);
  assert.deepEqual(guard.counters.snapshot(), {});
});

Deno.test("consultValidator without a validator reports a failure", async () => {
  const { options } = exchange(undefined);
  assert.deepEqual(await consultValidator(options, "abc", { reason: "r", signal }), { kind: "failed" });
});

Deno.test("describeVerdict and describeConfirmed name the evidence", () => {
  assert.equal(describeVerdict(VERDICT), "periodic-tail, period 33, 3 repeats");
  assert.equal(
    describeConfirmed(VERDICT, { confidence: 0.951, issue: "same sentence" }),
    "periodic-tail, period 33, 3 repeats; validator confidence 0.95: same sentence",
  );
});

Deno.test("exhaustedMessage counts the attempts", () => {
  assert.equal(
    exhaustedMessage("x", 1),
    "Garbage output detected (x); the model kept producing it in 1 attempt; sending the same request again will not help",
  );
  assert.match(exhaustedMessage("x", 3), /in 3 attempts; /);
});

Deno.test("backoff resolves early when the signal aborts", async () => {
  const controller = new AbortController();
  const waiting = backoff(60_000, controller.signal);
  controller.abort();
  // The abort event is dispatched synchronously, so the wait must already be settled. Both racers settle after the
  // same number of reactions, so a settled wait wins by being registered first. An ignored abort leaves it pending
  // (and its 60 s timer then also trips Deno's timer leak sanitizer): a quick failure, never a slow pass.
  const state = await Promise.race([waiting.then(() => "settled"), Promise.resolve("pending").then((s) => s)]);
  assert.equal(state, "settled", "the abort did not end the wait");
  await backoff(0, signal);
});
