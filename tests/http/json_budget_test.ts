import assert from "node:assert/strict";
import { ProxyError } from "../../src/http/errors.ts";
import { checkJsonBudget } from "../../src/http/json_budget.ts";

const encoder = new TextEncoder();

/** The values the scan counts in `json`: the budget at which it passes but one less fails. */
function countedValues(json: string): number {
  const bytes = encoder.encode(json);
  for (let budget = 1; budget < 1000; budget++) {
    try {
      checkJsonBudget(bytes, { maxDepth: 100, maxValues: budget });
      return budget;
    } catch (error) {
      if (!(error instanceof ProxyError) || error.status !== 413) throw error;
    }
  }
  throw new Error("more than 1000 values");
}

Deno.test("checkJsonBudget counts containers and scalar values, not keys and not what is inside strings", () => {
  const cases: [string, number][] = [
    ["{}", 1],
    ['{"a":1}', 2],
    ['{"a":1,"b":"two","c":[true,false,null]}', 7],
    ["[1, 2 ,3]", 4],
    ['{"text":"{[,:]} \\" , [ {"}', 2],
    ['{"k\\\\":"v"}', 2],
    ["[[],[[]],{}]", 5],
    ['{"model":"m","n":-1.5e10}', 3],
  ];
  for (const [json, want] of cases) assert.equal(countedValues(json), want, json);
});

Deno.test("checkJsonBudget rejects depth beyond the budget with 400 and ignores brackets inside strings", () => {
  const bytes = (json: string) => encoder.encode(json);
  assert.throws(
    () => checkJsonBudget(bytes("[".repeat(11) + "]".repeat(11)), { maxDepth: 10, maxValues: 100 }),
    (error: unknown) =>
      error instanceof ProxyError && error.status === 400 && /deeper than 10 levels/.test(error.message),
  );
  checkJsonBudget(bytes("[".repeat(10) + "]".repeat(10)), { maxDepth: 10, maxValues: 100 });
  checkJsonBudget(bytes(`{"a":"${"[".repeat(50)}"}`), { maxDepth: 2, maxValues: 100 });
  checkJsonBudget(bytes("[[]]".repeat(50)), { maxDepth: 2, maxValues: 100 });
});
