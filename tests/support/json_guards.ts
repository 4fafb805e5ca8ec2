/**
 * Small type guards for JSON read by the test support code.
 *
 * @module
 */

/** A parsed JSON object. */
export type { JsonObject } from "../../src/protocols/openai.ts";

/** Tells whether a value is a plain JSON object (not null, not an array): the proxy's own guard. */
export { isJsonObject as isRecord } from "../../src/protocols/json_object.ts";

/** Parses JSON text, giving `undefined` instead of throwing when the text is not JSON. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
