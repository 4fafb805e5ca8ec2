import assert from "node:assert/strict";
import { ToolCallRepeatDetector } from "../../src/guard/tool_call_repeat_detector.ts";

Deno.test("ToolCallRepeatDetector flags the third identical call", () => {
  const detector = new ToolCallRepeatDetector();
  assert.equal(detector.record("read_file", '{"path":"a.ts"}'), null);
  assert.equal(detector.record("list_dir", '{"path":"."}'), null);
  assert.equal(detector.record("read_file", '{"path":"a.ts"}'), null);
  const verdict = detector.record("read_file", '{"path":"a.ts"}');
  assert.deepEqual(verdict, {
    level: "loop",
    reason: "repeated-tool-call",
    name: "read_file",
    repeats: 3,
    firstRepeatIndex: 2,
    excerpt: '{"path":"a.ts"}',
  });
});

Deno.test("ToolCallRepeatDetector treats reordered keys and white space as the same arguments", () => {
  const detector = new ToolCallRepeatDetector({ maxIdentical: 2 });
  assert.equal(detector.record("edit", '{"file":"a.ts","line":3,"opts":{"x":1,"y":[1,2]}}'), null);
  assert.equal(
    detector.record("edit", { opts: { y: [1, 2], x: 1 }, line: 3, file: "a.ts" })?.repeats,
    2,
  );
});

Deno.test("ToolCallRepeatDetector keeps different tools and different arguments apart", () => {
  const detector = new ToolCallRepeatDetector({ maxIdentical: 2 });
  assert.equal(detector.record("read_file", '{"path":"a.ts"}'), null);
  assert.equal(detector.record("read_file", '{"path":"b.ts"}'), null);
  assert.equal(detector.record("write_file", '{"path":"a.ts"}'), null);
  assert.equal(detector.record("read_file", '{"path":"a.ts","limit":10}'), null);
});

Deno.test("ToolCallRepeatDetector compares arguments that are not JSON as trimmed text", () => {
  const detector = new ToolCallRepeatDetector({ maxIdentical: 2 });
  assert.equal(detector.record("shell", "ls -la {"), null);
  assert.equal(detector.record("shell", "  ls -la {\n")?.excerpt, "ls -la {");
});

Deno.test("ToolCallRepeatDetector keeps reporting further identical calls", () => {
  const detector = new ToolCallRepeatDetector({ maxIdentical: 2 });
  detector.record("t", "{}");
  assert.equal(detector.record("t", "{}")?.repeats, 2);
  assert.equal(detector.record("t", "{}")?.repeats, 3);
});

Deno.test("ToolCallRepeatDetector rejects a threshold below two", () => {
  assert.throws(() => new ToolCallRepeatDetector({ maxIdentical: 1 }), RangeError);
});
