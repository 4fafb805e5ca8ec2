import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import {
  anthropicErrorBody,
  type ErrorKind,
  errorKindForStatus,
  errorResponse,
  openaiErrorBody,
  ProxyError,
  upstreamErrorMessage,
} from "../../src/http/errors.ts";

/** Each kind's type in the Anthropic and in the OpenAI error shape. */
const KIND_TYPES: { kind: ErrorKind; anthropic: string; openai: string }[] = [
  { kind: "invalid_request", anthropic: "invalid_request_error", openai: "invalid_request_error" },
  { kind: "authentication", anthropic: "authentication_error", openai: "authentication_error" },
  { kind: "permission", anthropic: "permission_error", openai: "permission_error" },
  { kind: "not_found", anthropic: "not_found_error", openai: "not_found_error" },
  { kind: "method_not_allowed", anthropic: "invalid_request_error", openai: "invalid_request_error" },
  { kind: "request_too_large", anthropic: "request_too_large", openai: "invalid_request_error" },
  { kind: "rate_limit", anthropic: "rate_limit_error", openai: "rate_limit_error" },
  { kind: "api_error", anthropic: "api_error", openai: "server_error" },
  { kind: "overloaded", anthropic: "overloaded_error", openai: "server_error" },
  { kind: "timeout", anthropic: "timeout_error", openai: "timeout_error" },
  { kind: "not_implemented", anthropic: "api_error", openai: "not_implemented" },
];

Deno.test("anthropicErrorBody builds the Anthropic shape for every kind", () => {
  for (const { kind, anthropic } of KIND_TYPES) {
    assert.deepEqual(anthropicErrorBody(kind, "Went wrong"), {
      type: "error",
      error: { type: anthropic, message: "Went wrong" },
    }, kind);
  }
});

Deno.test("openaiErrorBody builds the OpenAI shape for every kind", () => {
  for (const { kind, openai } of KIND_TYPES) {
    assert.deepEqual(openaiErrorBody(kind, "Went wrong"), {
      error: { message: "Went wrong", type: openai, param: null, code: null },
    }, kind);
  }
  assert.equal(openaiErrorBody("rate_limit", "Slow down", "queue_full").error.code, "queue_full");
});

Deno.test("errorBody picks the shape of the protocol", () => {
  assert.deepEqual(ANTHROPIC_MESSAGES.errorBody({ kind: "timeout", message: "m" }), anthropicErrorBody("timeout", "m"));
  assert.deepEqual(
    OPENAI_CHAT.errorBody({ kind: "timeout", message: "m", code: "c" }),
    openaiErrorBody("timeout", "m", "c"),
  );
});

Deno.test("errorKindForStatus maps HTTP statuses to kinds", () => {
  const cases: [number, ErrorKind][] = [
    [400, "invalid_request"],
    [401, "authentication"],
    [402, "invalid_request"],
    [403, "permission"],
    [404, "not_found"],
    [405, "method_not_allowed"],
    [408, "timeout"],
    [409, "invalid_request"],
    [413, "request_too_large"],
    [422, "invalid_request"],
    [429, "rate_limit"],
    [500, "api_error"],
    [501, "not_implemented"],
    [502, "api_error"],
    [503, "overloaded"],
    [504, "timeout"],
    [529, "overloaded"],
    [599, "api_error"],
  ];
  for (const [status, kind] of cases) assert.equal(errorKindForStatus(status), kind, String(status));
});

Deno.test("ProxyError carries status, kind, headers, code and cause", () => {
  const cause = new Error("inner");
  const error = new ProxyError(429, "rate_limit", "Queue is full", {
    headers: { "retry-after": "2" },
    code: "queue_full",
    cause,
  });
  assert.equal(error.name, "ProxyError");
  assert.equal(error.status, 429);
  assert.equal(error.kind, "rate_limit");
  assert.equal(error.message, "Queue is full");
  assert.deepEqual(error.headers, { "retry-after": "2" });
  assert.equal(error.code, "queue_full");
  assert.equal(error.cause, cause);
  const bare = new ProxyError(400, "invalid_request", "Bad");
  assert.deepEqual([bare.headers, bare.code], [{}, undefined]);
});

Deno.test("errorResponse renders a ProxyError as JSON in the client's shape with its status and headers", async () => {
  const error = new ProxyError(429, "rate_limit", "Queue is full", {
    headers: { "retry-after": "2" },
    code: "queue_full",
  });
  const anthropic = errorResponse(ANTHROPIC_MESSAGES, error);
  assert.equal(anthropic.status, 429);
  assert.equal(anthropic.headers.get("retry-after"), "2");
  assert.match(anthropic.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await anthropic.json(), {
    type: "error",
    error: { type: "rate_limit_error", message: "Queue is full" },
  });
  const openai = errorResponse(OPENAI_CHAT, error);
  assert.deepEqual(await openai.json(), {
    error: { message: "Queue is full", type: "rate_limit_error", param: null, code: "queue_full" },
  });
});

Deno.test("upstreamErrorMessage extracts the message from either protocol's shape, plain text or nothing", () => {
  const cases: { name: string; text: string; want: string }[] = [
    {
      name: "OpenAI shape",
      text: '{"error":{"message":"Model not found","type":"invalid_request_error","code":null}}',
      want: "Model not found",
    },
    {
      name: "Anthropic shape",
      text: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      want: "Overloaded",
    },
    {
      name: "error string (llama.cpp, Ollama)",
      text: '{"error":"model \\"x\\" not found"}',
      want: 'model "x" not found',
    },
    {
      name: "top-level message (vLLM)",
      text: '{"object":"error","message":"Bad max_tokens","code":400}',
      want: "Bad max_tokens",
    },
    { name: "JSON without a message", text: '{"detail":"Not Found"}', want: '{"detail":"Not Found"}' },
    { name: "error object without a message", text: '{"error":{"code":5},"message":"Outer"}', want: "Outer" },
    { name: "JSON string", text: '"oops"', want: '"oops"' },
    { name: "plain text", text: "  Bad Gateway\n", want: "Bad Gateway" },
    { name: "HTML", text: "<html><body>502</body></html>", want: "<html><body>502</body></html>" },
    { name: "empty", text: "", want: "Upstream answered with status 502" },
    { name: "whitespace", text: " \n ", want: "Upstream answered with status 502" },
  ];
  for (const { name, text, want } of cases) assert.equal(upstreamErrorMessage(text, 502), want, name);
});

Deno.test("upstreamErrorMessage keeps at most 2000 characters of plain text", () => {
  const message = upstreamErrorMessage("x".repeat(5000), 500);
  assert.equal(message.length, 2000);
});

Deno.test("upstreamErrorMessage reads an error sent as server-sent events from its data: line's JSON", () => {
  const openai = 'data: {"error":{"message":"Slot unavailable","code":503}}\n\n';
  assert.equal(upstreamErrorMessage(openai, 503), "Slot unavailable");
  const anthropic = 'event: ping\ndata: {"type":"ping"}\n\nevent: error\r\n' +
    'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\r\n\r\n';
  assert.equal(upstreamErrorMessage(anthropic, 529), "Overloaded");
  assert.equal(upstreamErrorMessage("data: not json\n\n", 500), "data: not json");
});
