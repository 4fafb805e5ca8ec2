/**
 * Converts an OpenAI upstream's error response into the Anthropic error body a Messages client expects.
 *
 * @module
 */

import type { AnthropicErrorBody } from "../../protocols/anthropic.ts";
import {
  anthropicErrorBody,
  type ErrorKind,
  errorKindForAnthropicType,
  errorKindForStatus,
  upstreamErrorMessage,
} from "../../http/errors.ts";
import { isJsonObject } from "../../protocols/json_object.ts";

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

/** An error an OpenAI upstream put inside a 200 body or a stream chunk. */
export interface EmbeddedUpstreamError {
  /** What went wrong, for the client's error type. */
  kind: ErrorKind;
  /** The upstream's message. */
  message: string;
}

/**
 * Reads the `error` value an OpenAI upstream sends in a stream chunk or a 200 body: llama.cpp and vLLM send
 * `{message, code}` (`code` being an HTTP status), some servers an Anthropic-typed `{type, message}`, some a bare
 * string. The kind comes from an Anthropic `type`, else from a numeric `code` or `status`, else `api_error`.
 *
 * @example
 * ```ts
 * embeddedUpstreamError({ message: "Context size has been exceeded.", code: 400 });
 * // { kind: "invalid_request", message: "Context size has been exceeded." }
 * ```
 */
export function embeddedUpstreamError(error: unknown): EmbeddedUpstreamError {
  const fields = isJsonObject(error) ? error : {};
  const message = typeof error === "string" && error !== ""
    ? error
    : typeof fields.message === "string" && fields.message !== ""
    ? fields.message
    : "Upstream reported an error";
  const status = [fields.code, fields.status].find((value) => typeof value === "number") as number | undefined;
  const kind = errorKindForAnthropicType(fields.type) ??
    (status === undefined ? "api_error" : errorKindForStatus(status));
  return { kind, message };
}
