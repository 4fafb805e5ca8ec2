import assert from "node:assert/strict";
import { dropSchemaKeywords, GRAMMAR_UNSAFE_SCHEMA_KEYWORDS } from "../../../src/convert/anthropic_openai/schema.ts";

Deno.test("dropSchemaKeywords removes keywords at every subschema level", () => {
  const schema = {
    $schema: "http://json-schema.org/draft-07/schema#",
    type: "object",
    properties: {
      url: { type: "string", format: "uri" },
      tags: { type: "array", items: { type: "string", pattern: "^[a-z]+$" } },
      meta: {
        type: "object",
        propertyNames: { pattern: "^x-" },
        additionalProperties: { type: "string", format: "date" },
      },
      either: { anyOf: [{ type: "string", format: "email" }, { type: "null" }] },
    },
    $defs: { id: { type: "string", format: "uuid" } },
  };
  assert.deepEqual(dropSchemaKeywords(schema, GRAMMAR_UNSAFE_SCHEMA_KEYWORDS), {
    type: "object",
    properties: {
      url: { type: "string" },
      tags: { type: "array", items: { type: "string" } },
      meta: { type: "object", additionalProperties: { type: "string" } },
      either: { anyOf: [{ type: "string" }, { type: "null" }] },
    },
    $defs: { id: { type: "string" } },
  });
});

Deno.test("dropSchemaKeywords never touches property names or data values", () => {
  const schema = {
    type: "object",
    properties: { pattern: { type: "string" }, format: { enum: ["pattern", "format"], default: { format: "x" } } },
    required: ["pattern", "format"],
  };
  assert.deepEqual(dropSchemaKeywords(schema, ["pattern", "format"]), schema);
});

Deno.test("dropSchemaKeywords returns a copy and leaves its input alone", () => {
  const schema = { type: "object", properties: { a: { type: "string", format: "uri" } } };
  const copy = structuredClone(schema);
  const out = dropSchemaKeywords(schema, []);
  assert.deepEqual(out, copy);
  assert.notEqual(out.properties, schema.properties);
  dropSchemaKeywords(schema, ["format"]);
  assert.deepEqual(schema, copy);
});
