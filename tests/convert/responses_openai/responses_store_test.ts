import assert from "node:assert/strict";
import { ResponsesStore, type StoredResponse } from "../../../src/convert/responses_openai/responses_store.ts";
import { toResponsesObject } from "../../../src/convert/responses_openai/response.ts";

/** A stored entry whose response has id `id` and answer `text`. */
function entry(id: string, text = "answer"): StoredResponse {
  const request = { model: "m", input: "question" };
  const response = toResponsesObject({
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
  }, { request });
  return { input: [{ role: "user", content: "question" }], response: { ...response, id } };
}

/** The bytes an entry takes in the store. */
const sizeOf = (value: StoredResponse) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

Deno.test("ResponsesStore evicts the least recently used entry past maxEntries; get refreshes", () => {
  const store = new ResponsesStore({ maxEntries: 2, maxBytes: 1_000_000 });
  store.put(entry("resp_a"));
  store.put(entry("resp_b"));
  assert.ok(store.get("resp_a"), "reading a makes b the least recently used");
  store.put(entry("resp_c"));
  assert.equal(store.size, 2);
  assert.equal(store.get("resp_b"), undefined);
  assert.ok(store.get("resp_a"));
  assert.ok(store.get("resp_c"));
});

Deno.test("ResponsesStore keeps the JSON bytes within maxBytes and refuses an entry larger than the bound", () => {
  const one = sizeOf(entry("resp_a"));
  const store = new ResponsesStore({ maxEntries: 100, maxBytes: one * 2 + 10 });
  for (const id of ["resp_a", "resp_b", "resp_c"]) assert.equal(store.put(entry(id)), true);
  assert.equal(store.size, 2);
  assert.equal(store.bytes, one * 2);
  assert.equal(store.get("resp_a"), undefined);
  assert.equal(store.put(entry("resp_big", "x".repeat(one * 3))), false);
  assert.equal(store.get("resp_big"), undefined);
  assert.equal(store.size, 2, "a refused entry evicts nothing");
});

Deno.test("ResponsesStore counts UTF-8 bytes, replaces an entry with the same id, and deletes", () => {
  const store = new ResponsesStore({ maxEntries: 10, maxBytes: 1_000_000 });
  const wide = entry("resp_a", "€€€");
  store.put(wide);
  assert.equal(store.bytes, sizeOf(wide));
  assert.ok(sizeOf(wide) > JSON.stringify(wide).length);
  store.put(entry("resp_a", "short"));
  assert.equal(store.size, 1);
  assert.equal(store.bytes, sizeOf(entry("resp_a", "short")));
  assert.equal(store.delete("resp_a"), true);
  assert.equal(store.delete("resp_a"), false);
  assert.equal(store.bytes, 0);
});

Deno.test("ResponsesStore hands out copies, and history is the input followed by the output items", () => {
  const store = new ResponsesStore({ maxEntries: 10, maxBytes: 1_000_000 });
  const original = entry("resp_a", "Paris");
  store.put(original);
  const copy = store.get("resp_a")!;
  copy.input.length = 0;
  const history = store.history("resp_a")!;
  assert.deepEqual(history, [{ role: "user", content: "question" }, ...original.response.output]);
  assert.equal(store.history("resp_missing"), undefined);
});

Deno.test("ResponsesStore refuses bounds that are not positive integers", () => {
  assert.throws(() => new ResponsesStore({ maxEntries: 0, maxBytes: 10 }), RangeError);
  assert.throws(() => new ResponsesStore({ maxEntries: 1, maxBytes: 1.5 }), RangeError);
});
