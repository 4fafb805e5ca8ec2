/**
 * The proxy's one domain error, and its rendering in each client protocol's error shape.
 *
 * Whoever rejects a request throws a {@link ProxyError}; the handler renders it once, in the shape of the client's
 * dialect (`protocols/dialect.ts`): OpenAI `{"error":{…}}` or Anthropic `{"type":"error","error":{…}}`. The
 * per-protocol type tables are here, beside the kinds they map.
 *
 * @module
 */

import type { AnthropicErrorBody, AnthropicErrorType } from "../protocols/anthropic.ts";
import type { Dialect } from "../protocols/dialect.ts";
import type { OpenAIErrorBody } from "../protocols/openai.ts";

/** What went wrong, independent of protocol; each kind has one Anthropic type and one OpenAI type. */
export type ErrorKind =
  | "invalid_request"
  | "authentication"
  | "permission"
  | "not_found"
  | "method_not_allowed"
  | "request_too_large"
  | "rate_limit"
  | "api_error"
  | "overloaded"
  | "timeout"
  | "not_implemented";

/** Options of a {@link ProxyError}. */
export interface ProxyErrorOptions {
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
  /** The error that caused this one. */
  cause?: unknown;
  /** OpenAI `code` field. */
  code?: string;
}

/** An error to be answered to the client with `status`, in the client's protocol shape. */
export class ProxyError extends Error {
  /** HTTP status for the client. */
  readonly status: number;
  /** Protocol-neutral kind. */
  readonly kind: ErrorKind;
  /** Extra headers for the response. */
  readonly headers: Record<string, string>;
  /** OpenAI `code` field, when one fits. */
  readonly code: string | undefined;

  constructor(status: number, kind: ErrorKind, message: string, options: ProxyErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "ProxyError";
    this.status = status;
    this.kind = kind;
    this.headers = options.headers ?? {};
    this.code = options.code;
  }
}

const ANTHROPIC_TYPES: Record<ErrorKind, AnthropicErrorType> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  request_too_large: "request_too_large",
  rate_limit: "rate_limit_error",
  api_error: "api_error",
  overloaded: "overloaded_error",
  timeout: "timeout_error",
  not_implemented: "api_error",
};

const OPENAI_TYPES: Record<ErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  method_not_allowed: "invalid_request_error",
  request_too_large: "invalid_request_error",
  rate_limit: "rate_limit_error",
  api_error: "server_error",
  overloaded: "server_error",
  timeout: "timeout_error",
  not_implemented: "not_implemented",
};

/**
 * Maps an HTTP status to an error kind: 400 invalid request, 401 authentication, 403 permission, 404 not found,
 * 413 too large, 429 rate limit, 504/408 timeout, 529 and 503 overloaded, other 5xx api error.
 */
export function errorKindForStatus(status: number): ErrorKind {
  switch (status) {
    case 401:
      return "authentication";
    case 403:
      return "permission";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit";
    case 408:
    case 504:
      return "timeout";
    case 501:
      return "not_implemented";
    case 503:
    case 529:
      return "overloaded";
    default:
      return status >= 500 ? "api_error" : "invalid_request";
  }
}

/**
 * The error kind whose Anthropic type is `type` (the first one, for types that several kinds share), or
 * `undefined` for a type the Anthropic API does not define.
 *
 * @example
 * ```ts
 * errorKindForAnthropicType("overloaded_error"); // "overloaded"
 * ```
 */
export function errorKindForAnthropicType(type: unknown): ErrorKind | undefined {
  return (Object.keys(ANTHROPIC_TYPES) as ErrorKind[]).find((kind) => ANTHROPIC_TYPES[kind] === type);
}

/** Builds an Anthropic error body. */
export function anthropicErrorBody(kind: ErrorKind, message: string): AnthropicErrorBody {
  return { type: "error", error: { type: ANTHROPIC_TYPES[kind], message } };
}

/** Builds an OpenAI error body. */
export function openaiErrorBody(kind: ErrorKind, message: string, code?: string): OpenAIErrorBody {
  return { error: { message, type: OPENAI_TYPES[kind], param: null, code: code ?? null } };
}

/** Renders a {@link ProxyError} as a JSON response in the shape of the client's `dialect`. */
export function errorResponse(dialect: Dialect, error: ProxyError): Response {
  return Response.json(dialect.errorBody(error), { status: error.status, headers: error.headers });
}

/** The message of a parsed error body of either protocol: `error` as a string, `error.message`, or `message`. */
function parsedErrorMessage(parsed: unknown): string | undefined {
  if (!parsed || typeof parsed !== "object") return undefined;
  const err = (parsed as { error?: unknown }).error;
  if (typeof err === "string") return err;
  if (err && typeof err === "object") {
    const message = (err as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  const message = (parsed as { message?: unknown }).message;
  return typeof message === "string" ? message : undefined;
}

/** Parses JSON, giving `undefined` for text that is not JSON. */
function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Extracts a human-readable message from an upstream error body of either protocol, or its raw text.
 *
 * A body sent as server-sent events (some servers answer an error to a streaming request that way) is read from
 * its first `data:` line that holds such an error. Used when converting an upstream error into the client's shape
 * while keeping the upstream's message.
 */
export function upstreamErrorMessage(text: string, status: number): string {
  const message = parsedErrorMessage(tryJson(text)) ??
    text.split(/\r\n|\r|\n/).filter((line) => line.startsWith("data:"))
      .map((line) => parsedErrorMessage(tryJson(line.slice("data:".length))))
      .find((found) => found !== undefined);
  if (message !== undefined) return message;
  const trimmed = text.trim().slice(0, 2000);
  return trimmed === "" ? `Upstream answered with status ${status}` : trimmed;
}
