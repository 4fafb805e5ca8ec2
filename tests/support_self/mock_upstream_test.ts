import assert from "node:assert/strict";
import { postJson } from "../support/http.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { pause } from "../support/pause.ts";
import { parseSseText, readSse } from "../support/sse.ts";

const chat = { model: "m", messages: [{ role: "user", content: "Hi" }] };
const never = new AbortController().signal;

/** Reads a body until it ends or errors, returning the text read and the error, if any. */
async function readUntilError(response: Response): Promise<{ text: string; error: unknown }> {
  const decoder = new TextDecoder();
  let text = "";
  try {
    for await (const bytes of response.body ?? []) text += decoder.decode(bytes, { stream: true });
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

Deno.test("startMockUpstream serves under /v1 on a loopback port", async () => {
  await using mock = await startMockUpstream();
  assert.match(mock.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(mock.url, `${mock.origin}/v1`);
});

Deno.test("startMockUpstream lists the configured models", async () => {
  await using mock = await startMockUpstream({ models: ["qwen3", "glm-4.5"] });
  const body = await (await fetch(`${mock.url}/models`)).json();
  assert.equal(body.object, "list");
  assert.deepEqual(body.data.map((model: { id: string }) => model.id), ["qwen3", "glm-4.5"]);
});

Deno.test("startMockUpstream records method, path, query, lower-cased headers and body", async () => {
  await using mock = await startMockUpstream();
  const response = await postJson(`${mock.url}/chat/completions?trace=1`, chat, {
    headers: { "X-Custom-Header": "v" },
  });
  await response.body?.cancel();
  const [request] = mock.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.path, "/v1/chat/completions");
  assert.deepEqual(request.query, { trace: "1" });
  assert.equal(request.headers["x-custom-header"], "v");
  assert.equal(request.headers["content-type"], "application/json");
  assert.equal(request.body, JSON.stringify(chat));
  assert.deepEqual(request.json, chat);
  assert.equal(request.aborted, false);
});

Deno.test("startMockUpstream records a body that is not JSON with json undefined", async () => {
  await using mock = await startMockUpstream();
  await (await fetch(`${mock.url}/chat/completions`, { method: "POST", body: "{oops" })).body?.cancel();
  assert.equal(mock.requests[0].body, "{oops");
  assert.equal(mock.requests[0].json, undefined);
});

Deno.test("startMockUpstream answers 404 JSON to a doubled /v1 and to a missing /v1, and records them", async () => {
  await using mock = await startMockUpstream();
  for (const path of ["/v1/v1/chat/completions", "/chat/completions", "/v1/tokenize"]) {
    const response = await postJson(`${mock.origin}${path}`, chat);
    assert.equal(response.status, 404, path);
    assert.match((await response.json()).error.message, /not found/);
  }
  assert.deepEqual(mock.requests.map((request) => request.path), [
    "/v1/v1/chat/completions",
    "/chat/completions",
    "/v1/tokenize",
  ]);
});

Deno.test("startMockUpstream answers 404 to the protocol it does not speak", async () => {
  await using openAIOnly = await startMockUpstream({ protocols: { anthropic: false } });
  await using anthropicOnly = await startMockUpstream({ protocols: { openai: false } });
  const cases = [
    [openAIOnly, "/messages", 404],
    [openAIOnly, "/messages/count_tokens", 404],
    [openAIOnly, "/chat/completions", 200],
    [anthropicOnly, "/chat/completions", 404],
    [anthropicOnly, "/messages", 200],
  ] as const;
  for (const [mock, path, status] of cases) {
    const response = await postJson(`${mock.url}${path}`, chat);
    await response.body?.cancel();
    assert.equal(response.status, status, path);
  }
});

Deno.test("startMockUpstream serves llama.cpp /tokenize only when asked", async () => {
  await using plain = await startMockUpstream();
  await using llama = await startMockUpstream({ tokenize: true });
  const missing = await postJson(`${plain.origin}/tokenize`, { content: "Hello, world" });
  await missing.body?.cancel();
  assert.equal(missing.status, 404);
  const body = await (await postJson(`${llama.origin}/tokenize`, { content: "Hello, world" })).json();
  assert.equal(body.tokens.length, 3);
  assert.equal(body.tokens.every(Number.isInteger), true);
});

Deno.test("startMockUpstream counts tokens of system, tools and messages", async () => {
  await using mock = await startMockUpstream();
  const count = async (body: unknown) =>
    (await (await postJson(`${mock.url}/messages/count_tokens`, body)).json()).input_tokens;
  const base = { model: "claude-x", messages: [{ role: "user", content: "Hello there" }] };
  const withSystem = { ...base, system: "You are terse." };
  const withTools = { ...withSystem, tools: [{ name: "Bash", description: "Run a command", input_schema: {} }] };
  assert.equal(await count(base), 3);
  assert.equal(await count(withSystem) > await count(base), true);
  assert.equal(await count(withTools) > await count(withSystem), true);
});

Deno.test("startMockUpstream answers embeddings, completions and responses with echo shapes", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ text: "Done." }) });
  const embeddings = await (await postJson(`${mock.url}/embeddings`, { model: "e", input: ["a", "b"] })).json();
  assert.deepEqual(embeddings.data.map((item: { index: number }) => item.index), [0, 1]);
  assert.equal(embeddings.model, "e");
  const completion = await (await postJson(`${mock.url}/completions`, { model: "c", prompt: "x" })).json();
  assert.equal(completion.choices[0].text, "Done.");
  const response = await (await postJson(`${mock.url}/responses`, { model: "r", input: "x" })).json();
  assert.equal(response.object, "response");
  assert.equal(response.output[0].content[0].text, "Done.");
});

Deno.test("startMockUpstream sends errors in the route's protocol shape with extra headers", async () => {
  await using mock = await startMockUpstream({
    scenario: () => ({ status: 429, headers: { "retry-after": "7", "x-request-id": "req_1" } }),
  });
  const openAI = await postJson(`${mock.url}/chat/completions`, chat);
  assert.equal(openAI.status, 429);
  assert.equal(openAI.headers.get("retry-after"), "7");
  assert.deepEqual(await openAI.json(), {
    error: { code: 429, message: "Mock upstream error 429", type: "rate_limit_error" },
  });
  const anthropic = await postJson(`${mock.url}/messages`, chat);
  assert.equal(anthropic.headers.get("x-request-id"), "req_1");
  assert.deepEqual(await anthropic.json(), {
    type: "error",
    error: { type: "rate_limit_error", message: "Mock upstream error 429" },
  });
});

Deno.test("startMockUpstream sends a raw or custom error body as given", async () => {
  await using mock = await startMockUpstream();
  mock.setScenario(() => ({ status: 502, errorBody: "<html>Bad Gateway</html>" }));
  const raw = await postJson(`${mock.url}/messages`, chat);
  assert.equal(raw.status, 502);
  assert.equal(await raw.text(), "<html>Bad Gateway</html>");
  mock.setScenario(() => ({ status: 400, errorBody: { detail: "bad" } }));
  assert.deepEqual(await (await postJson(`${mock.url}/messages`, chat)).json(), { detail: "bad" });
});

Deno.test("startMockUpstream makes the model list fail when the scenario says so", async () => {
  await using mock = await startMockUpstream({
    scenario: (request) => request.path === "/v1/models" ? { status: 503 } : {},
  });
  const response = await fetch(`${mock.url}/models`);
  assert.equal(response.status, 503);
  assert.equal((await response.json()).error.type, "unavailable_error");
});

Deno.test("startMockUpstream setScenario changes the answer of later requests", async () => {
  await using mock = await startMockUpstream();
  const first = await (await postJson(`${mock.url}/chat/completions`, chat)).json();
  mock.setScenario((request) => ({ text: `You sent ${request.path}` }));
  const second = await (await postJson(`${mock.url}/chat/completions`, chat)).json();
  assert.equal(first.choices[0].message.content, "Hello from the mock upstream.");
  assert.equal(second.choices[0].message.content, "You sent /v1/chat/completions");
});

Deno.test("startMockUpstream answers 500 with the message when the scenario function throws", async () => {
  await using mock = await startMockUpstream({
    scenario: () => {
      throw new Error("No scenario for this test");
    },
  });
  const response = await postJson(`${mock.url}/chat/completions`, chat);
  assert.equal(response.status, 500);
  assert.match((await response.json()).error.message, /Mock scenario failed: No scenario for this test/);
});

Deno.test("startMockUpstream sends rawSse pieces byte for byte, even when they split a character", async () => {
  const bytes = new TextEncoder().encode("data: 🦕\n\n");
  await using mock = await startMockUpstream({
    scenario: () => ({ rawSse: ["event: a\n", bytes.slice(0, 8), bytes.slice(8)] }),
  });
  const response = await postJson(`${mock.url}/messages`, chat);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  assert.deepEqual(await readSse(response), [{ event: "a", data: "🦕" }]);
});

Deno.test("startMockUpstream sees the client cancel a stream mid-response and stops a loop", async () => {
  await using mock = await startMockUpstream({
    scenario: () => ({ loop: { unit: "again ", repeats: 1_000_000 }, chunkDelayMs: 1 }),
  });
  const response = await postJson(`${mock.url}/chat/completions`, { ...chat, stream: true });
  const reader = response.body!.getReader();
  await reader.read();
  await reader.cancel();
  await mock.waitForAbort(0);
  assert.equal(mock.requests[0].aborted, true);
});

Deno.test("startMockUpstream sees the client go away while it hangs before headers", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ hang: "before-headers" }) });
  const client = new AbortController();
  const answer = postJson(`${mock.url}/messages`, { ...chat, stream: true }, { signal: client.signal });
  await mock.waitForRequests(1);
  client.abort();
  await assert.rejects(answer, { name: "AbortError" });
  await mock.waitForAbort(0);
  assert.equal(mock.requests[0].aborted, true);
});

Deno.test("startMockUpstream stops a long delay when the client goes away", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ delayMs: 60_000 }) });
  const client = new AbortController();
  const answer = postJson(`${mock.url}/chat/completions`, chat, { signal: client.signal });
  await mock.waitForRequests(1);
  client.abort();
  await assert.rejects(answer, { name: "AbortError" });
  await mock.waitForAbort(0);
  // That the 60 s delay's timer was cleared is checked by Deno's timer leak sanitizer alone.
});

Deno.test("startMockUpstream does not mark a completed response as aborted", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ delayMs: 1 }) });
  const body = await (await postJson(`${mock.url}/chat/completions`, chat)).json();
  assert.equal(body.object, "chat.completion");
  await assert.rejects(mock.waitForAbort(0, 100), { message: "Timed out after 100 ms waiting for request 0 to abort" });
  assert.equal(mock.requests[0].aborted, false);
});

Deno.test("startMockUpstream hangs after headers until the client goes away", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ hang: "after-headers" }) });
  const response = await postJson(`${mock.url}/chat/completions`, { ...chat, stream: true });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const next = reader.read();
  assert.equal(
    await Promise.race([next.then(() => "data"), pause(never, 50).then(() => "nothing yet")]),
    "nothing yet",
  );
  await reader.cancel();
  await next;
  await mock.waitForAbort(0);
});

Deno.test("startMockUpstream hangs after the given number of chunks", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ hang: { afterChunks: 2 } }) });
  const response = await postJson(`${mock.url}/messages`, { ...chat, stream: true });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (parseSseText(text).length < 2) text += (await reader.read()).value ?? "";
  const next = reader.read();
  assert.equal(
    await Promise.race([next.then(() => "data"), pause(never, 50).then(() => "nothing yet")]),
    "nothing yet",
  );
  assert.deepEqual(parseSseText(text).map((event) => event.event), ["message_start", "content_block_start"]);
  await reader.cancel();
  await next;
  await mock.waitForAbort(0);
});

Deno.test("startMockUpstream drops the connection after the given number of chunks", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ drop: { afterChunks: 3 } }) });
  const response = await postJson(`${mock.url}/chat/completions`, { ...chat, stream: true });
  const { text, error } = await readUntilError(response);
  assert.equal(error instanceof TypeError, true, "the body read fails");
  assert.equal(parseSseText(text).length, 3);
  assert.equal(mock.requests[0].aborted, false);
});

Deno.test("startMockUpstream drops a non-stream body before it starts", async () => {
  await using mock = await startMockUpstream({ scenario: () => ({ drop: { afterChunks: 0 } }) });
  const { text, error } = await readUntilError(await postJson(`${mock.url}/chat/completions`, chat));
  assert.equal(text, "");
  assert.equal(error instanceof TypeError, true);
});

Deno.test("MockUpstream.close ends hanging requests and can be called twice", async () => {
  const mock = await startMockUpstream({
    scenario: (request) => ({ hang: request.path === "/v1/messages" ? "before-headers" : "after-headers" }),
  });
  const beforeHeaders = postJson(`${mock.url}/messages`, chat);
  const afterHeaders = await postJson(`${mock.url}/chat/completions`, chat);
  await mock.waitForRequests(2);
  await Promise.all([mock.close(), mock.close()]);
  const early = await beforeHeaders;
  assert.equal(early.status, 503);
  await early.body?.cancel();
  assert.equal((await readUntilError(afterHeaders)).error instanceof TypeError, true);
  await mock.close();
  await assert.rejects(fetch(`${mock.url}/models`), TypeError);
});

Deno.test("MockUpstream.waitForRequests rejects when the mock closes first", async () => {
  const mock = await startMockUpstream();
  const waiting = assert.rejects(mock.waitForRequests(1), {
    message: "Mock upstream closed while waiting for 1 requests",
  });
  await mock.close();
  await waiting;
});
