/**
 * End-to-end: garbage detection in the request path. A mock upstream loops on the first attempt(s); the proxy
 * must cut the loop before the client gets its repeats, abort the upstream, dump and count the incident, and
 * retry, continue or fail in the client's protocol, stream and non-stream, passthrough and converted.
 */

import assert from "node:assert/strict";
import { assertValidAnthropicStream, assertValidOpenAIStream } from "../support/anthropic_stream_grammar.ts";
import { postJson } from "../support/http.ts";
import { isRecord, type JsonObject } from "../support/json_guards.ts";
import { type RecordedRequest, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";
import { readSse, type SseEvent } from "../support/sse.ts";
import { loadToolArgumentFixtures } from "../testdata/garbage/corpus.ts";
import {
  ENDLESS,
  INTRO,
  occurrences,
  readDumps,
  SENTENCE,
  startFakeValidator,
  verdictReply,
  withGuardProxy,
} from "./garbage_harness.ts";
import { createGate, upstreamJson, waitUntil } from "./harness.ts";

const CHAT = "/v1/chat/completions";
const MESSAGES = "/v1/messages";
const USER = [{ role: "user", content: "Explain the loader" }];
const CLEAN = "A clean answer.";
/** A word loop: cut before anything of the answer is released, so the retry is transparent. */
const WORD_LOOP = { text: "Let me think. ", loop: { unit: "again ", repeats: ENDLESS } };
/** Healthy prose past the hold-back window, then a sentence loop: the client has text when the loop is cut. */
const LATE_LOOP = { text: INTRO, loop: { unit: SENTENCE, repeats: ENDLESS } };
/** Three copies of a sentence and then the end: only a suspicion, for the validator. */
const SUSPICIOUS = { text: "Let me think. ", loop: { unit: SENTENCE, repeats: 3 } };
const SUSPICIOUS_TEXT = "Let me think. " + SENTENCE.repeat(3);

function chat(extra: JsonObject = {}): JsonObject {
  return { model: "m", messages: USER, ...extra };
}

function messages(extra: JsonObject = {}): JsonObject {
  return { model: "m", max_tokens: 512, messages: USER, ...extra };
}

/** The last message of the upstream request `index`. */
function lastMessage(json: JsonObject): JsonObject {
  const list = Array.isArray(json.messages) ? json.messages : [];
  const last: unknown = list.at(-1);
  if (!isRecord(last)) throw new Error("The request has no messages");
  return last;
}

/** The proxy's `/health` `garbage_detection.models[model]`. */
async function guardFigures(url: string, model = "m"): Promise<JsonObject> {
  const health = await (await fetch(`${url}/health`)).json();
  return health.garbage_detection.models[model];
}

// --- Streams: retry, continuation, failure -----------------------------------------------------------------

Deno.test("a model's rule retry_sampling is merged over the global one on retries", async () => {
  await withGuardProxy({
    attempts: [WORD_LOOP, { text: CLEAN }],
    validation: { retry_sampling: { presence_penalty: 0.5, temperature: 0.9 } },
    config: { models: { "m*": { retry_sampling: { presence_penalty: 1.2 } } } },
  }, async ({ mock, proxy }) => {
    const response = await postJson(`${proxy.url}${CHAT}`, chat({ stream: true, temperature: 0.2 }));
    assert.equal(assertValidOpenAIStream(await readSse(response)).text, CLEAN);
    assert.equal(upstreamJson(mock, 0).temperature, 0.2);
    const retry = upstreamJson(mock, 1);
    assert.equal(retry.presence_penalty, 1.2, "the model's rule wins");
    assert.equal(retry.temperature, 0.9, "global keys the rule does not set still apply");
  });
});

/** An Anthropic upstream as strict as the real API: a body with a key it does not know is a 400. */
function strictAnthropic(scenario: Scenario): (request: RecordedRequest) => Scenario {
  return (request) => {
    const unknown = Object.keys(isRecord(request.json) ? request.json : {}).filter((key) =>
      !["model", "messages", "max_tokens", "stream", "temperature", "top_p", "top_k", "system"].includes(key)
    );
    if (unknown.length === 0) return scenario;
    const message = `${unknown[0]}: Extra inputs are not permitted`;
    return { status: 400, errorBody: { type: "error", error: { type: "invalid_request_error", message } } };
  };
}

Deno.test("retries to an Anthropic upstream leave out global retry_sampling keys it rejects", async (t) => {
  const cases = [
    { name: "Anthropic client, stream", path: MESSAGES, body: messages({ stream: true }) },
    { name: "Anthropic client, whole answer", path: MESSAGES, body: messages() },
    { name: "OpenAI client (converted), stream", path: CHAT, body: chat({ stream: true }) },
  ];
  for (const { name, path, body } of cases) {
    await t.step(name, async () => {
      await withGuardProxy({
        attempts: [strictAnthropic(body.stream ? WORD_LOOP : REPEATED_ANSWER), strictAnthropic({ text: CLEAN })],
        upstream: "anthropic",
        validation: { retry_sampling: { presence_penalty: 0.5, min_p: 0.1, temperature: 0.9 } },
      }, async ({ mock, proxy }) => {
        const response = await postJson(`${proxy.url}${path}`, body);
        assert.equal(response.status, 200);
        const text = !body.stream
          ? (await response.json()).content[0].text
          : path === MESSAGES
          ? assertValidAnthropicStream(await readSse(response)).text
          : assertValidOpenAIStream(await readSse(response)).text;
        assert.equal(text, CLEAN, "the retry succeeded");
        assert.equal(mock.requests.length, 2);
        const retry = upstreamJson(mock, 1);
        assert.equal(retry.presence_penalty, undefined);
        assert.equal(retry.min_p, undefined);
        assert.equal(retry.temperature, 0.9, "keys the Messages API accepts are still sent");
      });
    });
  }
});

Deno.test("a looping OpenAI stream is cut, aborted upstream, dumped and retried in one clean client stream", async () => {
  await withGuardProxy({
    attempts: [WORD_LOOP, { text: CLEAN }],
    validation: { retry_sampling: { presence_penalty: 0.5 } },
  }, async ({ mock, proxy, dumpDir }) => {
    const response = await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }), {
      headers: { authorization: "Bearer sk-secret0123456789abcdefXYZ" },
    });
    assert.equal(response.status, 200);
    const summary = assertValidOpenAIStream(await readSse(response));
    assert.equal(summary.text, CLEAN);
    assert.equal(summary.finishReason, "stop");
    await mock.waitForAbort(0);
    assert.equal(mock.requests.length, 2);
    const retry = upstreamJson(mock, 1);
    assert.equal(retry.presence_penalty, 0.5);
    assert.deepEqual(retry.messages, USER);
    const dumps = await readDumps(dumpDir);
    assert.equal(dumps.length, 1);
    assert.match(dumps[0], /Reason: periodic-tail/);
    assert.match(dumps[0], /Outcome: retrying \(attempt 2 of 4\)/);
    assert.match(dumps[0], /again again again/);
    assert.ok(!dumps[0].includes("sk-secret0123456789abcdefXYZ"));
    const figures = await guardFigures(proxy.url);
    assert.deepEqual(figures.detections, { "periodic-tail": 1 });
    assert.equal(figures.retries, 1);
  });
});

Deno.test("a loop after delivered text is continued with exactly that text as the assistant prefill (OpenAI)", async () => {
  await withGuardProxy({ attempts: [LATE_LOOP, { text: "That is all." }] }, async ({ mock, proxy }) => {
    const response = await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }));
    const summary = assertValidOpenAIStream(await readSse(response));
    await mock.waitForAbort(0);
    const prefill = lastMessage(upstreamJson(mock, 1));
    assert.equal(prefill.role, "assistant");
    assert.equal(typeof prefill.content, "string");
    const delivered = String(prefill.content);
    assert.ok(delivered.length > 0 && INTRO.startsWith(delivered.slice(0, 100)));
    assert.equal(summary.text, delivered + "That is all.");
    assert.ok(occurrences(summary.text, SENTENCE) <= 1, `the client got ${occurrences(summary.text, SENTENCE)} copies`);
    assert.equal((await guardFigures(proxy.url)).continuations, 1);
  });
});

Deno.test("a looping Anthropic stream is retried with a single message_start and valid grammar", async () => {
  await withGuardProxy({ attempts: [WORD_LOOP, { text: CLEAN }] }, async ({ mock, proxy }) => {
    const events = await readSse(await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true })));
    const summary = assertValidAnthropicStream(events);
    assert.equal(summary.text, CLEAN);
    assert.equal(summary.stopReason, "end_turn");
    assert.equal(events.filter((event) => event.event === "message_start").length, 1);
    await mock.waitForAbort(0);
    assert.equal(mock.requests.length, 2);
    assert.deepEqual(upstreamJson(mock, 1).messages, USER);
  });
});

Deno.test("an Anthropic continuation flows into the client's open text block, without trailing whitespace", async () => {
  await withGuardProxy({ attempts: [LATE_LOOP, { text: " That is all." }] }, async ({ mock, proxy }) => {
    const events = await readSse(await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true })));
    const summary = assertValidAnthropicStream(events);
    assert.equal(summary.blocks.length, 1);
    const prefill = String(lastMessage(upstreamJson(mock, 1)).content);
    assert.equal(prefill, prefill.trimEnd());
    // The client already has the space the prefill left out; the continuation's leading space is dropped.
    assert.equal(summary.text, prefill + " That is all.");
    assert.ok(occurrences(summary.text, SENTENCE) <= 1);
  });
});

Deno.test("an Anthropic client on an OpenAI upstream gets a continued, converted stream", async () => {
  await withGuardProxy(
    { attempts: [LATE_LOOP, { text: "That is all." }], upstream: "openai" },
    async ({ mock, proxy }) => {
      const summary = assertValidAnthropicStream(
        await readSse(await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true }))),
      );
      const prefill = lastMessage(upstreamJson(mock, 1));
      assert.equal(prefill.role, "assistant");
      assert.equal(summary.text, String(prefill.content) + "That is all.");
      assert.equal(summary.blocks.length, 1);
    },
  );
});

/** A word loop after a short prefix: what a length cut leaves of it is the prefix and the first copy. */
const PREFIX_LOOP = { text: INTRO, loop: { unit: "again ", repeats: ENDLESS } };

Deno.test("a stream that keeps looping ends at the loop start as an OpenAI length cut", async () => {
  await withGuardProxy({ attempts: [WORD_LOOP], validation: { max_retries: 1 } }, async ({ mock, proxy }) => {
    const events = await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true })));
    const summary = assertValidOpenAIStream(events);
    assert.equal(summary.error, undefined);
    assert.equal(summary.finishReason, "length");
    assert.ok(summary.text.startsWith("Let me think."), summary.text);
    assert.ok(occurrences(summary.text, "again") <= 1, summary.text);
    assert.equal(mock.requests.length, 2);
    await mock.waitForAbort(1);
    assert.ok(proxy.logs.some((line) => line.includes("[req-1]") && /gave up after 2 attempts.*length cut/.test(line)));
    assert.ok(proxy.logs.some((line) => line.includes("[req-1]") && line.includes("outcome=complete")));
    assert.equal((await guardFigures(proxy.url)).exhausted, 1);
  });
});

Deno.test("a stream that keeps looping sends usage with its length cut when the client asked for it", async () => {
  await withGuardProxy({ attempts: [PREFIX_LOOP], validation: { max_retries: 0 } }, async ({ proxy }) => {
    const body = chat({ stream: true, stream_options: { include_usage: true } });
    const summary = assertValidOpenAIStream(await readSse(await postJson(`${proxy.url}${CHAT}`, body)));
    assert.equal(summary.finishReason, "length");
    assert.ok(summary.text.startsWith(INTRO));
    assert.ok(Number(summary.usage?.completion_tokens) > 0);
    assert.ok(Number(summary.usage?.prompt_tokens) > 0);
  });
});

Deno.test("a stream that keeps looping ends at the loop start as an Anthropic length cut", async () => {
  await withGuardProxy({ attempts: [PREFIX_LOOP], validation: { max_retries: 1 } }, async ({ mock, proxy }) => {
    const summary = assertValidAnthropicStream(
      await readSse(await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true }))),
    );
    assert.equal(summary.error, undefined);
    assert.equal(summary.stopReason, "max_tokens");
    assert.ok(summary.text.startsWith(INTRO));
    assert.ok(occurrences(summary.text, "again") <= 1, summary.text);
    assert.ok(summary.usage.output_tokens > 0);
    assert.equal(mock.requests.length, 2);
  });
});

Deno.test("with on_exhausted error a looping stream ends with an error that says retrying will not help", async () => {
  const validation = { max_retries: 1, on_exhausted: "error" };
  await withGuardProxy({ attempts: [WORD_LOOP], validation }, async ({ mock, proxy }) => {
    const openai = assertValidOpenAIStream(
      await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
    );
    assert.equal(openai.error?.code, "garbage_detected");
    assert.match(String(openai.error?.message), /Garbage output detected .* in 2 attempts; .*will not help/);
    const anthropic = assertValidAnthropicStream(
      await readSse(await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true }))),
    );
    assert.equal(anthropic.error?.type, "api_error", "not overloaded_error, which clients retry");
    assert.equal(mock.requests.length, 4);
    assert.ok(proxy.logs.some((line) => line.includes("[req-1]") && line.includes("outcome=error")));
  });
});

Deno.test("an Anthropic client on an OpenAI upstream gets a length cut through the converter", async () => {
  await withGuardProxy(
    { attempts: [PREFIX_LOOP], upstream: "openai", validation: { max_retries: 0 } },
    async ({ mock, proxy }) => {
      const summary = assertValidAnthropicStream(
        await readSse(await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true }))),
      );
      assert.equal(summary.stopReason, "max_tokens");
      assert.ok(summary.text.startsWith(INTRO));
      assert.ok(summary.usage.output_tokens > 0);
      assert.equal(mock.requests.length, 1);
    },
  );
});

Deno.test("a failure dump redacts keys in the looping text", async () => {
  const secret = "sk-proj-abcdefghijklmnop0123456789";
  const attempts = [{ loop: { unit: `the key is ${secret} `, repeats: ENDLESS } }, { text: CLEAN }];
  await withGuardProxy({ attempts }, async ({ proxy, dumpDir }) => {
    const summary = assertValidOpenAIStream(
      await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
    );
    assert.equal(summary.text, CLEAN);
    const [dump] = await readDumps(dumpDir);
    assert.match(dump, /the key is sk-proj-\[REDACTED\]/);
    assert.ok(!dump.includes(secret));
    assert.ok(!proxy.logs.some((line) => line.includes(secret)));
  });
});

Deno.test("an OpenAI client on an Anthropic upstream gets a length cut through the converter", async () => {
  await withGuardProxy(
    { attempts: [PREFIX_LOOP], upstream: "anthropic", validation: { max_retries: 0 } },
    async ({ mock, proxy }) => {
      const summary = assertValidOpenAIStream(
        await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
      );
      assert.equal(summary.finishReason, "length");
      assert.ok(summary.text.startsWith(INTRO));
      assert.equal(mock.requests.length, 1);
    },
  );
});

Deno.test("a loop after delivered reasoning cannot be continued and ends as a length cut", async () => {
  const attempts = [{ reasoning: INTRO, loop: { unit: SENTENCE, repeats: ENDLESS } }, { text: CLEAN }];
  await withGuardProxy({ attempts }, async ({ mock, proxy }) => {
    const events = await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true })));
    const summary = assertValidOpenAIStream(events);
    assert.ok(summary.reasoning.length > 0);
    assert.equal(summary.finishReason, "length");
    assert.ok(occurrences(summary.text + summary.reasoning, SENTENCE) <= 1);
    assert.equal(mock.requests.length, 1);
    assert.ok(proxy.logs.some((line) => /cannot be continued; ending the answer at the loop start/.test(line)));
  });
});

// --- Whole answers -----------------------------------------------------------------------------------------

const REPEATED_ANSWER = { text: "Let me think. ", loop: { unit: SENTENCE, repeats: 12 } };

Deno.test("a looping OpenAI answer is retried before the client gets it", async () => {
  await withGuardProxy({
    attempts: [REPEATED_ANSWER, { text: CLEAN }],
    validation: { retry_sampling: { presence_penalty: 0.7 } },
  }, async ({ mock, proxy, dumpDir }) => {
    const response = await postJson(`${proxy.url}${CHAT}`, chat());
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.choices[0].message.content, CLEAN);
    assert.equal(mock.requests.length, 2);
    assert.equal(upstreamJson(mock, 1).presence_penalty, 0.7);
    assert.equal((await readDumps(dumpDir)).length, 1);
  });
});

Deno.test("the same tool call three times in one answer is retried", async () => {
  const call = { name: "read_file", arguments: '{"path":"a.ts"}' };
  await withGuardProxy({
    attempts: [{ toolCalls: [call, call, call] }, { toolCalls: [call] }],
  }, async ({ mock, proxy }) => {
    const body = await (await postJson(`${proxy.url}${CHAT}`, chat())).json();
    assert.equal(body.choices[0].message.tool_calls.length, 1);
    assert.equal(mock.requests.length, 2);
    assert.deepEqual((await guardFigures(proxy.url)).detections, { "repeated-tool-call": 1 });
  });
});

Deno.test("a stream calling the same tool over and over is cut before the client sees a call, and retried", async () => {
  const call = { name: "read_file", arguments: '{"path":"a.ts"}' };
  for (const anthropic of [false, true]) {
    await withGuardProxy({
      attempts: [{ toolCalls: [call, call, call, call, call, call], chunkDelayMs: 20 }, { toolCalls: [call] }],
    }, async ({ mock, proxy }) => {
      const response = anthropic
        ? await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true }))
        : await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }));
      const events = await readSse(response);
      const calls = anthropic
        ? assertValidAnthropicStream(events).toolUses.length
        : assertValidOpenAIStream(events).toolCalls.length;
      assert.equal(calls, 1, "the client got the retry's one call, none of the looping ones");
      assert.equal(mock.requests.length, 2);
      await mock.waitForAbort(0);
      assert.deepEqual((await guardFigures(proxy.url)).detections, { "repeated-tool-call": 1 });
    });
  }
});

const toolArguments = await loadToolArgumentFixtures();

Deno.test("repetitive files in streamed tool arguments reach the client whole, in both protocols", async (t) => {
  for (const fixture of toolArguments) {
    await t.step(fixture.name, async () => {
      const call = { name: "Write", arguments: fixture.text };
      await withGuardProxy({ attempts: [{ toolCalls: [call] }] }, async ({ mock, proxy }) => {
        const openai = assertValidOpenAIStream(
          await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
        );
        assert.equal(openai.toolCalls[0]?.arguments, fixture.text);
        assert.equal(openai.finishReason, "tool_calls");
        const anthropic = assertValidAnthropicStream(
          await readSse(await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true }))),
        );
        assert.deepEqual(anthropic.toolUses[0]?.input, JSON.parse(fixture.text));
        assert.equal(anthropic.stopReason, "tool_use");
        const whole = await (await postJson(`${proxy.url}${CHAT}`, chat())).json();
        assert.equal(whole.choices[0].message.tool_calls[0].function.arguments, fixture.text);
        assert.equal(mock.requests.length, 3, "no retries");
        assert.deepEqual((await guardFigures(proxy.url))?.detections ?? {}, {});
      });
    });
  }
});

Deno.test("a tool argument that repeats one unit past 32 K characters is still cut", async () => {
  const opening = '{"file_path":"table.c","content":"int t[] = {';
  const runaway = [opening, ...Array.from({ length: ENDLESS }, () => "0, ".repeat(100))];
  await withGuardProxy({
    attempts: [{ toolCalls: [{ name: "Write", arguments: runaway }] }, { text: CLEAN }],
  }, async ({ mock, proxy }) => {
    const events = await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true })));
    const summary = assertValidOpenAIStream(events);
    assert.ok((summary.toolCalls[0]?.arguments.length ?? 0) < 1000, "none of the repeats reached the client");
    assert.equal(summary.finishReason, "length", "the call was opened, so it ends as a length cut");
    await mock.waitForAbort(0);
    assert.deepEqual((await guardFigures(proxy.url)).detections, { "periodic-tail": 1 });
  });
});

/** `REPEATED_ANSWER` ended at its loop start: the prefix and (about) the first copy of the sentence. */
function assertCutAtLoopStart(text: string): void {
  assert.ok(text.startsWith("Let me think. I will now check"), text);
  assert.equal(occurrences(text, "configuration"), 1, text);
}

Deno.test("answers that keep looping end at the loop start as length cuts, with usage and a header", async () => {
  await withGuardProxy({ attempts: [REPEATED_ANSWER], validation: { max_retries: 1 } }, async ({ mock, proxy }) => {
    const openai = await postJson(`${proxy.url}${CHAT}`, chat());
    assert.equal(openai.status, 200);
    assert.equal(openai.headers.get("x-sampling-proxy-garbage"), "exhausted");
    const openaiBody = await openai.json();
    assert.equal(openaiBody.choices[0].finish_reason, "length");
    assertCutAtLoopStart(openaiBody.choices[0].message.content);
    assert.ok(openaiBody.usage.completion_tokens > 0);
    const anthropic = await postJson(`${proxy.url}${MESSAGES}`, messages());
    assert.equal(anthropic.status, 200);
    assert.equal(anthropic.headers.get("x-sampling-proxy-garbage"), "exhausted");
    const anthropicBody = await anthropic.json();
    assert.equal(anthropicBody.stop_reason, "max_tokens");
    assert.equal(anthropicBody.content.length, 1);
    assertCutAtLoopStart(anthropicBody.content[0].text);
    assert.ok(anthropicBody.usage.output_tokens > 0);
    assert.equal(mock.requests.length, 4);
    assert.equal((await guardFigures(proxy.url)).exhausted, 2);
    assert.ok(proxy.logs.some((line) => /gave up after 2 attempts: answering up to the loop start/.test(line)));
  });
});

Deno.test("a converted answer that keeps looping ends as a length cut in the client's protocol", async () => {
  await withGuardProxy(
    { attempts: [REPEATED_ANSWER], upstream: "openai", validation: { max_retries: 0 } },
    async ({ proxy }) => {
      const response = await postJson(`${proxy.url}${MESSAGES}`, messages());
      assert.equal(response.headers.get("x-sampling-proxy-garbage"), "exhausted");
      const body = await response.json();
      assert.equal(body.stop_reason, "max_tokens");
      assert.equal(body.content.length, 1);
      assertCutAtLoopStart(body.content[0].text);
    },
  );
});

Deno.test("with on_exhausted error looping answers get a 422 no SDK retries, in each protocol's shape", async () => {
  const validation = { max_retries: 1, on_exhausted: "error" };
  await withGuardProxy({ attempts: [REPEATED_ANSWER], validation }, async ({ mock, proxy }) => {
    const openai = await postJson(`${proxy.url}${CHAT}`, chat());
    assert.equal(openai.status, 422);
    assert.equal(openai.headers.get("x-should-retry"), "false");
    const openaiBody = await openai.json();
    assert.equal(openaiBody.error.code, "garbage_detected");
    assert.match(openaiBody.error.message, /Garbage output detected .*will not help/);
    const anthropic = await postJson(`${proxy.url}${MESSAGES}`, messages());
    assert.equal(anthropic.status, 422);
    const anthropicBody = await anthropic.json();
    assert.equal(anthropicBody.type, "error");
    assert.equal(anthropicBody.error.type, "api_error");
    assert.equal(mock.requests.length, 4);
  });
});

// --- Admission ----------------------------------------------------------------------------------------------

Deno.test("the concurrency slot is held across retries and released once", async () => {
  using gate = createGate();
  const secondArrived = Promise.withResolvers<void>();
  await withGuardProxy({
    attempts: [WORD_LOOP, async () => {
      secondArrived.resolve();
      await gate.opened;
      return { text: CLEAN };
    }, { text: "Second request." }],
    config: { parallel_limits: { m: 1 } },
  }, async ({ mock, proxy }) => {
    const pool = () => proxy.app.context.limiter.snapshot().models.m;
    const first = postJson(`${proxy.url}${CHAT}`, chat({ stream: true })).then(readSse);
    await secondArrived.promise;
    assert.equal(pool().inUse, 1);
    const second = postJson(`${proxy.url}${CHAT}`, chat()).then((response) => response.json());
    await waitUntil(() => pool().waiting === 1, "the second request to queue");
    assert.equal(mock.requests.length, 2);
    gate.open();
    assert.equal(assertValidOpenAIStream(await first).text, CLEAN);
    assert.equal((await second).choices[0].message.content, "Second request.");
    assert.equal(mock.requests.length, 3);
    await waitUntil(() => pool().inUse === 0, "the slot to be released");
    assert.equal(pool().waiting, 0);
    assert.equal(proxy.logs.filter((line) => line.includes("[req-1]") && line.includes("outcome=")).length, 1);
  });
});

// --- The validator's second opinion ----------------------------------------------------------------------------

Deno.test("a suspicion the validator confirms is retried", async () => {
  await using validator = startFakeValidator(() => verdictReply({ is_loop: true, confidence: 0.95, issue: "same" }));
  await withGuardProxy({
    attempts: [SUSPICIOUS, { text: CLEAN }],
    validation: { validator_url: validator.url },
  }, async ({ mock, proxy }) => {
    const summary = assertValidOpenAIStream(
      await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
    );
    assert.equal(summary.text, CLEAN);
    assert.equal(validator.calls, 1);
    assert.equal(mock.requests.length, 2);
    const figures = await guardFigures(proxy.url);
    assert.deepEqual(figures.detections, { validator: 1 });
    assert.equal(figures.validator_calls, 1);
    assert.equal(typeof figures.validator_avg_latency_ms, "number");
    assert.ok(proxy.logs.some((line) => /Validator: loop \(confidence 0\.95/.test(line)));
  });
});

Deno.test("the validator is called like any upstream: /api/paas/v4 base, its key, the upstream URL rules", async () => {
  await using validator = startFakeValidator(() => verdictReply({ is_loop: true, confidence: 0.95, issue: "same" }));
  await withGuardProxy({
    attempts: [SUSPICIOUS, { text: CLEAN }],
    validation: { validator_url: `${validator.url}/api/paas/v4`, validator_api_key_env: "JUDGE_KEY" },
    env: { JUDGE_KEY: "sk-judge-0123456789" },
  }, async ({ proxy }) => {
    const summary = assertValidOpenAIStream(
      await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
    );
    assert.equal(summary.text, CLEAN, "the validator's verdict was read");
    assert.equal(validator.requests.length, 1);
    const [call] = validator.requests;
    assert.equal(call.path, "/api/paas/v4/chat/completions");
    assert.equal(call.headers.get("authorization"), "Bearer sk-judge-0123456789");
    assert.equal(call.headers.get("content-type"), "application/json");
  });
});

Deno.test("a suspicion the validator rates below the threshold goes through", async () => {
  await using validator = startFakeValidator(() => verdictReply({ is_loop: true, confidence: 0.5 }));
  await withGuardProxy({
    attempts: [SUSPICIOUS, { text: CLEAN }],
    validation: { validator_url: validator.url, confidence_threshold: 0.85 },
  }, async ({ mock, proxy }) => {
    const summary = assertValidOpenAIStream(
      await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
    );
    assert.equal(summary.text, SUSPICIOUS_TEXT);
    assert.equal(validator.calls, 1);
    assert.equal(mock.requests.length, 1);
  });
});

/** Fail-open cases: the validator cannot answer, the text goes through, one warning is logged. */
const FAILING_VALIDATORS: Array<{ name: string; answer: Parameters<typeof startFakeValidator>[0]; kind: string }> = [
  { name: "answers 500", answer: () => new Response("down for maintenance", { status: 500 }), kind: "http" },
  {
    name: "is too slow",
    answer: async (_n, released) => {
      await released;
      return verdictReply({ is_loop: true, confidence: 1 });
    },
    kind: "timeout",
  },
  { name: "answers garbage", answer: () => verdictReplyText("I think this text is fine."), kind: "parse" },
];

function verdictReplyText(content: string): Response {
  return Response.json({ choices: [{ index: 0, message: { role: "assistant", content } }] });
}

for (const { name, answer, kind } of FAILING_VALIDATORS) {
  Deno.test(`a validator that ${name} fails open`, async () => {
    await using validator = startFakeValidator(answer);
    await withGuardProxy({
      attempts: [SUSPICIOUS, { text: CLEAN }],
      validation: { validator_url: validator.url, timeout_seconds: 0.3, connect_timeout_seconds: 0.3 },
    }, async ({ mock, proxy }) => {
      const response = await postJson(`${proxy.url}${MESSAGES}`, messages({ stream: true }));
      const summary = assertValidAnthropicStream(await readSse(response));
      assert.equal(summary.text, SUSPICIOUS_TEXT);
      assert.equal(mock.requests.length, 1);
      assert.equal(proxy.logs.filter((line) => line.includes(`Validator failed (${kind})`)).length, 1);
      assert.equal((await guardFigures(proxy.url)).validator_failures, 1);
    });
  });
}

Deno.test("a validator that cannot be reached fails open", async () => {
  const closed = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response());
  const url = `http://127.0.0.1:${closed.addr.port}`;
  await closed.shutdown();
  await withGuardProxy({
    attempts: [SUSPICIOUS, { text: CLEAN }],
    validation: { validator_url: url },
  }, async ({ mock, proxy }) => {
    const body = await (await postJson(`${proxy.url}${CHAT}`, chat())).json();
    assert.equal(body.choices[0].message.content, SUSPICIOUS_TEXT);
    assert.equal(mock.requests.length, 1);
    assert.equal(proxy.logs.filter((line) => line.includes("Validator failed (network)")).length, 1);
  });
});

Deno.test("the periodic validator check cuts a stream the local detector lets through", async () => {
  await using validator = startFakeValidator(() => verdictReply({ is_loop: true, confidence: 0.9 }));
  // The first attempt stalls after its text until it is aborted: only the background check can end it.
  const stalled = { text: INTRO, hang: { afterChunks: 40 } } as const;
  await withGuardProxy({
    attempts: [stalled, { text: "That is all." }],
    validation: {
      validator_url: validator.url,
      mid_stream_validation_enabled: true,
      mid_stream_validation_interval_words: 20,
    },
  }, async ({ mock, proxy }) => {
    const summary = assertValidOpenAIStream(
      await readSse(await postJson(`${proxy.url}${CHAT}`, chat({ stream: true }))),
    );
    await mock.waitForAbort(0);
    assert.ok(validator.calls >= 1);
    assert.equal(mock.requests.length, 2);
    assert.ok(summary.text.endsWith("That is all."));
    assert.deepEqual((await guardFigures(proxy.url)).detections, { validator: 1 });
  });
});

// --- Healthy answers ------------------------------------------------------------------------------------------

/** Ids, timestamps and signatures differ between two answers of the mock; everything else must not. */
function comparable(events: SseEvent[]): SseEvent[] {
  return events.map((event) => ({
    ...event,
    data: event.data.replace(/"(id|created|signature)":("[^"]*"|\d+)/g, '"$1":0'),
  }));
}

Deno.test("healthy streams are the same with and without garbage detection", async () => {
  const healthy = {
    reasoning: "The user wants the loader explained. I should describe the phases in order.",
    text: INTRO + "That is the whole loader.",
    toolCalls: [{ name: "read_file", arguments: '{"path":"src/config/load.ts"}' }],
  };
  await using mock = await startMockUpstream({ scenario: () => healthy });
  const upstreams = [{ name: "mock", base_url: mock.url, supports_anthropic: true }];
  await using plain = await startProxy({ upstreams });
  await using guarded = await startProxy({ upstreams, validation: { enabled: true } });
  for (const [path, body] of [[CHAT, chat({ stream: true })], [MESSAGES, messages({ stream: true })]] as const) {
    const expected = comparable(await readSse(await postJson(`${plain.url}${path}`, body)));
    const actual = comparable(await readSse(await postJson(`${guarded.url}${path}`, body)));
    assert.deepEqual(actual, expected);
  }
  assert.equal(mock.requests.length, 4);
});
