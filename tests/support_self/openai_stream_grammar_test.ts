import assert from "node:assert/strict";
import { assertValidOpenAIStream } from "../support/openai_stream_grammar.ts";
import type { SseEvent } from "../support/sse.ts";

type Delta = Record<string, unknown>;

const envelope = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "mock-model" };
const chunk = (delta: Delta, finishReason: string | null = null): SseEvent => ({
  data: JSON.stringify({ ...envelope, choices: [{ index: 0, delta, finish_reason: finishReason }] }),
});
const usageChunk: SseEvent = {
  data: JSON.stringify({
    ...envelope,
    choices: [],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  }),
};
const done: SseEvent = { data: "[DONE]" };
const errorChunk: SseEvent = { data: JSON.stringify({ error: { code: 500, message: "boom", type: "server_error" } }) };
const toolStart = (index: number, id: string, name: string): Delta => ({
  tool_calls: [{ index, id, type: "function", function: { name, arguments: "" } }],
});
const toolArgs = (index: number, piece: string): Delta => ({ tool_calls: [{ index, function: { arguments: piece } }] });

const fullStream: SseEvent[] = [
  chunk({ role: "assistant", content: null }),
  chunk({ reasoning_content: "Think " }),
  chunk({ reasoning: "more." }),
  chunk({ content: "Calling " }),
  chunk({ content: "tools." }),
  chunk(toolStart(0, "call_a", "Read")),
  chunk(toolStart(1, "call_b", "Bash")),
  chunk(toolArgs(0, '{"path":')),
  chunk(toolArgs(1, '{"command":"ls"}')),
  chunk(toolArgs(0, '"a.txt"}')),
  chunk({}, "tool_calls"),
  usageChunk,
  done,
];

Deno.test("assertValidOpenAIStream returns text, reasoning, interleaved tool calls and usage", () => {
  assert.deepEqual(assertValidOpenAIStream(fullStream), {
    id: "chatcmpl-1",
    model: "mock-model",
    text: "Calling tools.",
    reasoning: "Think more.",
    toolCalls: [
      { index: 0, id: "call_a", name: "Read", arguments: '{"path":"a.txt"}' },
      { index: 1, id: "call_b", name: "Bash", arguments: '{"command":"ls"}' },
    ],
    finishReason: "tool_calls",
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    error: undefined,
  });
});

Deno.test("assertValidOpenAIStream accepts a stream without a usage chunk", () => {
  const summary = assertValidOpenAIStream([chunk({ role: "assistant", content: "Hi" }, "stop"), done]);
  assert.equal(summary.text, "Hi");
  assert.equal(summary.usage, undefined);
});

Deno.test("assertValidOpenAIStream accepts a stream that ends with an error object", () => {
  const summary = assertValidOpenAIStream([chunk({ role: "assistant", content: "Hi" }), errorChunk]);
  assert.deepEqual(summary.error, { code: 500, message: "boom", type: "server_error" });
  assert.equal(summary.finishReason, undefined);
});

Deno.test("assertValidOpenAIStream accepts [DONE] after an error object", () => {
  assert.equal(assertValidOpenAIStream([errorChunk, done]).error?.message, "boom");
});

/** A stream broken in one way, and the message the checker must give. */
interface BrokenCase {
  name: string;
  stream: SseEvent[];
  problem: RegExp;
}

const spliced = (at: number, remove: number, ...items: SseEvent[]) => fullStream.toSpliced(at, remove, ...items);

const brokenCases: BrokenCase[] = [
  { name: "an empty stream", stream: [], problem: /at the end: the stream ended without \[DONE\]/ },
  { name: "a missing [DONE]", stream: fullStream.slice(0, -1), problem: /ended without \[DONE\]/ },
  {
    name: "[DONE] before the finish_reason",
    stream: [chunk({ role: "assistant", content: "Hi" }), done],
    problem: /event 1 \(\[DONE\]\): \[DONE\] before any finish_reason/,
  },
  { name: "an event after [DONE]", stream: [...fullStream, done], problem: /event after \[DONE\]/ },
  { name: "a first delta without the role", stream: spliced(0, 1), problem: /event 0 \(chunk\): the first delta/ },
  {
    name: "a chunk id that changes",
    stream: spliced(3, 1, { data: JSON.stringify({ ...envelope, id: "chatcmpl-2", choices: [] }) }),
    problem: /chunk id "chatcmpl-2" differs from "chatcmpl-1"/,
  },
  {
    name: "a wrong object",
    stream: spliced(3, 1, { data: JSON.stringify({ ...envelope, object: "chat.completion", choices: [] }) }),
    problem: /object must be "chat.completion.chunk"/,
  },
  {
    name: "a second finish_reason",
    stream: spliced(11, 0, chunk({}, "stop")),
    problem: /event 11 \(chunk\): choice chunk after the finish_reason chunk/,
  },
  {
    name: "an unknown finish_reason",
    stream: spliced(10, 1, chunk({}, "end_turn")),
    problem: /unknown finish_reason "end_turn"/,
  },
  {
    name: "a usage chunk before the finish_reason",
    stream: spliced(4, 0, usageChunk),
    problem: /usage chunk before the finish_reason chunk/,
  },
  {
    name: "a tool call delta without an index",
    stream: spliced(7, 1, chunk({ tool_calls: [{ function: { arguments: "{" } }] })),
    problem: /tool call delta without an integer index/,
  },
  {
    name: "a tool call index that skips ahead",
    stream: spliced(6, 1, chunk(toolStart(2, "call_b", "Bash"))),
    problem: /tool call index 2 opened, expected 1/,
  },
  {
    name: "a tool call that changes its id (index always 0)",
    stream: spliced(6, 1, chunk(toolStart(0, "call_b", "Bash"))),
    problem: /tool call 0 changed its id from "call_a" to "call_b"/,
  },
  {
    name: "a tool call opened without an id",
    stream: spliced(5, 1, chunk({ tool_calls: [{ index: 0, type: "function", function: { name: "Read" } }] })),
    problem: /tool call 0 opened without an id/,
  },
  {
    name: "a tool call opened with an empty name",
    stream: spliced(5, 1, chunk(toolStart(0, "call_a", ""))),
    problem: /tool call 0 opened without a name/,
  },
  {
    name: "tool arguments that do not parse",
    stream: spliced(9, 1),
    problem: /at the end: tool call 0 arguments are not a JSON object: "\{\\"path\\":"/,
  },
  {
    name: "a non-string content",
    stream: spliced(3, 1, chunk({ content: 42 })),
    problem: /delta.content must be a string or null/,
  },
  {
    name: "two choices",
    stream: spliced(3, 1, { data: JSON.stringify({ ...envelope, choices: [{ index: 0, delta: {} }, { index: 1 }] }) }),
    problem: /expected one choice, got 2/,
  },
  {
    name: "data that is not JSON",
    stream: spliced(3, 1, { data: "not json" }),
    problem: /data is neither a JSON object nor \[DONE\]/,
  },
  {
    name: "a chunk after an error",
    stream: [errorChunk, chunk({ role: "assistant" })],
    problem: /event after the error/,
  },
  {
    name: "an error without a message",
    stream: [{ data: JSON.stringify({ error: { code: 500 } }) }],
    problem: /error without a message string/,
  },
];

for (const { name, stream, problem } of brokenCases) {
  Deno.test(`assertValidOpenAIStream rejects ${name}`, () => {
    assert.throws(() => assertValidOpenAIStream(stream), { name: "AssertionError", message: problem });
  });
}
