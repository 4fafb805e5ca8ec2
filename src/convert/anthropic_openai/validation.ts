/**
 * The checks the Anthropic→OpenAI converters share: JSON-object guards for bodies and tool arguments that arrive
 * unvalidated, and the 400 error for client input that cannot be converted.
 *
 * @module
 */

import type { JsonObject } from "../../protocols/openai.ts";
import { ProxyError } from "../../http/errors.ts";

/** Tells whether a parsed JSON value is an object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Tells whether streamed tool arguments already form a whole JSON object, so no further byte can belong to them.
 * Cheap when they do not end with `}`, which is most of the time while a call streams.
 */
export function isCompleteJsonObject(text: string): boolean {
  const trimmed = text.trimEnd();
  if (!trimmed.endsWith("}")) return false;
  try {
    return isJsonObject(JSON.parse(trimmed));
  } catch {
    return false;
  }
}

/**
 * Builds the 400 `invalid_request` error for client input the converter rejects.
 *
 * @example
 * ```ts
 * throw invalidRequest("messages must be a non-empty array");
 * ```
 */
export function invalidRequest(message: string): ProxyError {
  return new ProxyError(400, "invalid_request", message);
}
