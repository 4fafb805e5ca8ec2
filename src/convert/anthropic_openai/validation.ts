/**
 * The checks the Anthropic→OpenAI converters share: whether streamed tool arguments form a whole JSON object, and
 * the 400 error for client input that cannot be converted.
 *
 * @module
 */

import { isJsonObject } from "../../protocols/json_object.ts";
import { ProxyError } from "../../http/errors.ts";

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
