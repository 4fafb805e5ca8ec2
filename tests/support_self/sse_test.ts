import assert from "node:assert/strict";
import { formatSse, parseSseText, readSse, type SseEvent } from "../support/sse.ts";

const wire =
  'event: message_start\ndata: {"a":1}\n\ndata: plain\n\n: comment\r\nevent: two\r\ndata: x\r\ndata: y\r\n\r\n';
const parsed: SseEvent[] = [
  { event: "message_start", data: '{"a":1}' },
  { data: "plain" },
  { event: "two", data: "x\ny" },
];

/** Builds a response whose body arrives in the given byte pieces. */
function responseOf(pieces: Uint8Array[]): Response {
  return new Response(ReadableStream.from(pieces));
}

Deno.test("parseSseText parses named, unnamed, commented, CRLF and multi-line events", () => {
  assert.deepEqual(parseSseText(wire), parsed);
});

Deno.test("parseSseText leaves out a last event without its blank line", () => {
  assert.deepEqual(parseSseText("data: a\n\ndata: b\n"), [{ data: "a" }]);
});

Deno.test("formatSse round-trips through parseSseText", () => {
  const text = parsed.map(formatSse).join("");
  assert.equal(text.startsWith('event: message_start\ndata: {"a":1}\n\n'), true);
  assert.deepEqual(parseSseText(text), parsed);
});

Deno.test("formatSse rejects an event name with a newline", () => {
  assert.throws(() => formatSse({ event: "a\nb", data: "" }), {
    name: "TypeError",
    message: /cannot contain a newline/,
  });
});

Deno.test("readSse gives the same events for a body split at every byte offset", async () => {
  const bytes = new TextEncoder().encode(`${wire}data: 日本語 and 🦕\n\n`);
  const expected = [...parsed, { data: "日本語 and 🦕" }];
  for (let cut = 1; cut < bytes.length; cut++) {
    const events = await readSse(responseOf([bytes.slice(0, cut), bytes.slice(cut)]));
    assert.deepEqual(events, expected, `split at byte ${cut}`);
  }
});

Deno.test("readSse gives no events for a response without a body", async () => {
  assert.deepEqual(await readSse(new Response(null, { status: 204 })), []);
});
