import assert from "node:assert/strict";
import { assertValidAnthropicStream } from "../support/anthropic_stream_grammar.ts";
import type { SseEvent } from "../support/sse.ts";

type Data = Record<string, unknown> & { type: string };

/** Names each event after its data's type, as the real API does. */
function events(...data: Data[]): SseEvent[] {
  return data.map((item) => ({ event: item.type, data: JSON.stringify(item) }));
}

const messageStart: Data = {
  type: "message_start",
  message: {
    id: "msg_01",
    type: "message",
    role: "assistant",
    model: "mock-model",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 12, cache_read_input_tokens: 3, output_tokens: 1 },
  },
};
const blockStart = (index: number, block: Record<string, unknown>): Data => ({
  type: "content_block_start",
  index,
  content_block: block,
});
const delta = (index: number, body: Record<string, unknown>): Data => ({
  type: "content_block_delta",
  index,
  delta: body,
});
const blockStop = (index: number): Data => ({ type: "content_block_stop", index });
const ping: Data = { type: "ping" };
const messageDelta = (stopReason: string, usage: Record<string, unknown> = { output_tokens: 7 }): Data => ({
  type: "message_delta",
  delta: { stop_reason: stopReason, stop_sequence: null },
  usage,
});
const messageStop: Data = { type: "message_stop" };

const thinkingBlock = [
  blockStart(0, { type: "thinking", thinking: "", signature: "" }),
  delta(0, { type: "thinking_delta", thinking: "Let me " }),
  delta(0, { type: "thinking_delta", thinking: "think." }),
  delta(0, { type: "signature_delta", signature: "c2ln" }),
  blockStop(0),
];
const textBlock = [
  blockStart(1, { type: "text", text: "" }),
  delta(1, { type: "text_delta", text: "Listing " }),
  delta(1, { type: "text_delta", text: "files." }),
  blockStop(1),
];
const toolBlock = [
  blockStart(2, { type: "tool_use", id: "toolu_01", name: "Bash", input: {} }),
  delta(2, { type: "input_json_delta", partial_json: "" }),
  delta(2, { type: "input_json_delta", partial_json: '{"command":' }),
  delta(2, { type: "input_json_delta", partial_json: '"ls -la"}' }),
  blockStop(2),
];
const fullStream = [
  messageStart,
  ...thinkingBlock,
  ping,
  ...textBlock,
  ...toolBlock,
  messageDelta("tool_use"),
  messageStop,
];

const firstBlock = (block: Data[]) => block.map((item) => ({ ...item, index: 0 }));

Deno.test("assertValidAnthropicStream returns the reassembled blocks of a valid stream", () => {
  const summary = assertValidAnthropicStream(events(...fullStream));
  assert.deepEqual(summary, {
    messageId: "msg_01",
    model: "mock-model",
    blocks: [
      { type: "thinking", thinking: "Let me think.", signature: "c2ln" },
      { type: "text", text: "Listing files." },
      { type: "tool_use", id: "toolu_01", name: "Bash", input: { command: "ls -la" } },
    ],
    text: "Listing files.",
    thinking: "Let me think.",
    toolUses: [{ id: "toolu_01", name: "Bash", input: { command: "ls -la" } }],
    stopReason: "tool_use",
    usage: { input_tokens: 12, cache_read_input_tokens: 3, output_tokens: 7 },
    error: undefined,
  });
});

Deno.test("assertValidAnthropicStream accepts a stream without content blocks", () => {
  const summary = assertValidAnthropicStream(events(messageStart, ping, messageDelta("end_turn"), messageStop));
  assert.deepEqual(summary.blocks, []);
  assert.equal(summary.stopReason, "end_turn");
});

Deno.test("assertValidAnthropicStream accepts a tool without arguments as an empty input", () => {
  const summary = assertValidAnthropicStream(events(
    messageStart,
    blockStart(0, { type: "tool_use", id: "call_1", name: "Now", input: {} }),
    delta(0, { type: "input_json_delta", partial_json: "" }),
    blockStop(0),
    messageDelta("tool_use"),
    messageStop,
  ));
  assert.deepEqual(summary.toolUses, [{ id: "call_1", name: "Now", input: {} }]);
});

Deno.test("assertValidAnthropicStream accepts an error event that ends the stream mid-block", () => {
  const error = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
  const summary = assertValidAnthropicStream(events(messageStart, ...firstBlock(textBlock.slice(0, 2)), error));
  assert.deepEqual(summary.error, { type: "overloaded_error", message: "Overloaded" });
  assert.equal(summary.stopReason, undefined);
  assert.deepEqual(summary.blocks, []);
});

Deno.test("assertValidAnthropicStream accepts an error event as the only event", () => {
  const summary = assertValidAnthropicStream(events({ type: "error", error: { type: "api_error", message: "x" } }));
  assert.equal(summary.error?.type, "api_error");
  assert.equal(summary.messageId, undefined);
});

/** A stream broken in one way, and the message the checker must give. */
interface BrokenCase {
  name: string;
  stream: SseEvent[];
  problem: RegExp;
}

const spliced = (at: number, remove: number, ...items: Data[]) => events(...fullStream.toSpliced(at, remove, ...items));
const textOnly = (...blocks: Data[]) => events(messageStart, ...blocks, messageDelta("end_turn"), messageStop);

const brokenCases: BrokenCase[] = [
  { name: "an empty stream", stream: [], problem: /at the end: .*without message_stop/ },
  {
    name: "a duplicate message_start",
    stream: events(messageStart, messageStart, messageDelta("end_turn"), messageStop),
    problem: /event 1 \(message_start\): duplicate message_start/,
  },
  {
    name: "a stream not starting with message_start",
    stream: events(ping, messageStart, messageDelta("end_turn"), messageStop),
    problem: /event 0 \(ping\): the first event must be message_start/,
  },
  {
    name: "a message id without the msg_ prefix",
    stream: events({ ...messageStart, message: { ...(messageStart.message as object), id: "chatcmpl-1" } }),
    problem: /message.id must start with msg_/,
  },
  {
    name: "a message_start with content",
    stream: events({ ...messageStart, message: { ...(messageStart.message as object), content: [{ type: "text" }] } }),
    problem: /message.content must be \[\]/,
  },
  {
    name: "a message_start without usage",
    stream: events({ ...messageStart, message: { ...(messageStart.message as object), usage: undefined } }),
    problem: /numeric input_tokens/,
  },
  {
    name: "a delta for a block that was never started",
    stream: textOnly(delta(0, { type: "text_delta", text: "Hi" }), blockStop(0)),
    problem: /event 1 \(content_block_delta\): delta for block 0 but no block is open/,
  },
  {
    name: "a delta for another block than the open one",
    stream: textOnly(
      blockStart(0, { type: "text", text: "" }),
      delta(1, { type: "text_delta", text: "Hi" }),
      blockStop(0),
    ),
    problem: /delta for block 1 but block 0 is open/,
  },
  {
    name: "overlapping blocks",
    stream: textOnly(
      blockStart(0, { type: "thinking", thinking: "" }),
      blockStart(1, { type: "text", text: "" }),
      blockStop(0),
      blockStop(1),
    ),
    problem: /content_block_start while block 0 is still open/,
  },
  {
    name: "a first block with index 1",
    stream: textOnly(blockStart(1, { type: "text", text: "" }), blockStop(1)),
    problem: /content_block_start index 1, expected 0/,
  },
  {
    name: "a thinking block without a signature",
    stream: spliced(4, 1),
    problem: /event 4 \(content_block_stop\): thinking block closed without a signature_delta/,
  },
  {
    name: "a thinking delta after the signature",
    stream: spliced(5, 0, delta(0, { type: "thinking_delta", thinking: "more" })),
    problem: /thinking_delta after the signature_delta/,
  },
  {
    name: "a thinking delta inside a text block",
    stream: spliced(8, 1, delta(1, { type: "thinking_delta", thinking: "Hmm" })),
    problem: /thinking_delta inside a text block/,
  },
  {
    name: "a text delta inside a thinking block",
    stream: spliced(2, 1, delta(0, { type: "text_delta", text: "Hi" })),
    problem: /text_delta inside a thinking block/,
  },
  {
    name: "a thinking delta that uses the field text",
    stream: spliced(2, 1, delta(0, { type: "thinking_delta", text: "Hmm" })),
    problem: /thinking_delta without a thinking string/,
  },
  {
    name: "an empty signature",
    stream: spliced(4, 1, delta(0, { type: "signature_delta", signature: "" })),
    problem: /signature_delta without a signature/,
  },
  {
    name: "a tool_use block with an empty name",
    stream: spliced(11, 1, blockStart(2, { type: "tool_use", id: "toolu_01", name: "", input: {} })),
    problem: /tool_use block without a name/,
  },
  {
    name: "a tool_use block without an id",
    stream: spliced(11, 1, blockStart(2, { type: "tool_use", name: "Bash", input: {} })),
    problem: /id must start with toolu_ or call_/,
  },
  {
    name: "a tool_use block starting with a non-empty input",
    stream: spliced(11, 1, blockStart(2, { type: "tool_use", id: "toolu_01", name: "Bash", input: { a: 1 } })),
    problem: /start input must be \{\}/,
  },
  {
    name: "tool input JSON that does not parse",
    stream: spliced(14, 1, delta(2, { type: "input_json_delta", partial_json: '"ls -la' })),
    problem: /event 15 \(content_block_stop\): tool_use input is not a JSON object/,
  },
  {
    name: "tool input that is an array",
    stream: textOnly(
      blockStart(0, { type: "tool_use", id: "toolu_01", name: "Bash", input: {} }),
      delta(0, { type: "input_json_delta", partial_json: "[1]" }),
      blockStop(0),
    ),
    problem: /tool_use input is not a JSON object/,
  },
  {
    name: "an unknown block type",
    stream: textOnly(blockStart(0, { type: "image" }), blockStop(0)),
    problem: /content_block must be a text, thinking, redacted_thinking or tool_use block/,
  },
  {
    name: "a missing message_stop",
    stream: events(...fullStream.slice(0, -1)),
    problem: /at the end: the stream ended without message_stop/,
  },
  {
    name: "a missing message_delta",
    stream: events(messageStart, ...firstBlock(textBlock), messageStop),
    problem: /message_stop before message_delta/,
  },
  {
    name: "a message_delta while a block is open",
    stream: events(
      messageStart,
      ...firstBlock(textBlock.slice(0, 2)),
      messageDelta("end_turn"),
    ),
    problem: /message_delta while block 0 is still open/,
  },
  {
    name: "a second message_delta",
    stream: events(messageStart, messageDelta("end_turn"), messageDelta("end_turn"), messageStop),
    problem: /duplicate message_delta/,
  },
  {
    name: "a block after message_delta",
    stream: events(messageStart, messageDelta("end_turn"), blockStart(0, { type: "text", text: "" })),
    problem: /content_block_start after message_delta/,
  },
  {
    name: "an unknown stop reason",
    stream: events(messageStart, messageDelta("stop"), messageStop),
    problem: /delta.stop_reason must be one of/,
  },
  {
    name: "a message_delta without output tokens",
    stream: events(messageStart, messageDelta("end_turn", {}), messageStop),
    problem: /numeric usage.output_tokens/,
  },
  {
    name: "an event line that differs from the data type",
    stream: [...events(messageStart), { event: "message_delta", data: JSON.stringify(ping) }],
    problem: /event 1 \(message_delta\): event line "message_delta" does not match data type "ping"/,
  },
  {
    name: "an event without an event line",
    stream: [...events(messageStart), { data: JSON.stringify(ping) }],
    problem: /event line "undefined" does not match/,
  },
  {
    name: "data that is not JSON",
    stream: [...events(messageStart), { event: "ping", data: "[DONE]" }],
    problem: /data is not a JSON object/,
  },
  {
    name: "an event after message_stop",
    stream: events(...fullStream, ping),
    problem: /event after the end of the stream/,
  },
  {
    name: "an event after an error",
    stream: events(messageStart, { type: "error", error: { type: "api_error", message: "x" } }, messageStop),
    problem: /event after the end of the stream/,
  },
  {
    name: "an error event without a message",
    stream: events(messageStart, { type: "error", error: { type: "api_error" } }),
    problem: /error event without error.type and error.message strings/,
  },
  {
    name: "an unknown event type",
    stream: events(messageStart, { type: "message_pause" }),
    problem: /unknown event type "message_pause"/,
  },
];

for (const { name, stream, problem } of brokenCases) {
  Deno.test(`assertValidAnthropicStream rejects ${name}`, () => {
    assert.throws(() => assertValidAnthropicStream(stream), { name: "AssertionError", message: problem });
  });
}
