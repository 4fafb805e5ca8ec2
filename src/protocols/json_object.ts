/**
 * The one guard for "is this parsed JSON value an object": bodies, events and config values arrive unvalidated, and
 * every module that reads their fields asks this first.
 *
 * @module
 */

import type { JsonObject } from "./openai.ts";

/**
 * Tells whether a parsed JSON value is an object (not null, not an array).
 *
 * @example
 * ```ts
 * isJsonObject({ a: 1 }); // true
 * isJsonObject([1]); // false
 * ```
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
