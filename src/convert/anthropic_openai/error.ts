/**
 * Converts an OpenAI upstream's error response into the Anthropic error body a Messages client expects.
 *
 * @module
 */

import type { AnthropicErrorBody } from "../../protocols/anthropic.ts";
import { anthropicErrorBody, errorKindForStatus, upstreamErrorMessage } from "../../http/errors.ts";

/** Reads a positive integer field of a parsed error object. */
function positiveInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Recognises a context-overflow error and rewrites it the way Anthropic words it ("prompt is too long: N tokens >
 * M maximum"), which is what Claude Code looks for before it compacts the conversation; the upstream's own words
 * are kept after it. llama.cpp sends `exceed_context_size_error` with `n_prompt_tokens`/`n_ctx`; vLLM and OpenAI
 * say "maximum context length" (OpenAI with code `context_length_exceeded`).
 */
function contextOverflowMessage(bodyText: string, message: string): string | undefined {
  let error: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(bodyText);
    const inner = (parsed as { error?: unknown } | null)?.error;
    if (inner !== null && typeof inner === "object") error = inner as Record<string, unknown>;
  } catch {
    // Not JSON: only the message text can tell.
  }
  const overflow = error.type === "exceed_context_size_error" || error.code === "context_length_exceeded" ||
    /maximum context length|exceeds? the available context size|context length exceeded/i.test(message);
  if (!overflow) return undefined;
  const prompt = positiveInt(error.n_prompt_tokens);
  const limit = positiveInt(error.n_ctx);
  const sizes = prompt !== undefined && limit !== undefined ? `: ${prompt} tokens > ${limit} maximum` : "";
  return `prompt is too long${sizes} (upstream: ${message})`;
}

/**
 * Builds the Anthropic error body for an upstream error: 400 invalid_request_error, 401 authentication_error,
 * 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 529 (and 503)
 * overloaded_error, 408/504 timeout_error, other 5xx api_error. The upstream's message is kept; the HTTP status
 * stays the upstream's and is the caller's to send.
 *
 * @example
 * ```ts
 * toAnthropicError(429, '{"error":{"message":"Slow down","type":"rate_limit"}}');
 * // { type: "error", error: { type: "rate_limit_error", message: "Slow down" } }
 * ```
 */
export function toAnthropicError(status: number, upstreamBodyText: string): AnthropicErrorBody {
  const message = upstreamErrorMessage(upstreamBodyText, status);
  return anthropicErrorBody(errorKindForStatus(status), contextOverflowMessage(upstreamBodyText, message) ?? message);
}
