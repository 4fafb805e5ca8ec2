import assert from "node:assert/strict";
import { isJsonObject } from "../../src/protocols/json_object.ts";

Deno.test("isJsonObject accepts objects and refuses null, arrays and primitives", () => {
  assert.equal(isJsonObject({}), true);
  assert.equal(isJsonObject({ a: [1] }), true);
  for (const value of [null, undefined, [], [{}], "{}", 1, true]) {
    assert.equal(isJsonObject(value), false, JSON.stringify(value));
  }
});
