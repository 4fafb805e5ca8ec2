/**
 * Mixed faults under load: many concurrent requests through one proxy, each meeting a different upstream fault
 * (clean, error status, dropped stream, idle hang, client abort), across both protocols, passthrough and
 * conversion, with a concurrency limit. Every request must end the way its fault dictates, and every slot must
 * come back.
 */

import assert from "node:assert/strict";
import { type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";
import { readSse } from "../support/sse.ts";
import { assertValidAnthropicStream, assertValidOpenAIStream } from "../support/anthropic_stream_grammar.ts";

type Fault = "clean" | "status" | "drop" | "hang" | "abort";
const FAULTS: Fault[] = ["clean", "status", "drop", "hang", "abort"];
const REQUESTS = 120;
const CONCURRENCY = 24;

/** The fault of request `i`, encoded in its model name so the mock can see it. */
function faultOf(model: string): Fault {
  return FAULTS[Number(/-(\d+)$/.exec(model)?.[1] ?? 0) % FAULTS.length];
}

function scenarioFor(fault: Fault): Scenario {
  switch (fault) {
    case "clean":
      return { text: "one two three four five", chunks: 5, chunkDelayMs: 2 };
    case "status":
      return { status: 503 };
    case "drop":
      return { text: "one two three four five", chunks: 5, drop: { afterChunks: 2 } };
    case "hang":
      return { text: "one two three four five", chunks: 5, hang: { afterChunks: 1 } };
    case "abort":
      return { text: "one two three four five", chunks: 5, chunkDelayMs: 50 };
  }
}

Deno.test("mixed faults under load end correctly and leave no slot held", async () => {
  await using openaiOnly = await startMockUpstream({
    protocols: { openai: true, anthropic: false },
    scenario: (req) => scenarioFor(faultOf(String((req.json as { model?: string })?.model))),
  });
  await using both = await startMockUpstream({
    scenario: (req) => scenarioFor(faultOf(String((req.json as { model?: string })?.model))),
  });
  // The idle timeout ends the "hang" faults; it is long enough that a clean stream's 2 ms gaps never reach it on
  // a loaded machine.
  await using proxy = await startProxy({
    upstreams: [
      { name: "chat-only", base_url: openaiOnly.url, timeout_seconds: 1 },
      { name: "both", base_url: both.url, supports_anthropic: true, timeout_seconds: 1 },
    ],
    model_upstream_binding: { "conv-*": "chat-only", "*": "both" },
    parallel_limits: { global: 8, "conv-*": 3 },
    queue: { max_waiting: REQUESTS, timeout_seconds: 30 },
  });

  const outcomes: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const anthropic = i % 2 === 0;
      const model = `${i % 3 === 0 ? "conv" : "pass"}-${i}`;
      outcomes.push(await oneRequest(proxy.url, model, anthropic, i % 4 !== 0));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  assert.equal(outcomes.length, REQUESTS);
  const unexpected = outcomes.filter((o) => !o.startsWith("ok"));
  assert.deepEqual(unexpected, [], "every request ended as its fault dictates");
  // The finish runs when each body ends; give the last cancellations a moment to land.
  for (let i = 0; i < 50 && Object.values(proxy.app.context.limiter.snapshot().models).some((m) => m.inUse); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const snapshot = proxy.app.context.limiter.snapshot();
  for (const [model, figures] of Object.entries(snapshot.models)) {
    assert.equal(figures.inUse, 0, `${model} still holds a slot`);
    assert.equal(figures.waiting, 0, `${model} still has waiters`);
  }
  assert.equal(snapshot.global?.inUse, 0);
});

/** Sends one request and checks it ended the way its fault dictates; returns "ok …" or a description. */
async function oneRequest(base: string, model: string, anthropic: boolean, stream: boolean): Promise<string> {
  const fault = faultOf(model);
  const label = `${model} ${anthropic ? "anthropic" : "openai"} ${stream ? "stream" : "json"} ${fault}`;
  const controller = new AbortController();
  const body = anthropic
    ? { model, max_tokens: 32, stream, messages: [{ role: "user", content: "hi" }] }
    : { model, stream, messages: [{ role: "user", content: "hi" }] };
  const response = await fetch(`${base}/v1/${anthropic ? "messages" : "chat/completions"}`, {
    method: "POST",
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  if (fault === "status") {
    const json = await response.json();
    const shaped = anthropic ? json.type === "error" : typeof json.error === "object";
    return response.status === 503 && shaped
      ? `ok ${label}`
      : `${label}: got ${response.status} ${JSON.stringify(json)}`;
  }
  if (fault === "abort") {
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    return `ok ${label}`;
  }
  if (!stream) {
    const text = await response.text();
    if (fault === "clean") return response.status === 200 ? `ok ${label}` : `${label}: ${response.status} ${text}`;
    // A non-streamed body that fails midway is an error response, never a truncated 200.
    return response.status >= 500 ? `ok ${label}` : `${label}: ${response.status} ${text.slice(0, 200)}`;
  }
  const events = await readSse(response);
  const last = events.at(-1);
  if (fault === "clean") {
    try {
      if (anthropic) assertValidAnthropicStream(events);
      else assertValidOpenAIStream(events);
      return `ok ${label}`;
    } catch (error) {
      return `${label}: ${(error as Error).message}`;
    }
  }
  // drop / hang: the stream must end with an error event, never a clean end.
  const isError = anthropic ? last?.event === "error" : JSON.parse(last?.data ?? "{}").error !== undefined;
  const clean = events.some((e) => e.event === "message_stop" || e.data === "[DONE]");
  return isError && !clean ? `ok ${label}` : `${label}: last event ${JSON.stringify(last)}`;
}
