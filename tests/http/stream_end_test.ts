import type { Dialect } from "../../src/protocols/dialect.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import { ProxyError } from "../../src/http/errors.ts";
import {
  endGuard,
  type EndGuardOptions,
  sseErrorEvent,
  streamFailure,
  type StreamOutcome,
} from "../../src/http/stream_end.ts";
import { UpstreamLimitError, UpstreamTimeoutError } from "../../src/http/upstream_call.ts";
import { parseSseText } from "../support/sse.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const OPENAI_STREAM = [
  'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Héllo 🌍"}}]}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
  "data: [DONE]\n\n",
].join("");

const ANTHROPIC_STREAM = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"m1","content":[]}}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Héllo 🌍"}}\n\n',
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join("");

const OPENAI_INCOMPLETE =
  'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"choices":[{"delta":{"content":"b"}}]}\n\n';
const ANTHROPIC_INCOMPLETE = 'event: message_start\ndata: {"type":"message_start","message":{"id":"m1"}}\n\n';

const OPENAI_TRUNCATED_EVENT =
  'data: {"error":{"message":"Upstream stream ended before the response was complete","type":"server_error","param":null,"code":null}}\n\n';
const ANTHROPIC_TRUNCATED_EVENT =
  'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Upstream stream ended before the response was complete"}}\n\n';

/** A source stream that yields `chunks` and then closes, or errors with `error` when given. */
function source(chunks: (string | Uint8Array)[], error?: unknown): ReadableStream<Uint8Array> {
  const queue = chunks.map((chunk) => typeof chunk === "string" ? encoder.encode(chunk) : chunk);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next !== undefined) controller.enqueue(next);
      else if (error !== undefined) controller.error(error);
      else controller.close();
    },
  });
}

/** Guards `input` and records every `onEnd` call. */
function guard(input: ReadableStream<Uint8Array>, options: Omit<EndGuardOptions, "onEnd">) {
  const ends: { outcome: StreamOutcome; error?: unknown }[] = [];
  const stream = endGuard(input, { ...options, onEnd: (outcome, error) => ends.push({ outcome, error }) });
  return { stream, ends };
}

/** Reads a whole stream as bytes. */
async function readBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Splits `text`'s UTF-8 bytes at `cuts` (sorted byte offsets). */
function splitAt(text: string, cuts: number[]): Uint8Array[] {
  const bytes = encoder.encode(text);
  const edges = [0, ...cuts, bytes.length];
  return edges.slice(1).map((end, i) => bytes.slice(edges[i], end));
}

Deno.test("endGuard passes bytes through unchanged and reports completion once", async () => {
  const binary = new Uint8Array([0, 255, 10, 10, 13, 0xf0, 0x9f]);
  const { stream, ends } = guard(source(['{"id":"x",', binary, "}"]), { dialect: OPENAI_CHAT });
  const out = await readBytes(stream);
  assert.deepEqual(out, new Uint8Array([...encoder.encode('{"id":"x",'), ...binary, ...encoder.encode("}")]));
  assert.deepEqual(ends, [{ outcome: "complete", error: undefined }]);
});

Deno.test("endGuard passes a complete SSE stream through unchanged in each protocol", async () => {
  const cases: { dialect: Dialect; text: string }[] = [
    { dialect: OPENAI_CHAT, text: OPENAI_STREAM },
    { dialect: ANTHROPIC_MESSAGES, text: ANTHROPIC_STREAM },
    { dialect: OPENAI_CHAT, text: OPENAI_STREAM.replaceAll("\n", "\r\n") },
    { dialect: ANTHROPIC_MESSAGES, text: ANTHROPIC_STREAM.replaceAll("\n", "\r") },
    { dialect: OPENAI_CHAT, text: OPENAI_STREAM.replace(/\n\n$/, "\n") },
    { dialect: OPENAI_CHAT, text: OPENAI_STREAM.replace(/\n\n$/, "") },
    { dialect: OPENAI_CHAT, text: OPENAI_STREAM.replace("data: [DONE]", "data:[DONE]") },
    {
      dialect: ANTHROPIC_MESSAGES,
      text: ANTHROPIC_STREAM.replace('{"type":"message_stop"}', '{"type": "message_stop"}'),
    },
  ];
  for (const [i, { dialect, text }] of cases.entries()) {
    const { stream, ends } = guard(source([text]), { dialect, sse: true });
    assert.equal(decoder.decode(await readBytes(stream)), text, `case ${i}`);
    assert.deepEqual(ends.map((end) => end.outcome), ["complete"], `case ${i}`);
  }
});

Deno.test("endGuard ends a failing source with an error event in the client's shape", async () => {
  const cases: { dialect: Dialect; sse: boolean; text: string; want: string }[] = [
    {
      dialect: OPENAI_CHAT,
      sse: true,
      text: OPENAI_INCOMPLETE,
      want: 'data: {"error":{"message":"Upstream stream failed: connection reset","type":"server_error","param":null,' +
        '"code":null}}\n\n',
    },
    {
      dialect: ANTHROPIC_MESSAGES,
      sse: true,
      text: ANTHROPIC_INCOMPLETE,
      want: 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Upstream stream failed: ' +
        'connection reset"}}\n\n',
    },
    {
      dialect: ANTHROPIC_MESSAGES,
      sse: false,
      text: ANTHROPIC_INCOMPLETE,
      want: 'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Upstream stream failed: ' +
        'connection reset"}}\n\n',
    },
  ];
  for (const { dialect, sse, text, want } of cases) {
    const failure = new Error("connection reset\nat somewhere");
    const { stream, ends } = guard(source([text], failure), { dialect, sse });
    assert.equal(decoder.decode(await readBytes(stream)), text + want, `${dialect} sse=${sse}`);
    assert.deepEqual(ends, [{ outcome: "error", error: failure }], `${dialect} sse=${sse}`);
  }
});

Deno.test("endGuard reports an idle upstream as a timeout error event", async () => {
  const failure = new UpstreamTimeoutError("Upstream sent nothing for 1000 ms");
  const { stream, ends } = guard(source([ANTHROPIC_INCOMPLETE], failure), { dialect: ANTHROPIC_MESSAGES, sse: true });
  const events = parseSseText(decoder.decode(await readBytes(stream)));
  assert.deepEqual(events.at(-1), {
    event: "error",
    data: '{"type":"error","error":{"type":"timeout_error","message":"Upstream sent nothing for 1000 ms"}}',
  });
  assert.deepEqual(ends.map((end) => end.outcome), ["error"]);
});

Deno.test("endGuard adds an error event when an SSE stream ends without its final event", async () => {
  const cases: { dialect: Dialect; text: string; want: string }[] = [
    { dialect: OPENAI_CHAT, text: OPENAI_INCOMPLETE, want: OPENAI_TRUNCATED_EVENT },
    { dialect: ANTHROPIC_MESSAGES, text: ANTHROPIC_INCOMPLETE, want: ANTHROPIC_TRUNCATED_EVENT },
    { dialect: OPENAI_CHAT, text: "", want: OPENAI_TRUNCATED_EVENT },
    { dialect: OPENAI_CHAT, text: 'data: {"note":"data: [DONE]"}\n\n', want: OPENAI_TRUNCATED_EVENT },
  ];
  for (const { dialect, text, want } of cases) {
    const { stream, ends } = guard(source([text]), { dialect, sse: true });
    assert.equal(decoder.decode(await readBytes(stream)), text + want, `${dialect} ${JSON.stringify(text)}`);
    assert.equal(ends.length, 1);
    assert.equal(ends[0].outcome, "error");
    assert.match(String(ends[0].error), /ended before the response was complete/);
  }
});

Deno.test("endGuard accepts an upstream error event as the end of an Anthropic stream", async () => {
  const text = ANTHROPIC_INCOMPLETE +
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
  const { stream, ends } = guard(source([text]), { dialect: ANTHROPIC_MESSAGES, sse: true });
  assert.equal(decoder.decode(await readBytes(stream)), text);
  assert.deepEqual(ends.map((end) => end.outcome), ["complete"]);
});

Deno.test("endGuard does not require a final event when sse is off", async () => {
  const { stream, ends } = guard(source([OPENAI_INCOMPLETE]), { dialect: OPENAI_CHAT });
  assert.equal(decoder.decode(await readBytes(stream)), OPENAI_INCOMPLETE);
  assert.deepEqual(ends.map((end) => end.outcome), ["complete"]);
});

Deno.test("endGuard holds back an unterminated trailing event until its blank line arrives", async () => {
  const { stream } = guard(source(['data: {"a":1}\n\ndata: {"b"', ":2}\n\n", "data: [DONE]\n\n"]), {
    dialect: OPENAI_CHAT,
    sse: true,
  });
  const reader = stream.getReader();
  assert.equal(decoder.decode((await reader.read()).value), 'data: {"a":1}\n\n');
  assert.equal(decoder.decode((await reader.read()).value), 'data: {"b":2}\n\n');
  assert.equal(decoder.decode((await reader.read()).value), "data: [DONE]\n\n");
  assert.equal((await reader.read()).done, true);
});

Deno.test("endGuard never mixes an unterminated trailing event with the error event", async () => {
  const partial = 'data: {"choices":[{"delta":{"content":"tru';
  const cases: { name: string; error?: Error; tail: string }[] = [
    { name: "source error", error: new Error("reset"), tail: partial },
    { name: "clean end without the final event", tail: partial },
    { name: "clean end inside an event's lines", tail: 'data: {"x":1}\n' },
  ];
  for (const { name, error, tail } of cases) {
    const { stream, ends } = guard(source([OPENAI_INCOMPLETE, tail], error), { dialect: OPENAI_CHAT, sse: true });
    const text = decoder.decode(await readBytes(stream));
    const events = parseSseText(text);
    assert.deepEqual(events.slice(0, -1), parseSseText(OPENAI_INCOMPLETE), name);
    assert.match(events.at(-1)?.data ?? "", /^\{"error":\{"message":"Upstream stream (failed|ended)/, name);
    assert.ok(text.startsWith(OPENAI_INCOMPLETE), name);
    assert.deepEqual(ends.map((end) => end.outcome), ["error"], name);
  }
});

Deno.test("endGuard gives identical output when a complete stream is split at every byte", async () => {
  const streams = [
    [OPENAI_CHAT, OPENAI_STREAM],
    [ANTHROPIC_MESSAGES, ANTHROPIC_STREAM],
    [OPENAI_CHAT, OPENAI_STREAM.replaceAll("\n", "\r\n")],
    [ANTHROPIC_MESSAGES, ANTHROPIC_STREAM.replaceAll("\n", "\r")],
  ] as const;
  for (const [dialect, text] of streams) {
    const length = encoder.encode(text).length;
    const splits = [[...Array(length - 1).keys()].map((i) => i + 1)];
    for (let cut = 1; cut < length; cut++) splits.push([cut]);
    for (const cuts of splits) {
      const { stream, ends } = guard(source(splitAt(text, cuts)), { dialect, sse: true });
      const out = decoder.decode(await readBytes(stream));
      assert.equal(out, text, `${dialect} cut at ${cuts.length > 1 ? "every byte" : cuts[0]}`);
      assert.deepEqual(ends.map((end) => end.outcome), ["complete"]);
    }
  }
});

Deno.test("endGuard ends a truncated stream split at every byte with whole events and one error event", async () => {
  const text = OPENAI_INCOMPLETE + 'data: {"choices":[{"delta":{"content":"c"}}]}\n\n';
  const length = encoder.encode(text).length;
  for (let end = 1; end < length; end++) {
    const truncated = decoder.decode(encoder.encode(text).slice(0, end));
    const cuts = [...Array(end - 1).keys()].map((i) => i + 1);
    const { stream, ends } = guard(source(splitAt(truncated, cuts)), { dialect: OPENAI_CHAT, sse: true });
    const events = parseSseText(decoder.decode(await readBytes(stream)));
    const whole = parseSseText(truncated.slice(0, truncated.lastIndexOf("\n\n") + 2));
    assert.deepEqual(events, [...whole, ...parseSseText(OPENAI_TRUNCATED_EVENT)], `truncated at byte ${end}`);
    assert.deepEqual(ends.map((e) => e.outcome), ["error"]);
  }
});

/** How streams end: complete ones must pass unchanged, truncated ones get one error event (issue 10 item 3). */
const ENDINGS: { name: string; dialect: Dialect; text: string; complete: boolean }[] = [
  {
    name: "comment after message_stop",
    dialect: ANTHROPIC_MESSAGES,
    text: ANTHROPIC_STREAM + ": done\n\n",
    complete: true,
  },
  {
    name: "data before event in message_stop",
    dialect: ANTHROPIC_MESSAGES,
    text: ANTHROPIC_INCOMPLETE + 'data: {"type":"message_stop"}\nevent: message_stop\n\n',
    complete: true,
  },
  {
    name: "extra fields in message_stop",
    dialect: ANTHROPIC_MESSAGES,
    text: ANTHROPIC_INCOMPLETE +
      'event: message_stop\ndata: {"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":5}}\n\n',
    complete: true,
  },
  {
    name: "message_stop without a trailing blank line",
    dialect: ANTHROPIC_MESSAGES,
    text: ANTHROPIC_INCOMPLETE + 'event: message_stop\ndata: {"type":"message_stop"}\n',
    complete: true,
  },
  { name: "[DONE] then a comment", dialect: OPENAI_CHAT, text: OPENAI_STREAM + ": keep-alive\n\n", complete: true },
  {
    name: "finish_reason and usage without [DONE]",
    dialect: OPENAI_CHAT,
    text: OPENAI_STREAM.replace("data: [DONE]\n\n", "") +
      'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n',
    complete: true,
  },
  {
    name: "finish_reason without [DONE]",
    dialect: OPENAI_CHAT,
    text: OPENAI_STREAM.replace("data: [DONE]\n\n", ""),
    complete: true,
  },
  {
    name: "OpenAI error chunk",
    dialect: OPENAI_CHAT,
    text: OPENAI_INCOMPLETE + OPENAI_TRUNCATED_EVENT,
    complete: true,
  },
  { name: "OpenAI content last", dialect: OPENAI_CHAT, text: OPENAI_INCOMPLETE, complete: false },
  {
    name: "OpenAI comment after content",
    dialect: OPENAI_CHAT,
    text: OPENAI_INCOMPLETE + ": keep-alive\n\n: still here\n\n",
    complete: false,
  },
  {
    name: "[DONE] inside a content delta",
    dialect: OPENAI_CHAT,
    text: OPENAI_INCOMPLETE + 'data: {"choices":[{"delta":{"content":"data: [DONE]"}}]}\n\n',
    complete: false,
  },
  {
    name: "usage on a content chunk (continuous usage stats)",
    dialect: OPENAI_CHAT,
    text: OPENAI_INCOMPLETE + 'data: {"choices":[{"delta":{"content":"c"}}],"usage":{"completion_tokens":3}}\n\n',
    complete: false,
  },
  {
    name: "Anthropic message_delta last",
    dialect: ANTHROPIC_MESSAGES,
    text: ANTHROPIC_INCOMPLETE + 'event: message_delta\ndata: {"type":"message_delta","delta":{}}\n\n',
    complete: false,
  },
  {
    name: "Anthropic comment after message_start",
    dialect: ANTHROPIC_MESSAGES,
    text: ANTHROPIC_INCOMPLETE + ": x\n\n",
    complete: false,
  },
  {
    name: "message_stop as text in a delta",
    dialect: ANTHROPIC_MESSAGES,
    text: ANTHROPIC_INCOMPLETE +
      'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"{\\"type\\":\\"message_stop\\"}"}}\n\n',
    complete: false,
  },
];

Deno.test("endGuard decides completeness from the last event, however the stream is split", async () => {
  for (const { name, dialect, text, complete } of ENDINGS) {
    const length = encoder.encode(text).length;
    const splits = [[], [...Array(length - 1).keys()].map((i) => i + 1)];
    for (let cut = 1; cut < length; cut++) splits.push([cut]);
    for (const cuts of splits) {
      const { stream, ends } = guard(source(splitAt(text, cuts)), { dialect, sse: true });
      const out = decoder.decode(await readBytes(stream));
      const error = dialect === OPENAI_CHAT ? OPENAI_TRUNCATED_EVENT : ANTHROPIC_TRUNCATED_EVENT;
      const whole = text.slice(0, text.lastIndexOf("\n\n") + 2);
      assert.equal(out, complete ? text : whole + error, `${name}, cuts ${cuts.length > 1 ? "everywhere" : cuts}`);
      assert.deepEqual(ends.map((end) => end.outcome), [complete ? "complete" : "error"], name);
    }
  }
});

Deno.test("endGuard ends the stream with an error event when one event outgrows maxEventBytes", async () => {
  for (const dialect of [OPENAI_CHAT, ANTHROPIC_MESSAGES] as const) {
    let cancelled: unknown;
    let pulls = 0;
    const input = new ReadableStream<Uint8Array>({
      pull(controller) {
        // One event, then a line of 100 kB that never ends.
        if (pulls === 100) return controller.close();
        controller.enqueue(encoder.encode(pulls++ === 0 ? 'data: {"a":1}\n\ndata: "' : "x".repeat(1000)));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    const { stream, ends } = guard(input, { dialect, sse: true, maxEventBytes: 10_000 });
    const events = parseSseText(decoder.decode(await readBytes(stream)));
    assert.deepEqual(events[0], { data: '{"a":1}' });
    assert.equal(events.length, 2);
    const { error } = JSON.parse(events[1].data);
    assert.equal(error.message, "Upstream sent an SSE event over 10000 bytes");
    assert.equal(error.type, dialect === OPENAI_CHAT ? "server_error" : "api_error");
    assert.ok(cancelled instanceof UpstreamLimitError);
    assert.deepEqual(ends.map((end) => end.outcome), ["error"]);
  }
});

Deno.test("endGuard passes many events of any total size under maxEventBytes", async () => {
  const event = 'data: {"choices":[{"delta":{"content":"abc"}}]}\n\n';
  const text = event.repeat(500) + "data: [DONE]\n\n";
  const { stream, ends } = guard(source(splitAt(text, [7, 20_000])), {
    dialect: OPENAI_CHAT,
    sse: true,
    maxEventBytes: 100,
  });
  assert.equal(decoder.decode(await readBytes(stream)), text);
  assert.deepEqual(ends.map((end) => end.outcome), ["complete"]);
});

/** A source that sends `first` and then waits; `state.cancelled` holds the reason it was cancelled with. */
function stalledSource(first: string): { input: ReadableStream<Uint8Array>; state: { cancelled?: unknown } } {
  const state: { cancelled?: unknown } = {};
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(first));
    },
    cancel(reason) {
      state.cancelled = reason;
    },
  });
  return { input, state };
}

Deno.test("endGuard reports a cancel once and cancels the source", async () => {
  const { input, state } = stalledSource("data: 1\n\n");
  const { stream, ends } = guard(input, { dialect: OPENAI_CHAT, sse: true });
  const reader = stream.getReader();
  await reader.read();
  const pending = reader.read();
  await reader.cancel("client went away");
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(state.cancelled, "client went away");
  assert.deepEqual(ends, [{ outcome: "cancelled", error: "client went away" }]);
  await reader.closed;
  assert.equal(ends.length, 1);
});

Deno.test("endGuard reports a cancel before the first read", async () => {
  const { stream, ends } = guard(source(["data: 1\n\n"]), { dialect: ANTHROPIC_MESSAGES });
  await stream.cancel();
  assert.deepEqual(ends.map((end) => end.outcome), ["cancelled"]);
});

Deno.test("sseErrorEvent encodes an error event in each protocol's shape", () => {
  assert.equal(
    decoder.decode(sseErrorEvent(ANTHROPIC_MESSAGES, { kind: "overloaded", message: "Busy" })),
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Busy"}}\n\n',
  );
  assert.equal(
    decoder.decode(sseErrorEvent(OPENAI_CHAT, { kind: "rate_limit", message: "Busy" })),
    'data: {"error":{"message":"Busy","type":"rate_limit_error","param":null,"code":null}}\n\n',
  );
});

Deno.test("streamFailure maps an idle timeout to timeout and anything else to an api error", () => {
  assert.deepEqual(streamFailure(new UpstreamTimeoutError("Quiet for 5 ms")), {
    kind: "timeout",
    message: "Quiet for 5 ms",
  });
  assert.deepEqual(streamFailure(new TypeError("error reading a body from connection\ndetails")), {
    kind: "api_error",
    message: "Upstream stream failed: error reading a body from connection",
  });
  assert.deepEqual(streamFailure("gone"), { kind: "api_error", message: "Upstream stream failed: gone" });
  assert.deepEqual(streamFailure(new UpstreamLimitError("Upstream sent an SSE event over 5 bytes")), {
    kind: "api_error",
    message: "Upstream sent an SSE event over 5 bytes",
  });
});

Deno.test("endGuard ends at stop with the reason's error event, drops a held-back partial event, once", async () => {
  const stop = new AbortController();
  const { input, state } = stalledSource('event: message_start\ndata: {"type":"message_start"}\n\nevent: con');
  const outcomes: StreamOutcome[] = [];
  const stream = endGuard(input, {
    dialect: ANTHROPIC_MESSAGES,
    sse: true,
    stop: stop.signal,
    onEnd: (outcome) => outcomes.push(outcome),
  });
  const reader = stream.getReader();
  const first = decoder.decode((await reader.read()).value);
  assert.equal(first, 'event: message_start\ndata: {"type":"message_start"}\n\n');
  const reason = new ProxyError(503, "overloaded", "The proxy shut down");
  // The next read waits on the source; the stop ends it.
  const next = reader.read();
  stop.abort(reason);
  const rest = decoder.decode((await next).value);
  assert.deepEqual(parseSseText(rest).map((event) => [event.event, JSON.parse(event.data).error.message]), [[
    "error",
    "The proxy shut down",
  ]]);
  assert.equal((await reader.read()).done, true);
  assert.deepEqual(outcomes, ["error"]);
  assert.equal(state.cancelled, reason);
});

Deno.test("endGuard ends at stop even while the client is not reading", async () => {
  const stop = new AbortController();
  const outcomes: StreamOutcome[] = [];
  const stream = endGuard(new ReadableStream<Uint8Array>(), {
    dialect: OPENAI_CHAT,
    stop: stop.signal,
    onEnd: (outcome) => outcomes.push(outcome),
  });
  stop.abort(new DOMException("The client went away", "AbortError"));
  // Ended before anyone read: the log line is written as soon as the client is gone.
  assert.deepEqual(outcomes, ["error"]);
  const text = await new Response(stream).text();
  assert.equal(JSON.parse(parseSseText(text)[0].data).error.message, "The request was aborted");
});
