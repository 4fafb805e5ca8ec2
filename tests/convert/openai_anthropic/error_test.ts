import assert from "node:assert/strict";
import { anthropicErrorToOpenAI, toOpenAIError } from "../../../src/convert/openai_anthropic/error.ts";

Deno.test("anthropicErrorToOpenAI maps each Anthropic error type to an OpenAI type and code", () => {
  const cases = [
    { type: "invalid_request_error", want: { type: "invalid_request_error", code: null } },
    { type: "authentication_error", want: { type: "authentication_error", code: null } },
    { type: "permission_error", want: { type: "permission_error", code: null } },
    { type: "not_found_error", want: { type: "not_found_error", code: null } },
    { type: "request_too_large", want: { type: "invalid_request_error", code: "request_too_large" } },
    { type: "rate_limit_error", want: { type: "rate_limit_error", code: null } },
    { type: "billing_error", want: { type: "insufficient_quota", code: "insufficient_quota" } },
    { type: "api_error", want: { type: "server_error", code: null } },
    { type: "overloaded_error", want: { type: "server_error", code: "overloaded" } },
    { type: "timeout_error", want: { type: "timeout_error", code: null } },
    { type: "brand_new_error", want: { type: "server_error", code: "brand_new_error" } },
  ];
  for (const { type, want } of cases) {
    assert.deepEqual(
      anthropicErrorToOpenAI({ type, message: "upstream says no" }),
      { error: { message: "upstream says no", param: null, ...want } },
      type,
    );
  }
});

Deno.test("toOpenAIError keeps the message of an Anthropic error body", () => {
  const body = JSON.stringify({
    type: "error",
    error: {
      type: "invalid_request_error",
      message: "messages.1.content.0.text: text content blocks must be non-empty",
    },
    request_id: "req_011CSHoEeqs5C35K2UUqR7Fy",
  });
  assert.deepEqual(toOpenAIError(400, body), {
    error: {
      message: "messages.1.content.0.text: text content blocks must be non-empty",
      type: "invalid_request_error",
      param: null,
      code: null,
    },
  });
});

Deno.test("toOpenAIError maps a body that is not an Anthropic error by its HTTP status", () => {
  assert.deepEqual(toOpenAIError(502, "<html>Bad Gateway</html>"), {
    error: { message: "<html>Bad Gateway</html>", type: "server_error", param: null, code: null },
  });
  assert.deepEqual(toOpenAIError(429, '{"message":"Too many requests"}'), {
    error: { message: "Too many requests", type: "rate_limit_error", param: null, code: null },
  });
  assert.equal(toOpenAIError(503, "").error.message, "Upstream answered with status 503");
});
