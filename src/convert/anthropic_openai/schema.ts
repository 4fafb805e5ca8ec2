/**
 * Removes JSON Schema keywords that an upstream cannot handle from tool schemas.
 *
 * llama.cpp turns tool schemas into a sampling grammar and answers 400 "failed to parse grammar", or generates
 * unconstrained, on keywords it does not support (field note 20). Dropping a keyword only loosens the schema: the
 * client still validates the tool input against its own schema.
 *
 * @module
 */

import type { JsonObject } from "../../protocols/openai.ts";
import { isJsonObject } from "../../protocols/json_object.ts";

/**
 * Keywords worth dropping for grammar-constrained upstreams (llama.cpp): Claude Code's schemas carry `$schema`,
 * `format` (e.g. `"uri"`) and `propertyNames`, and a `pattern` may use regex features the grammar lacks.
 */
export const GRAMMAR_UNSAFE_SCHEMA_KEYWORDS: readonly string[] = ["$schema", "format", "pattern", "propertyNames"];

/** Keywords whose value maps names to subschemas: the names are data (Grep has a property named `pattern`). */
const NAMED_SUBSCHEMAS: ReadonlySet<string> = new Set([
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
  "dependentSchemas",
]);

/** Keywords whose value is a subschema or an array of subschemas. */
const SUBSCHEMAS: ReadonlySet<string> = new Set([
  "items",
  "prefixItems",
  "additionalItems",
  "additionalProperties",
  "unevaluatedItems",
  "unevaluatedProperties",
  "propertyNames",
  "contains",
  "not",
  "if",
  "then",
  "else",
  "anyOf",
  "oneOf",
  "allOf",
]);

function sanitizeSubschema(value: unknown, drop: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => sanitizeSubschema(item, drop));
  return isJsonObject(value) ? sanitizeSchema(value, drop) : value;
}

function sanitizeSchema(schema: JsonObject, drop: ReadonlySet<string>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (drop.has(key)) continue;
    if (NAMED_SUBSCHEMAS.has(key) && isJsonObject(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, subschema]) => [name, sanitizeSubschema(subschema, drop)]),
      );
    } else if (SUBSCHEMAS.has(key)) {
      out[key] = sanitizeSubschema(value, drop);
    } else {
      // Values of other keywords (enum, const, default, examples, required) are data, not schemas.
      out[key] = value;
    }
  }
  return out;
}

/**
 * Returns a copy of a JSON Schema without the given keywords, at every level of subschema. Property names and
 * data values (`enum`, `default`, …) are never touched, even when they spell a dropped keyword.
 *
 * @example
 * ```ts
 * dropSchemaKeywords({ type: "object", properties: { pattern: { type: "string", format: "regex" } } }, ["format", "pattern"]);
 * // { type: "object", properties: { pattern: { type: "string" } } }
 * ```
 */
export function dropSchemaKeywords(schema: JsonObject, keywords: readonly string[]): JsonObject {
  return sanitizeSchema(schema, new Set(keywords));
}
