/**
 * End-to-end: garbage detection reads OpenAI content given as an array of parts (Mistral reasoning models:
 * `[{"type":"thinking","thinking":[{"type":"text","text":…}]},{"type":"text","text":…}]`), text parts as content and
 * thinking parts as reasoning, streamed and whole, passthrough (OpenAI client) and converted (Anthropic client).
 */

import assert from "node:assert/strict";
import { postJson } from "../support/http.ts";
import type { JsonObject } from "../support/json_guards.ts";
import type { Scenario } from "../support/mock_upstream.ts";
import { rawChatAnswer, rawPartsStream } from "../support/raw_upstream.ts";
import { INTRO, occurrences, readDumps, SENTENCE, withGuardProxy } from "./garbage_harness.ts";
import { upstreamJson } from "./harness.ts";

const USER = [{ role: "user", content: "Explain the loader" }];
const CLEAN = "A clean answer.";
const CLEAN_PARTS = [
  { type: "thinking", thinking: [{ type: "text", text: "The user asks about the loader." }] },
  { type: "text", text: CLEAN },
];

/** Where the loop is: in text parts (content) or in thinking parts (reasoning). */
type Part = "text" | "thinking";

function part(type: Part, text: string): JsonObject {
  return type === "text" ? { type, text } : { type, thinking: [{ type: "text", text }] };
}

/** An answer that starts well and then repeats one sentence in `type` parts, one part per repeat. */
function loopingParts(type: Part): JsonObject[] {
  return [part(type, "Let me think. "), ...Array.from({ length: 30 }, () => part(type, SENTENCE))];
}

/** A whole OpenAI answer whose content is `parts`. */
function partsAnswer(parts: JsonObject[]): Scenario {
  return rawChatAnswer(parts, { prompt_tokens: 10, completion_tokens: 400, total_tokens: 410 });
}

const CLIENTS = {
  "passthrough (OpenAI client)": (stream: boolean) => ({
    path: "/v1/chat/completions",
    body: { model: "m", messages: USER, stream },
  }),
  "converted (Anthropic client)": (stream: boolean) => ({
    path: "/v1/messages",
    body: { model: "m", max_tokens: 512, messages: USER, stream },
  }),
};

const FORMS = { streamed: rawPartsStream, whole: partsAnswer };

Deno.test("a loop in array content parts is caught and retried, streamed and whole, passthrough and converted", async (t) => {
  for (const [clientName, request] of Object.entries(CLIENTS)) {
    for (const [formName, form] of Object.entries(FORMS)) {
      for (const type of ["text", "thinking"] as const) {
        await t.step(`${clientName}, ${formName}, looping ${type} parts`, async () => {
          await withGuardProxy({
            attempts: [form(loopingParts(type)), form(CLEAN_PARTS)],
            upstream: "openai",
          }, async ({ mock, proxy, dumpDir }) => {
            const { path, body } = request(formName === "streamed");
            const response = await postJson(`${proxy.url}${path}`, body);
            assert.equal(response.status, 200);
            const received = await response.text();
            assert.ok(received.includes(CLEAN), received);
            assert.ok(occurrences(received, SENTENCE) <= 1, received);
            assert.equal(mock.requests.length, 2);
            assert.equal((await readDumps(dumpDir)).length, 1);
            const channel = type === "text" ? "content" : "reasoning";
            assert.ok(proxy.logs.some((line) => line.includes(`Garbage in ${channel} `)), proxy.logs.join("\n"));
          });
        });
      }
    }
  }
});

Deno.test("a clean answer in array content parts passes untouched, streamed and whole, passthrough and converted", async (t) => {
  for (const [clientName, request] of Object.entries(CLIENTS)) {
    for (const [formName, form] of Object.entries(FORMS)) {
      await t.step(`${clientName}, ${formName}`, async () => {
        await withGuardProxy(
          { attempts: [form(CLEAN_PARTS)], upstream: "openai" },
          async ({ mock, proxy, dumpDir }) => {
            const { path, body } = request(formName === "streamed");
            const response = await postJson(`${proxy.url}${path}`, body);
            assert.equal(response.status, 200);
            const received = await response.text();
            assert.ok(received.includes(CLEAN), received);
            assert.ok(received.includes("The user asks about the loader."), received);
            assert.equal(mock.requests.length, 1);
            assert.equal((await readDumps(dumpDir)).length, 0);
          },
        );
      });
    }
  }
});

Deno.test("a loop in array text parts after delivered text is continued with that text as the prefill", async () => {
  // Word by word, so the prose before the loop reaches the client before the loop is found.
  const words = INTRO.split(/(?<= )/).map((word) => part("text", word));
  const parts = [...words, ...Array.from({ length: 30 }, () => part("text", SENTENCE))];
  await withGuardProxy({
    attempts: [rawPartsStream(parts), rawPartsStream([part("text", CLEAN)])],
    upstream: "openai",
  }, async ({ mock, proxy }) => {
    const response = await postJson(`${proxy.url}/v1/chat/completions`, { model: "m", messages: USER, stream: true });
    const received = await response.text();
    assert.ok(received.includes(CLEAN), received);
    assert.ok(occurrences(received, SENTENCE) <= 1, received);
    assert.equal(mock.requests.length, 2);
    const prefill = (upstreamJson(mock, 1).messages as JsonObject[]).at(-1);
    assert.equal(prefill?.role, "assistant");
    assert.ok(typeof prefill?.content === "string" && prefill.content.startsWith(INTRO), JSON.stringify(prefill));
  });
});
