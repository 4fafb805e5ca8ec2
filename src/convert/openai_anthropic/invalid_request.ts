/**
 * The one error the request converter throws: the client sent something the Anthropic upstream cannot take.
 *
 * @module
 */

import { ProxyError } from "../../http/errors.ts";

/**
 * Builds a 400 `invalid_request` {@link ProxyError} whose message starts with "Cannot convert request".
 *
 * @example
 * ```ts
 * throw invalidRequest('messages[2].content[0] has type "input_audio", which an Anthropic upstream cannot take');
 * ```
 */
export function invalidRequest(detail: string): ProxyError {
  return new ProxyError(400, "invalid_request", `Cannot convert request: ${detail}`);
}
