import assert from "node:assert/strict";
import { toAnthropicError } from "../../../src/convert/anthropic_openai/error.ts";

Deno.test("toAnthropicError maps each upstream status to its Anthropic error type", () => {
  const cases: Array<{ status: number; want: string }> = [
    { status: 400, want: "invalid_request_error" },
    { status: 401, want: "authentication_error" },
    { status: 403, want: "permission_error" },
    { status: 404, want: "not_found_error" },
    { status: 413, want: "request_too_large" },
    { status: 422, want: "invalid_request_error" },
    { status: 429, want: "rate_limit_error" },
    { status: 500, want: "api_error" },
    { status: 502, want: "api_error" },
    { status: 503, want: "overloaded_error" },
    { status: 504, want: "timeout_error" },
    { status: 529, want: "overloaded_error" },
  ];
  for (const { status, want } of cases) {
    const body = toAnthropicError(status, JSON.stringify({ error: { message: `failed with ${status}`, type: "x" } }));
    assert.deepEqual(body, { type: "error", error: { type: want, message: `failed with ${status}` } }, String(status));
  }
});

Deno.test("toAnthropicError keeps a non-JSON upstream body as the message", () => {
  assert.deepEqual(toAnthropicError(502, "<html>Bad Gateway</html>\n"), {
    type: "error",
    error: { type: "api_error", message: "<html>Bad Gateway</html>" },
  });
  assert.equal(toAnthropicError(500, "").error.message, "Upstream answered with status 500");
});

Deno.test("toAnthropicError words a context overflow the way Claude Code recognises", () => {
  const llamaCpp = JSON.stringify({
    error: {
      code: 400,
      message: "the request exceeds the available context size, try increasing it",
      type: "exceed_context_size_error",
      n_prompt_tokens: 140012,
      n_ctx: 131072,
    },
  });
  assert.deepEqual(toAnthropicError(400, llamaCpp), {
    type: "error",
    error: {
      type: "invalid_request_error",
      message: "prompt is too long: 140012 tokens > 131072 maximum (upstream: the request exceeds the available " +
        "context size, try increasing it)",
    },
  });
  const vllm = JSON.stringify({
    object: "error",
    message: "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.",
    type: "BadRequestError",
    code: 400,
  });
  assert.match(toAnthropicError(400, vllm).error.message, /^prompt is too long \(upstream: This model's maximum/);
});
