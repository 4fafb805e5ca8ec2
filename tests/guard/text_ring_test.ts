import assert from "node:assert/strict";
import { classify } from "../../src/guard/char_class.ts";
import { TextRing } from "../../src/guard/text_ring.ts";

function ringOf(text: string, capacity: number): TextRing {
  const ring = new TextRing(capacity);
  for (let i = 0; i < text.length; i++) ring.push(text.charCodeAt(i), classify(text.charCodeAt(i)));
  return ring;
}

Deno.test("TextRing keeps only the latest positions and clips slices to them", () => {
  const ring = ringOf("abcdefghij", 4);
  assert.equal(ring.capacity, 4);
  assert.equal(ring.length, 10);
  assert.equal(ring.oldest, 6);
  assert.equal(ring.slice(0, 10), "ghij");
  assert.equal(ring.slice(7, 9), "hi");
  assert.equal(String.fromCharCode(ring.at(9)), "j");
});

Deno.test("TextRing counts character classes over a span", () => {
  const ring = ringOf("ab 12 {x} _/ 缓存", 64);
  assert.equal(ring.letters(0, ring.length), 5);
  assert.equal(ring.digits(0, ring.length), 2);
  assert.equal(ring.breaks(0, ring.length), 6);
  assert.equal(ring.code(0, ring.length), 4);
  assert.equal(ring.letters(6, 9), 1);
});

Deno.test("TextRing moves a boundary off the middle of a surrogate pair", () => {
  const ring = ringOf("a😀b", 8);
  assert.equal(ring.boundary(2), 1);
  assert.equal(ring.boundary(3), 3);
  assert.equal(ring.slice(0, 2), "a\ufffd");
});

Deno.test("TextRing rejects a capacity out of range", () => {
  assert.throws(() => new TextRing(0), RangeError);
  assert.throws(() => new TextRing(1 << 20), RangeError);
});
