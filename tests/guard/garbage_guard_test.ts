import assert from "node:assert/strict";
import type { LoggingConfig } from "../../src/config/config.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createGarbageGuard, GarbageGuard, guardSettings } from "../../src/guard/garbage_guard.ts";
import { memoryLogger } from "../../src/observability/logger.ts";
import { validationConfig } from "../support/config_defaults.ts";

function logging(overrides: Partial<LoggingConfig> = {}): LoggingConfig {
  return {
    debug: false,
    overrides: false,
    validation: false,
    dumpDir: "/nonexistent",
    dumpMaxBytes: 1000,
    ...overrides,
  };
}

Deno.test("guardSettings of the default validation section has the seed's defaults", () => {
  const settings = guardSettings(validationConfig(), logging());
  assert.equal(settings.enabled, false);
  assert.equal(settings.localDetection, true);
  assert.equal(settings.holdBackChars, 256);
  assert.equal(settings.maxRetries, 3);
  assert.equal(settings.retryBaseDelayMs, 1000);
  assert.equal(settings.retryMultiplier, 2);
  assert.deepEqual(settings.retrySampling, {});
  assert.equal(settings.midStreamWords, 0);
});

Deno.test("guardSettings reads the validation keys", () => {
  const settings = guardSettings(
    validationConfig({
      enabled: true,
      localDetection: false,
      holdBackChars: 512,
      maxRetries: 1,
      retryBaseDelaySeconds: 0.5,
      retryMultiplier: 3,
      retrySampling: { presence_penalty: 0.5 },
      midStreamValidationEnabled: true,
      midStreamValidationIntervalWords: 120,
    }),
    logging({ validation: true, dumpDir: "/tmp/dumps" }),
  );
  assert.deepEqual(
    [settings.enabled, settings.localDetection, settings.holdBackChars, settings.maxRetries, settings.retryBaseDelayMs],
    [true, false, 512, 1, 500],
  );
  assert.deepEqual(settings.retrySampling, { presence_penalty: 0.5 });
  assert.equal(settings.midStreamWords, 120);
  assert.equal(settings.verboseLogs, true);
  assert.equal(settings.dumpDir, "/tmp/dumps");
});

Deno.test("GarbageGuard.retryDelayMs retries at once first, then backs off exponentially", () => {
  const guard = new GarbageGuard(
    guardSettings(validationConfig({ retryBaseDelaySeconds: 1, retryMultiplier: 2 }), logging()),
    {
      logger: memoryLogger(),
    },
  );
  assert.deepEqual([1, 2, 3, 4].map((failed) => guard.retryDelayMs(failed)), [0, 1000, 2000, 4000]);
  assert.equal(guard.attempts, 4);
});

/** What the config loader and `createGarbageGuard` make of a `validation` section. */
function guardFor(validation: Record<string, unknown>, env: Record<string, string> = {}) {
  const { config } = parseConfig(JSON.stringify({ validation }), { env });
  return createGarbageGuard(config.validation, {
    logging: logging(),
    logger: memoryLogger(),
    validator: config.validator,
  });
}

Deno.test("createGarbageGuard builds a validator only when enabled with a validator_url", () => {
  const url = "http://127.0.0.1:1";
  assert.notEqual(guardFor({ enabled: true, validator_url: url }).validator, undefined);
  assert.equal(guardFor({ enabled: true }).validator, undefined);
  assert.equal(guardFor({ enabled: false, validator_url: url }).validator, undefined);
  assert.equal(guardFor({ enabled: true, validator_url: url, validator_enabled: false }).validator, undefined);
});

Deno.test("the validator is checked at load like any upstream: protocols, key variable", async () => {
  const url = "http://127.0.0.1:1";
  assert.throws(
    () => guardFor({ enabled: true, validator_url: url, supports_openai: false }),
    /validation: supports_openai and supports_anthropic cannot both be false/,
  );
  const keyed = { enabled: true, validator_url: url, validator_api_key_env: "JUDGE_KEY" };
  // An unset key variable is a start-up warning, as for any upstream, and each check is refused naming it.
  const { warnings } = parseConfig(JSON.stringify({ validation: keyed }), { env: {} });
  assert.match(warnings.join("\n"), /validation\.api_key_env: environment variable JUDGE_KEY is not set/);
  const unkeyed = guardFor(keyed).validator;
  assert.ok(unkeyed);
  assert.match(await unkeyed.check("text").then((result) => result.ok ? "ok" : result.error), /JUDGE_KEY is not set/);
  assert.notEqual(guardFor(keyed, { JUDGE_KEY: "sk-judge" }).validator, undefined);
});

Deno.test("GarbageGuard.report writes a redacted dump, counts and logs the incident", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { lines, ...memory } = memoryLogger();
    const logger = memory.withSecrets(["configured-local-key"]);
    const guard = new GarbageGuard(
      guardSettings(validationConfig({ enabled: true }), logging({ dumpDir: dir, dumpMaxBytes: 1e6 })),
      {
        logger,
      },
    );
    await guard.report({
      requestId: "req-7",
      model: "m",
      upstream: "local",
      channel: "content",
      reason: "periodic-tail",
      description: "periodic-tail, period 6, 40 repeats",
      attempt: 1,
      outcome: "retrying (attempt 2 of 4)",
      text: "again again sk-abcdefghijklmnop0123456789 again configured-local-key",
    });
    const [entry] = await Array.fromAsync(Deno.readDir(dir));
    const dump = await Deno.readTextFile(`${dir}/${entry.name}`);
    assert.match(dump, /Outcome: retrying \(attempt 2 of 4\)/);
    assert.match(dump, /channel: content/);
    assert.ok(!dump.includes("sk-abcdefghijklmnop0123456789"));
    assert.ok(!dump.includes("configured-local-key"), "the logger's redactor knows the configured keys");
    assert.deepEqual(guard.healthReport().models.m.detections, { "periodic-tail": 1 });
    assert.ok(lines.some((line) => line.includes("[req-7]") && line.includes("attempt 1 of 4: retrying")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GarbageGuard.log shows routine validation lines at info only with enable_validation_logs", () => {
  const quiet = memoryLogger();
  new GarbageGuard(guardSettings(validationConfig(), logging()), { logger: quiet }).log("info", "verdict", "req-1");
  assert.match(quiet.lines[0], /DEBUG/);
  const verbose = memoryLogger();
  new GarbageGuard(guardSettings(validationConfig(), logging({ validation: true })), { logger: verbose }).log(
    "info",
    "verdict",
    "r",
  );
  assert.match(verbose.lines[0], /INFO/);
});
