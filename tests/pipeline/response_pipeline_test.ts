import assert from "node:assert/strict";
import { ProxyError } from "../../src/http/errors.ts";
import type { StreamOutcome } from "../../src/http/stream_end.ts";
import { eventStream, isEventStream } from "../../src/pipeline/response_pipeline.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import type { SseEvent } from "../../src/protocols/sse.ts";

/** A stream of `events` that then fails with `error`. */
function failingEvents(events: SseEvent[], error: unknown): ReadableStream<SseEvent> {
  let sent = 0;
  return new ReadableStream<SseEvent>({
    pull(controller) {
      if (sent < events.length) controller.enqueue(events[sent++]);
      else controller.error(error);
    },
  });
}

Deno.test("pipeline: a neutral ProxyError a stage fails with is rendered in the client's dialect", async () => {
  for (const client of [OPENAI_CHAT, ANTHROPIC_MESSAGES]) {
    const outcomes: StreamOutcome[] = [];
    const error = new ProxyError(422, "api_error", "Garbage output detected", { code: "garbage_detected" });
    const body = eventStream(failingEvents([{ data: "{}" }], error), {
      client,
      end: { onEnd: (outcome) => outcomes.push(outcome) },
    });
    const text = await new Response(body).text();
    const last = text.trim().split("\n\n").at(-1)!;
    const data = JSON.parse(last.slice(last.indexOf("data: ") + "data: ".length));
    assert.equal(data.error.message, "Garbage output detected", client.name);
    assert.equal(data.error.code, "garbage_detected", client.name);
    assert.equal(last.startsWith("event: error"), client === ANTHROPIC_MESSAGES, client.name);
    assert.deepEqual(outcomes, ["error"]);
  }
});

Deno.test("pipeline: no keep-alive stage when the converter keeps the stream alive itself", async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  const events = new ReadableStream<SseEvent>({
    async pull(controller) {
      await held;
      controller.close();
    },
  });
  const keepsAlive = {
    endpoint: "chat/completions",
    keepsAlive: true,
    request: (body: Record<string, unknown>) => body,
    response: (body: unknown) => body,
    stream: () => new TransformStream<SseEvent, SseEvent>(),
    error: () => ({}),
  };
  const body = eventStream(events, {
    client: ANTHROPIC_MESSAGES,
    converter: keepsAlive,
    keepAliveMs: 10,
    end: { onEnd: () => {} },
  });
  const reader = body.getReader();
  const first = reader.read();
  // Long enough for several keep-alive intervals; none may be written.
  await new Promise((resolve) => setTimeout(resolve, 100));
  release();
  const result = await first;
  assert.equal(result.done, true);
});

Deno.test("pipeline: isEventStream reads the content type case-insensitively", () => {
  assert.equal(isEventStream(new Headers({ "content-type": "Text/Event-Stream; charset=utf-8" })), true);
  assert.equal(isEventStream(new Headers({ "content-type": "application/json" })), false);
});
