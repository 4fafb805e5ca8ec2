import assert from "node:assert/strict";
import { AssertionError } from "node:assert";
import { assertValidResponsesStream } from "../support/responses_stream_grammar.ts";
import type { SseEvent } from "../support/sse.ts";

type Payload = Record<string, unknown> & { type: string };

const response = (status: string, output: unknown[] = [], extra: Record<string, unknown> = {}) => ({
  id: "resp_1",
  object: "response",
  status,
  output,
  ...extra,
});
const usage = { input_tokens: 5, output_tokens: 3, total_tokens: 8 };
const message = (text: string | undefined, status = "completed") => ({
  type: "message",
  id: "msg_1",
  role: "assistant",
  status,
  content: text === undefined ? [] : [{ type: "output_text", text, annotations: [] }],
});
const call = (args: string, status = "completed") => ({
  type: "function_call",
  id: "fc_1",
  call_id: "call_1",
  name: "ls",
  arguments: args,
  status,
});
const msgIds = { item_id: "msg_1", output_index: 0 };
const callIds = { item_id: "fc_1", output_index: 1 };

/** A valid stream: a message "Hi!" and one function call, completed with usage. */
const valid: Payload[] = [
  { type: "response.created", response: response("in_progress") },
  { type: "response.in_progress", response: response("in_progress") },
  { type: "response.output_item.added", output_index: 0, item: message(undefined, "in_progress") },
  { type: "response.content_part.added", ...msgIds, content_index: 0, part: { type: "output_text", text: "" } },
  { type: "response.output_text.delta", ...msgIds, content_index: 0, delta: "Hi" },
  { type: "response.output_text.delta", ...msgIds, content_index: 0, delta: "!" },
  { type: "response.output_text.done", ...msgIds, content_index: 0, text: "Hi!" },
  { type: "response.content_part.done", ...msgIds, content_index: 0, part: { type: "output_text", text: "Hi!" } },
  { type: "response.output_item.done", output_index: 0, item: message("Hi!") },
  { type: "response.output_item.added", output_index: 1, item: call("", "in_progress") },
  { type: "response.function_call_arguments.delta", ...callIds, delta: '{"a":1}' },
  { type: "response.function_call_arguments.done", ...callIds, arguments: '{"a":1}' },
  { type: "response.output_item.done", output_index: 1, item: call('{"a":1}') },
  { type: "response.completed", response: response("completed", [message("Hi!"), call('{"a":1}')], { usage }) },
];

/** Numbers the payloads and gives each its `event:` line. */
function events(payloads: Payload[]): SseEvent[] {
  return payloads.map((payload, index) => ({
    event: payload.type,
    data: JSON.stringify({ ...payload, sequence_number: index }),
  }));
}

/** Asserts that the checker rejects `payloads` with a message containing `problem`. */
function rejects(payloads: Payload[] | SseEvent[], problem: string): void {
  const stream = typeof payloads[0]?.data === "string" ? payloads as SseEvent[] : events(payloads as Payload[]);
  assert.throws(() => assertValidResponsesStream(stream), (error: unknown) => {
    assert.ok(error instanceof AssertionError);
    assert.match(error.message, new RegExp(problem));
    return true;
  });
}

/** The valid stream with event `index` replaced. */
function withEvent(index: number, payload: Payload): Payload[] {
  return valid.map((original, at) => at === index ? payload : original);
}

Deno.test("assertValidResponsesStream accepts a valid stream and summarises it", () => {
  assert.deepEqual(assertValidResponsesStream(events(valid)), {
    id: "resp_1",
    status: "completed",
    text: "Hi!",
    reasoning: "",
    calls: [{ callId: "call_1", name: "ls", arguments: '{"a":1}' }],
    items: ["message", "function_call"],
    usage,
    error: undefined,
  });
});

Deno.test("assertValidResponsesStream accepts a failed stream with an open item", () => {
  const failed = [
    ...valid.slice(0, 5),
    { type: "response.failed", response: response("failed", [], { error: { code: "server_error", message: "x" } }) },
  ];
  const summary = assertValidResponsesStream(events(failed));
  assert.equal(summary.status, "failed");
  assert.equal(summary.error?.message, "x");
});

Deno.test("assertValidResponsesStream rejects broken sequence numbers, order and event lines", () => {
  const numbered = events(valid);
  rejects(
    numbered.map((event, index) =>
      index === 4 ? { ...event, data: event.data.replace('"sequence_number":4', '"sequence_number":9') } : event
    ),
    "sequence_number 9, expected 4",
  );
  rejects(valid.slice(1), "first event must be response.created");
  rejects(numbered.map((event, index) => index === 2 ? { ...event, event: "response.created" } : event), "event: line");
  rejects([...valid, valid[4]], "after the terminal event");
  rejects(valid.slice(0, -1), "without a terminal event");
  rejects(withEvent(4, { ...valid[4], type: "response.output_text.delta_typo" }), "unknown event type");
});

Deno.test("assertValidResponsesStream rejects wrong indices and ids", () => {
  rejects(withEvent(2, { ...valid[2], output_index: 1 }), "output_index 1, expected 0");
  rejects(withEvent(4, { ...valid[4], item_id: "msg_2" }), 'item_id "msg_2" is not the id');
  rejects(withEvent(4, { ...valid[4], output_index: 3 }), "output_index 3 names no item");
  rejects(withEvent(4, { ...valid[4], content_index: 1 }), "content_index 1 names no part");
  rejects(withEvent(3, { ...valid[3], content_index: 1 }), "content_index 1, expected 0");
  rejects(withEvent(9, { ...valid[9], item: { ...call("", "in_progress"), id: "msg_1" } }), 'item id "msg_1" repeats');
  rejects(withEvent(9, { ...valid[9], item: { ...call("", "in_progress"), call_id: "" } }), "without a call_id");
  rejects(withEvent(10, { ...valid[10], item_id: "msg_1", output_index: 0 }), "already done");
});

Deno.test("assertValidResponsesStream rejects text, arguments and items that disagree with their deltas", () => {
  rejects(withEvent(6, { ...valid[6], text: "Hi" }), "differs from the deltas");
  rejects(withEvent(7, { ...valid[7], part: { type: "output_text", text: "Ho" } }), "part done with other text");
  rejects(withEvent(8, { ...valid[8], item: message("Ho") }), "differs from the streamed text");
  rejects(withEvent(11, { ...valid[11], arguments: "{}" }), "done arguments differ");
  rejects(withEvent(12, { ...valid[12], item: call("{}") }), "another call_id, name or arguments");
  rejects(valid.filter((_, index) => index !== 6), "content part done before its text");
});

Deno.test("assertValidResponsesStream rejects a terminal event with open items, other output or bad usage", () => {
  const last = valid.length - 1;
  rejects(valid.filter((_, index) => index !== 12), "while output item 1 is open");
  rejects(
    withEvent(last, { type: "response.completed", response: response("completed", [message("Hi!")], { usage }) }),
    "output ids",
  );
  rejects(
    withEvent(last, {
      type: "response.completed",
      response: response("completed", [message("Hi!"), call('{"a":1}')], { usage: { input_tokens: 1 } }),
    }),
    "usage lacking",
  );
  rejects(
    withEvent(last, { type: "response.completed", response: response("in_progress", [], { usage }) }),
    'status "in_progress"',
  );
  rejects(withEvent(last, { type: "response.failed", response: response("failed") }), "without error.message");
});

Deno.test("assertValidResponsesStream rejects a completed function call whose arguments are not JSON", () => {
  const broken = valid.map((payload) => JSON.parse(JSON.stringify(payload).replaceAll('{\\"a\\":1}', '{\\"a\\":')));
  rejects(broken, "arguments are not a JSON object");
});
