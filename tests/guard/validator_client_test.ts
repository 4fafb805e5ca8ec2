import assert from "node:assert/strict";
import type { UpstreamConfig } from "../../src/config/config.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createValidator, type ValidatorOptions } from "../../src/guard/validator_client.ts";
import { DEFAULT_CONFIG } from "../support/config_defaults.ts";

interface Received {
  path: string;
  headers: Headers;
  body: Record<string, unknown>;
}

/** Answers one request; `released` resolves when the test ends, so a handler can hang until then. */
type Respond = (request: Request, released: Promise<void>) => Response | Promise<Response>;

/** A fake validator server on port 0 that records what it receives. */
function startFake(respond: Respond) {
  const received: Received[] = [];
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    received.push({
      path: new URL(request.url).pathname,
      headers: request.headers,
      body: await request.json(),
    });
    return await respond(request, release.promise);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    async [Symbol.asyncDispose]() {
      release.resolve();
      await server.shutdown();
    },
  };
}

const encoder = new TextEncoder();

/** An OpenAI-style SSE reply carrying `content` in two deltas. */
function openAIStream(content: string): Response {
  const half = Math.floor(content.length / 2);
  const chunks = [content.slice(0, half), content.slice(half)].map((part) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: part } }] })}\n\n`
  );
  return new Response(chunks.join("") + "data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } });
}

/** An Anthropic-style SSE reply carrying `text`. */
function anthropicStream(text: string): Response {
  const events = [
    ["message_start", { type: "message_start", message: { id: "m", content: [] } }],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
    ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_stop", { type: "message_stop" }],
  ];
  const body = events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join("");
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

/** The validator upstream the config loader builds from `validation` keys (with `validator_url: url`). */
function validatorUpstream(url: string, validation: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const text = JSON.stringify({ validation: { enabled: true, validator_url: url, ...validation } });
  const { validator } = parseConfig(text, { env }).config;
  assert.ok(validator, "the config has a validator");
  return validator;
}

/** Options of {@link validatorFor}: the client's, plus `validation` config keys and the environment. */
type TestValidatorOptions = Partial<Omit<ValidatorOptions, "upstream">> & {
  validation?: Record<string, unknown>;
  env?: Record<string, string>;
};

function validatorFor(url: string, options: TestValidatorOptions = {}) {
  const { validation, env, ...rest } = options;
  return createValidator({
    upstream: validatorUpstream(url, validation, env),
    model: "judge-1",
    confidenceThreshold: DEFAULT_CONFIG.validation.confidenceThreshold,
    ...rest,
  });
}

const LONG_TEXT = "BEGINNING-MARKER " + "healthy words ".repeat(1000) + "I will check again. ".repeat(20);

Deno.test("createValidator reports a loop above the threshold and sends a bounded OpenAI request", async () => {
  await using fake = startFake(() => openAIStream('{"is_loop": true, "confidence": 0.95, "issue": "same sentence"}'));
  const validator = validatorFor(fake.url, {
    validation: { validator_api_key_env: "JUDGE_KEY" },
    env: { JUDGE_KEY: "sk-test-key" },
    excerptChars: 2000,
    maxTokens: 64,
  });
  const result = await validator.check(LONG_TEXT, { reason: "periodic-tail, period 20" });
  assert.ok(result.ok);
  assert.deepEqual(result.verdict, { isLoop: true, confidence: 0.95, issue: "same sentence" });
  assert.ok(result.latencyMs >= 0);

  assert.equal(fake.received.length, 1);
  const { path, headers, body } = fake.received[0];
  assert.equal(path, "/v1/chat/completions");
  assert.equal(headers.get("authorization"), "Bearer sk-test-key");
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(body.model, "judge-1");
  assert.equal(body.temperature, 0);
  assert.equal(body.max_tokens, 64);
  assert.equal(body.stream, true);
  const format = body.response_format as { type: string; json_schema: { schema: { required: string[] } } };
  assert.equal(format.type, "json_schema");
  assert.deepEqual(format.json_schema.schema.required, ["is_loop", "confidence", "issue"]);
  const messages = body.messages as { role: string; content: string }[];
  assert.equal(messages.length, 1);
  assert.equal(messages[0].role, "user");
  assert.ok(messages[0].content.includes("I will check again."));
  assert.ok(!messages[0].content.includes("BEGINNING-MARKER"), "the whole text was sent");
  assert.ok(messages[0].content.length < 2000 + 2000, "the excerpt is not bounded");
  assert.match(messages[0].content, /periodic-tail, period 20/);
});

Deno.test("createValidator counts a loop below the threshold as not a loop", async () => {
  await using fake = startFake(() => openAIStream('{"is_loop": true, "confidence": 0.6, "issue": "maybe"}'));
  const result = await validatorFor(fake.url).check("text");
  assert.ok(result.ok);
  assert.deepEqual(result.verdict, { isLoop: false, confidence: 0.6, issue: "maybe" });
});

Deno.test("createValidator honours a custom confidence threshold", async () => {
  await using fake = startFake(() => openAIStream('{"is_loop": true, "confidence": 0.6, "issue": ""}'));
  const result = await validatorFor(fake.url, { confidenceThreshold: 0.5 }).check("text");
  assert.ok(result.ok && result.verdict.isLoop);
});

Deno.test("createValidator fails with kind parse on a garbage answer", async () => {
  await using fake = startFake(() => openAIStream("I am not sure, it might loop or not."));
  const result = await validatorFor(fake.url).check("text");
  assert.ok(!result.ok);
  assert.equal(result.kind, "parse");
  assert.match(result.error, /no JSON object/);
});

Deno.test("createValidator fails with kind http on a 500", async () => {
  await using fake = startFake(() => new Response('{"error":"model crashed"}', { status: 500 }));
  const result = await validatorFor(fake.url).check("text");
  assert.ok(!result.ok);
  assert.equal(result.kind, "http");
  assert.match(result.error, /HTTP 500: \{"error":"model crashed"\}/);
});

Deno.test("createValidator times out when no response headers arrive", async () => {
  await using fake = startFake(async (_request, released) => {
    await released;
    return new Response("too late");
  });
  const validation = { connect_timeout_seconds: 0.05, timeout_seconds: 0.1 };
  const result = await validatorFor(fake.url, { validation, timeoutMs: 10_000 }).check("text");
  assert.ok(!result.ok);
  assert.equal(result.kind, "timeout");
  assert.match(result.error, /sent no response within 100 ms/);
});

Deno.test("createValidator times out when the reply stalls after the headers", async () => {
  await using fake = startFake((_request, released) => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(`data: ${JSON.stringify({ choices: [{ delta: { content: "{" } }] })}\n\n`));
        released.then(() => {
          try {
            controller.close();
          } catch {
            // Already cancelled by the client.
          }
        });
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const result = await validatorFor(fake.url, { timeoutMs: 100 }).check("text");
  assert.ok(!result.ok);
  assert.equal(result.kind, "timeout");
  assert.match(result.error, /timed out after 100 ms/);
});

Deno.test("createValidator with an unset validator_api_key_env fails each check naming it, without a call", async () => {
  await using fake = startFake(() => openAIStream('{"is_loop": false, "confidence": 1, "issue": ""}'));
  // Like any upstream's unset key: the proxy starts, and each call is refused (the guard then fails open).
  const validator = validatorFor(fake.url, { validation: { validator_api_key_env: "JUDGE_UNSET_KEY" } });
  const result = await validator.check("text");
  assert.ok(!result.ok);
  assert.equal(result.kind, "http");
  assert.match(result.error, /environment variable JUDGE_UNSET_KEY is not set/);
  assert.equal(fake.received.length, 0);
});

Deno.test("createValidator fails with kind network when the connection is refused", async () => {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => new Response());
  const url = `http://127.0.0.1:${server.addr.port}`;
  await server.shutdown();
  const result = await validatorFor(url).check("text");
  assert.ok(!result.ok);
  assert.equal(result.kind, "network");
  assert.match(result.error, /^Validator request failed: /);
});

Deno.test("createValidator reports a caller abort as kind aborted", async () => {
  const arrived = Promise.withResolvers<void>();
  await using fake = startFake(async (_request, released) => {
    arrived.resolve();
    await released;
    return new Response("never read");
  });
  const controller = new AbortController();
  const pending = validatorFor(fake.url).check("text", { signal: controller.signal });
  await arrived.promise;
  controller.abort();
  const result = await pending;
  assert.ok(!result.ok);
  assert.equal(result.kind, "aborted");
});

Deno.test("createValidator prefers Anthropic when both protocols are supported", async () => {
  await using fake = startFake(() =>
    anthropicStream('<think>hmm</think>{"is_loop": false, "confidence": 0.97, "issue": ""}')
  );
  const validator = validatorFor(fake.url + "/v1/", {
    validation: { supports_anthropic: true, validator_api_key_env: "JUDGE_KEY" },
    env: { JUDGE_KEY: "sk-ant-test" },
    maxTokens: 80,
  });
  const result = await validator.check("text under review");
  assert.ok(result.ok);
  assert.deepEqual(result.verdict, { isLoop: false, confidence: 0.97, issue: null });
  const { path, headers, body } = fake.received[0];
  assert.equal(path, "/v1/messages");
  assert.equal(headers.get("x-api-key"), "sk-ant-test");
  assert.equal(headers.get("anthropic-version"), "2023-06-01");
  assert.equal(headers.get("authorization"), null);
  assert.equal(body.max_tokens, 80);
  assert.equal(body.temperature, 0);
  assert.equal(body.response_format, undefined);
  assert.match((body.messages as { content: string }[])[0].content, /text under review/);
});

Deno.test("createValidator reads a non-streaming JSON reply", async () => {
  await using fake = startFake(() =>
    Response.json({ choices: [{ message: { content: '{"is_loop": true, "confidence": 1, "issue": "x"}' } }] })
  );
  const result = await validatorFor(fake.url).check("text");
  assert.ok(result.ok && result.verdict.isLoop);
});

Deno.test("createValidator rejects a configuration it cannot use", () => {
  const upstream = validatorUpstream("http://127.0.0.1:1");
  assert.throws(() => createValidator({ upstream, model: "m", confidenceThreshold: 0.85, timeoutMs: 0 }), RangeError);
  assert.throws(() => createValidator({ upstream, model: "m", confidenceThreshold: 1.5 }), RangeError);
});

Deno.test("the validator's URL follows the upstream URL rules: a /api/paas/v4 base gets /v4/chat/completions", async () => {
  await using fake = startFake(() => openAIStream('{"is_loop": false, "confidence": 0.9, "issue": ""}'));
  const result = await validatorFor(`${fake.url}/api/paas/v4`).check("text");
  assert.ok(result.ok);
  assert.equal(fake.received[0].path, "/api/paas/v4/chat/completions");
  const upstream: UpstreamConfig = validatorUpstream(`${fake.url}/api/paas/v4`);
  assert.equal(upstream.api.root, `${fake.url}/api/paas/v4`);
});
