/**
 * End-to-end with the official SDKs, their own retries on: when garbage retries are used up, the answer must not
 * invite a retry. By default it ends as a length cut; with `on_exhausted: "error"` it is an error the SDKs do not
 * retry. Either way the SDK sends exactly one request.
 */

import assert from "node:assert/strict";
import { Anthropic } from "../support/sdk.ts";
import { OpenAI } from "../support/sdk.ts";
import type { TestProxy } from "../support/proxy_server.ts";
import { ENDLESS, INTRO, withGuardProxy } from "./garbage_harness.ts";

/** Healthy text, then a word loop that never ends: every attempt loops. */
const LOOPING_STREAM = { text: INTRO, loop: { unit: "again ", repeats: ENDLESS } };
/** A whole answer that loops. */
const LOOPING_ANSWER = { text: INTRO, loop: { unit: "I will now check the configuration again. ", repeats: 12 } };
const REQUEST = { model: "m", max_tokens: 256, messages: [{ role: "user" as const, content: "Explain the loader" }] };

/** How many client requests the proxy finished (one log line each). */
function clientRequests(proxy: TestProxy): number {
  return proxy.logs.filter((line) => line.includes(" outcome=")).length;
}

Deno.test("the Anthropic SDK gets a max_tokens answer when garbage retries are used up, and does not retry", async () => {
  for (const stream of [false, true]) {
    await withGuardProxy({
      attempts: [stream ? LOOPING_STREAM : LOOPING_ANSWER],
      validation: { max_retries: 1 },
    }, async ({ mock, proxy }) => {
      const client = new Anthropic({ baseURL: proxy.url, apiKey: "k", maxRetries: 3 });
      const message = stream
        ? await client.messages.stream(REQUEST).finalMessage()
        : await client.messages.create(REQUEST);
      assert.equal(message.stop_reason, "max_tokens");
      const text = message.content[0]?.type === "text" ? message.content[0].text : "";
      assert.ok(text.startsWith(INTRO), text);
      assert.ok(message.usage.output_tokens > 0);
      assert.equal(clientRequests(proxy), 1);
      assert.equal(mock.requests.length, 2, "two attempts for one client request");
    });
  }
});

Deno.test("the Anthropic SDK does not retry the error of on_exhausted error, streamed or not", async () => {
  for (const stream of [false, true]) {
    await withGuardProxy({
      attempts: [stream ? LOOPING_STREAM : LOOPING_ANSWER],
      validation: { max_retries: 1, on_exhausted: "error" },
    }, async ({ mock, proxy }) => {
      const client = new Anthropic({ baseURL: proxy.url, apiKey: "k", maxRetries: 3 });
      const call = stream ? client.messages.stream(REQUEST).finalMessage() : client.messages.create(REQUEST);
      await assert.rejects(
        call,
        (error: unknown) => error instanceof Anthropic.APIError && /will not help/.test(error.message),
      );
      assert.equal(clientRequests(proxy), 1);
      assert.equal(mock.requests.length, 2);
    });
  }
});

Deno.test("the OpenAI SDK gets finish_reason length, or a 422 it does not retry, when garbage retries are used up", async () => {
  for (const onExhausted of ["truncate", "error"]) {
    await withGuardProxy({
      attempts: [LOOPING_ANSWER],
      validation: { max_retries: 0, on_exhausted: onExhausted },
    }, async ({ mock, proxy }) => {
      const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: "k", maxRetries: 3 });
      const call = client.chat.completions.create({ model: "m", messages: REQUEST.messages });
      if (onExhausted === "truncate") {
        const completion = await call;
        assert.equal(completion.choices[0].finish_reason, "length");
      } else {
        await assert.rejects(call, (error: unknown) => error instanceof OpenAI.APIError && error.status === 422);
      }
      assert.equal(clientRequests(proxy), 1);
      assert.equal(mock.requests.length, 1);
    });
  }
});
