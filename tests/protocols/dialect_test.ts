import assert from "node:assert/strict";
import { anthropicErrorToOpenAI } from "../../src/convert/openai_anthropic/error.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";

const garbage = { kind: "api_error" as const, message: "Garbage output detected", code: "garbage_detected" };

Deno.test("dialect: an Anthropic error event carries a neutral code as error.code, a real Anthropic type", () => {
  const event = ANTHROPIC_MESSAGES.errorEvent(garbage);
  assert.equal(event.event, "error");
  const data = JSON.parse(event.data);
  assert.deepEqual(data, {
    type: "error",
    error: { type: "api_error", message: "Garbage output detected", code: "garbage_detected" },
  });
  // The Anthropic → OpenAI converter keeps the code for an OpenAI client.
  assert.equal(anthropicErrorToOpenAI(data.error).error.code, "garbage_detected");
  assert.equal(anthropicErrorToOpenAI(data.error).error.type, "server_error");
});

Deno.test("dialect: an OpenAI error event is an error chunk with the code", () => {
  const event = OPENAI_CHAT.errorEvent(garbage);
  assert.equal(event.event, undefined);
  assert.equal(JSON.parse(event.data).error.code, "garbage_detected");
});

Deno.test("dialect: JSON error bodies stay in each protocol's documented shape", () => {
  assert.deepEqual(ANTHROPIC_MESSAGES.errorBody(garbage), {
    type: "error",
    error: { type: "api_error", message: "Garbage output detected" },
  });
  assert.equal((OPENAI_CHAT.errorBody(garbage) as { error: { code: string } }).error.code, "garbage_detected");
});
