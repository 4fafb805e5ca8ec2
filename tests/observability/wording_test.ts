import assert from "node:assert/strict";
import { exhaustedMessage } from "../../src/guard/exchange.ts";
import { countOf } from "../../src/observability/wording.ts";

Deno.test("countOf uses the singular for one only", () => {
  assert.equal(countOf(0, "request"), "0 requests");
  assert.equal(countOf(1, "attempt"), "1 attempt");
  assert.equal(countOf(2, "attempt"), "2 attempts");
});

Deno.test("exhaustedMessage says 1 attempt, not 1 attempts", () => {
  assert.match(exhaustedMessage("a loop", 1), /kept producing it in 1 attempt;/);
  assert.match(exhaustedMessage("a loop", 3), /in 3 attempts;/);
});
