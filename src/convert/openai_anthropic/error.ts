/**
 * Converts an Anthropic error (a response body or a mid-stream `error` event) into the OpenAI error shape.
 *
 * Direction: the client speaks OpenAI Chat, the upstream speaks Anthropic Messages.
 *
 * @module
 */

import {
  errorKindForAnthropicType,
  errorKindForStatus,
  openaiErrorBody,
  ProxyError,
  upstreamErrorMessage,
} from "../../http/errors.ts";
import type { OpenAIErrorBody } from "../../protocols/openai.ts";

/** The `error` object of an Anthropic error body or `error` stream event. */
export interface AnthropicErrorObject {
  /** The Anthropic error type, e.g. `overloaded_error`. */
  type: string;
  /** The human-readable message, passed on unchanged. */
  message: string;
  /** A machine-readable code (the proxy's own errors, e.g. `garbage_detected`). */
  code?: unknown;
}

/** OpenAI `type` and `code` for each Anthropic error type. */
const OPENAI_ERRORS: Record<string, { type: string; code: string | null }> = {
  invalid_request_error: { type: "invalid_request_error", code: null },
  authentication_error: { type: "authentication_error", code: null },
  permission_error: { type: "permission_error", code: null },
  not_found_error: { type: "not_found_error", code: null },
  request_too_large: { type: "invalid_request_error", code: "request_too_large" },
  rate_limit_error: { type: "rate_limit_error", code: null },
  // OpenAI reports an exhausted balance as `insufficient_quota`; clients test the code.
  billing_error: { type: "insufficient_quota", code: "insufficient_quota" },
  api_error: { type: "server_error", code: null },
  overloaded_error: { type: "server_error", code: "overloaded" },
  timeout_error: { type: "timeout_error", code: null },
};

/**
 * Converts an Anthropic error object into an OpenAI error body, keeping the upstream message.
 *
 * Unknown Anthropic types become `server_error` with the Anthropic type as `code`, so nothing is lost; an
 * `error.code` (the proxy's own errors carry one, e.g. `garbage_detected`) is the OpenAI `code`.
 *
 * @example
 * ```ts
 * anthropicErrorToOpenAI({ type: "overloaded_error", message: "Overloaded" });
 * // { error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded" } }
 * ```
 */
export function anthropicErrorToOpenAI(error: AnthropicErrorObject): OpenAIErrorBody {
  const mapped = OPENAI_ERRORS[error.type] ?? { type: "server_error", code: error.type };
  const code = typeof error.code === "string" ? error.code : mapped.code;
  return { error: { message: error.message, type: mapped.type, param: null, code } };
}

/**
 * Converts an Anthropic error response (status and raw body text) into an OpenAI error body.
 *
 * A body in the Anthropic shape maps by its `error.type`; any other body (a gateway's HTML page, plain text) maps by
 * the HTTP status and keeps its text as the message.
 *
 * @example
 * ```ts
 * toOpenAIError(429, '{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}');
 * // { error: { message: "Slow down", type: "rate_limit_error", param: null, code: null } }
 * ```
 */
export function toOpenAIError(status: number, upstreamBodyText: string): OpenAIErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(upstreamBodyText);
  } catch {
    // Not JSON: mapped by the status below.
  }
  const error = readAnthropicError(parsed);
  if (error !== undefined) return anthropicErrorToOpenAI(error);
  return openaiErrorBody(errorKindForStatus(status), upstreamErrorMessage(upstreamBodyText, status));
}

/**
 * The error to answer when an Anthropic upstream's 200 body is not a Messages response: a 502 with the upstream's
 * message and its error type mapped (as {@link anthropicErrorToOpenAI} maps it) when the body is an Anthropic error,
 * else a 502 quoting the start of the body.
 *
 * @example
 * ```ts
 * notAMessageError({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
 * // ProxyError 502, kind "overloaded", code "overloaded", message "Overloaded"
 * ```
 */
export function notAMessageError(body: unknown): ProxyError {
  const error = readAnthropicError(body);
  if (error === undefined) {
    const start = JSON.stringify(body)?.slice(0, 200) ?? String(body);
    return new ProxyError(502, "api_error", `Upstream answered with a body that is not a Messages response: ${start}`);
  }
  const { code } = anthropicErrorToOpenAI(error).error;
  return new ProxyError(502, errorKindForAnthropicType(error.type) ?? "api_error", error.message, {
    code: typeof code === "string" ? code : undefined,
  });
}

/** Reads `{"error":{"type","message"}}` from a parsed body, or `undefined` when the body has another shape. */
function readAnthropicError(parsed: unknown): AnthropicErrorObject | undefined {
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const error: unknown = (parsed as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return undefined;
  const { type, message } = error as { type?: unknown; message?: unknown };
  if (typeof type !== "string" || typeof message !== "string") return undefined;
  return { type, message };
}
