import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import type { ToolCallLoopVerdict } from "../../src/guard/tool_call_repeat_detector.ts";

/** Feeds OpenAI chunks (their `delta.tool_calls`, then an optional finish) and returns the first verdict. */
function openai(fragments: unknown[][], finish = true): { verdict: ToolCallLoopVerdict | null; at: number } {
  const calls = OPENAI_CHAT.guard.toolCalls();
  const chunks = fragments.map((tool_calls) => ({
    choices: [{ index: 0, delta: { tool_calls }, finish_reason: null as string | null }],
  }));
  if (finish) chunks.push({ choices: [{ index: 0, delta: { tool_calls: [] }, finish_reason: "tool_calls" }] });
  for (const [at, chunk] of chunks.entries()) {
    const verdict = calls.push(OPENAI_CHAT.guard.eventFacts({ data: JSON.stringify(chunk) }));
    if (verdict) return { verdict, at };
  }
  return { verdict: calls.finish(), at: chunks.length };
}

const call = (index: number | undefined, id: string | undefined, name: string | undefined, args: string) => ({
  ...(index === undefined ? {} : { index }),
  ...(id === undefined ? {} : { id, type: "function" }),
  function: { ...(name === undefined ? {} : { name }), arguments: args },
});

Deno.test("StreamedToolCalls finds the third identical sequential OpenAI call when the fourth starts", () => {
  const fragments = [0, 1, 2, 3].flatMap((i) => [
    [call(i, `call_${i}`, "Bash", "")],
    [call(i, undefined, undefined, '{"command":')],
    [call(i, undefined, undefined, '"ls -la"}')],
  ]);
  const { verdict, at } = openai(fragments, false);
  assert.equal(verdict?.name, "Bash");
  assert.equal(verdict?.repeats, 3);
  assert.equal(at, 9, "the fourth call's first fragment completes the third call");
});

Deno.test("StreamedToolCalls compares arguments after sorting their keys and ignores different calls", () => {
  const same = openai([
    [call(0, "a", "Read", '{"path":"x","limit":5}')],
    [call(1, "b", "Read", '{"limit":5,"path":"x"}')],
    [call(2, "c", "Read", '{ "path": "x", "limit": 5 }')],
  ]);
  assert.equal(same.verdict?.repeats, 3);
  const different = openai([
    [call(0, "a", "Read", '{"path":"x"}')],
    [call(1, "b", "Read", '{"path":"y"}')],
    [call(2, "c", "Read", '{"path":"z"}')],
    [call(3, "d", "Write", '{"path":"x"}')],
  ]);
  assert.equal(different.verdict, null);
});

Deno.test("StreamedToolCalls keeps interleaved parallel calls open until their JSON is whole", () => {
  // Three identical calls whose fragments interleave: none is complete before the end, so none is recorded early.
  const { verdict, at } = openai([
    [call(0, "a", "Bash", '{"command":')],
    [call(1, "b", "Bash", '{"command":')],
    [call(2, "c", "Bash", '{"command":')],
    [call(0, undefined, undefined, '"pwd"}')],
    [call(1, undefined, undefined, '"pwd"}')],
    [call(2, undefined, undefined, '"pwd"}')],
  ]);
  assert.equal(verdict?.repeats, 3);
  assert.equal(at, 6, "found at the finish_reason chunk");
});

Deno.test("StreamedToolCalls tells calls apart by id when the index is always 0 or missing", () => {
  const always0 = openai([
    [call(0, "a", "Bash", '{"command":"pwd"}')],
    [call(0, "b", "Bash", '{"command":"pwd"}')],
    [call(0, "c", "Bash", '{"command":"pwd"}')],
  ]);
  assert.equal(always0.verdict?.repeats, 3);
  const missing = openai([
    [call(undefined, "a", "Bash", '{"command":')],
    [call(undefined, undefined, undefined, '"pwd"}')],
    [call(undefined, "b", "Bash", '{"command":"pwd"}')],
    [call(undefined, "c", "Bash", '{"command":"pwd"}')],
  ]);
  assert.equal(missing.verdict?.repeats, 3);
});

Deno.test("StreamedToolCalls records Anthropic tool_use blocks at their stop", () => {
  const calls = ANTHROPIC_MESSAGES.guard.toolCalls();
  const verdicts: (ToolCallLoopVerdict | null)[] = [];
  const push = (event: string, data: Record<string, unknown>) =>
    verdicts.push(
      calls.push(ANTHROPIC_MESSAGES.guard.eventFacts({ event, data: JSON.stringify({ type: event, ...data }) })),
    );
  for (const index of [0, 1, 2]) {
    push("content_block_start", {
      index,
      content_block: { type: "tool_use", id: `toolu_${index}`, name: "Grep", input: {} },
    });
    push("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: '{"pattern":' } });
    push("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: '"TODO"}' } });
    push("content_block_stop", { index });
  }
  assert.deepEqual(verdicts.map((v) => v?.repeats ?? null), [...Array(11).fill(null), 3]);
  assert.equal(calls.finish(), null);
});
