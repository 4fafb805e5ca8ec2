import assert from "node:assert/strict";
import { createLogger, escapeControl, memoryLogger } from "../../src/observability/logger.ts";
import { Redactor } from "../../src/observability/redact.ts";

Deno.test("escapeControl escapes control characters, DEL, C1, line separators and bidi overrides", () => {
  const cases: [string, string][] = [
    ["a\nb", "a\\nb"],
    ["a\r\nb\tc", "a\\r\\nb\\tc"],
    ["\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"],
    ["nul\x00 bell\x07 del\x7f c1\x9b", "nul\\x00 bell\\x07 del\\x7f c1\\x9b"],
    ["ls\u2028ps\u2029", "ls\\u2028ps\\u2029"],
    ["rlo\u202e iso\u2066", "rlo\\u202e iso\\u2066"],
    ["plain ünïcode 模型 🙂 \\n", "plain ünïcode 模型 🙂 \\n"],
  ];
  for (const [input, want] of cases) assert.equal(escapeControl(input), want, JSON.stringify(input));
});

Deno.test("logger writes one line per record: message and request id escaped, secrets redacted", () => {
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line), now: () => 0, redactor: new Redactor(["s3cret"]) });
  logger.log("warn", "model=evil\n2026-01-01T00:00:00.000Z INFO  forged \x1b[2J key s3cret", "req-1\r\n");
  assert.deepEqual(lines, [
    "1970-01-01T00:00:00.000Z WARN  [req-1\\r\\n] model=evil\\n2026-01-01T00:00:00.000Z INFO  forged \\x1b[2J key [REDACTED]",
  ]);
});

Deno.test("withSecrets writes to the same sink and adds the values to the redactor", () => {
  const logger = memoryLogger();
  const keyed = logger.withSecrets(["configured-key"]);
  keyed.log("info", "key configured-key, token sk-ant-abcdefghijklmnopqrst");
  logger.log("debug", "unkeyed configured-key");
  assert.equal(logger.lines.length, 2);
  assert.match(logger.lines[0], /key \[REDACTED\], token sk-ant-\[REDACTED\]$/);
  assert.match(logger.lines[1], /unkeyed configured-key$/);
  assert.equal(keyed.redactor.redact("configured-key"), "[REDACTED]");
  assert.equal(keyed.debugEnabled, true);
});
