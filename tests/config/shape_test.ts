import assert from "node:assert/strict";
import * as s from "../../src/config/shape.ts";

/** `true` when `A` and `B` are the same type, optional and readonly modifiers included. */
type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends (<G>() => G extends B ? 1 : 2) ? true : false;

/** Fails type checking unless its type argument is `true`. */
function assertType<T extends true>(_: T): void {}

/** The problems of a validation that must fail. */
function problemsOf(shape: s.AnyShape, input: unknown): readonly s.Problem[] {
  const result = shape.validate(input);
  assert.ok(!result.ok, `${JSON.stringify(input)} should be rejected`);
  return result.problems;
}

/** The value of a validation that must succeed. */
function valueOf(shape: s.AnyShape, input: unknown): unknown {
  const result = shape.validate(input);
  assert.ok(result.ok, `${JSON.stringify(input)} should be accepted: ${JSON.stringify(result)}`);
  return result.value;
}

const port = s.number({ integer: true, min: 0, max: 65535 });

Deno.test("Shape.validate accepts the values of each kind and returns them", () => {
  const cases: { name: string; shape: s.AnyShape; input: unknown; want?: unknown }[] = [
    { name: "unknown object", shape: s.unknown(), input: { a: [1, null] } },
    { name: "unknown null", shape: s.unknown(), input: null },
    { name: "boolean", shape: s.boolean(), input: false },
    { name: "string", shape: s.string(), input: "" },
    { name: "non-empty string", shape: s.string({ minLength: 1 }), input: "a" },
    { name: "min length in code points", shape: s.string({ minLength: 2 }), input: "😀é" },
    { name: "pattern", shape: s.string({ pattern: /^[A-Z_]+$/ }), input: "API_KEY" },
    { name: "http URL", shape: s.url(), input: "http://127.0.0.1:8080" },
    { name: "https URL with path", shape: s.url(), input: "https://api.z.ai/api/anthropic" },
    { name: "upper-case scheme", shape: s.url(), input: "HTTP://h" },
    { name: "number", shape: s.number(), input: -1.5 },
    { name: "integer bounds", shape: port, input: 0 },
    { name: "integer upper bound", shape: port, input: 65535 },
    { name: "integer-valued float", shape: s.number({ integer: true }), input: 2.0 },
    { name: "positive", shape: s.number({ positive: true }), input: 0.001 },
    { name: "non-negative", shape: s.number({ min: 0 }), input: 0 },
    { name: "max only", shape: s.number({ max: 1 }), input: -5 },
    { name: "string enum", shape: s.oneOf(["a", "b"]), input: "b" },
    { name: "number enum", shape: s.oneOf([429, 503]), input: 503 },
    { name: "literal", shape: s.oneOf([true]), input: true },
    { name: "array", shape: s.array(s.number()), input: [1, 2] },
    { name: "empty array", shape: s.array(s.number()), input: [] },
    { name: "array with min items", shape: s.array(s.string(), { minItems: 1 }), input: ["x"] },
    { name: "record", shape: s.record(s.number()), input: { a: 1, "glm-*": 2 } },
    { name: "empty record", shape: s.record(s.number()), input: {} },
    { name: "nullable null", shape: s.string().nullable(), input: null },
    { name: "nullable value", shape: s.string().nullable(), input: "x" },
    { name: "object", shape: s.object({ a: s.number(), b: s.string().optional() }), input: { a: 1 } },
  ];
  for (const { name, shape, input, want = input } of cases) {
    assert.deepEqual(valueOf(shape, input), want, name);
  }
});

Deno.test("Shape.validate rejects a wrong value with what was expected and what was received", () => {
  const cases: { shape: s.AnyShape; input: unknown; message: string }[] = [
    { shape: s.boolean(), input: "yes", message: 'expected true or false, received "yes"' },
    { shape: s.string(), input: 5, message: "expected a string, received 5" },
    { shape: s.string({ minLength: 1 }), input: "", message: 'expected a non-empty string, received ""' },
    {
      shape: s.string({ minLength: 3 }),
      input: "ab",
      message: 'expected a string of at least 3 characters, received "ab"',
    },
    {
      shape: s.string({ pattern: /^[A-Z_]+$/ }),
      input: "key",
      message: 'expected a string matching /^[A-Z_]+$/, received "key"',
    },
    { shape: s.url(), input: "ftp://x", message: 'expected an http or https URL, received "ftp://x"' },
    { shape: s.url(), input: "localhost:8080", message: 'expected an http or https URL, received "localhost:8080"' },
    { shape: s.url(), input: "http://", message: 'expected an http or https URL, received "http://"' },
    { shape: s.url(), input: " http://h", message: 'expected an http or https URL, received " http://h"' },
    { shape: port, input: 70000, message: "expected an integer from 0 to 65535, received 70000" },
    { shape: port, input: 80.5, message: "expected an integer from 0 to 65535, received 80.5" },
    { shape: port, input: "8001", message: 'expected an integer from 0 to 65535, received "8001"' },
    { shape: s.number(), input: Number.NaN, message: "expected a number, received NaN" },
    { shape: s.number(), input: Infinity, message: "expected a number, received Infinity" },
    { shape: s.number({ integer: true }), input: 1.5, message: "expected an integer, received 1.5" },
    { shape: s.number({ positive: true }), input: 0, message: "expected a positive number, received 0" },
    {
      shape: s.number({ integer: true, positive: true }),
      input: -1,
      message: "expected a positive integer, received -1",
    },
    {
      shape: s.number({ positive: true, max: 5 }),
      input: 6,
      message: "expected a positive number of at most 5, received 6",
    },
    { shape: s.number({ min: 0 }), input: -1, message: "expected a non-negative number, received -1" },
    { shape: s.number({ min: 0, max: 1 }), input: 1.5, message: "expected a number from 0 to 1, received 1.5" },
    { shape: s.number({ integer: true, min: 2 }), input: 1, message: "expected an integer of at least 2, received 1" },
    { shape: s.number({ max: 1 }), input: 2, message: "expected a number of at most 1, received 2" },
    { shape: s.oneOf([429, 503]), input: 500, message: "expected 429 or 503, received 500" },
    { shape: s.oneOf(["a"]), input: "b", message: 'expected "a", received "b"' },
    { shape: s.oneOf(["a", "b", "c"]), input: "d", message: 'expected one of "a", "b", "c", received "d"' },
    { shape: s.array(s.number()), input: { 0: 1 }, message: "expected an array, received an object" },
    {
      shape: s.array(s.number(), { minItems: 1 }),
      input: [],
      message: "expected an array of at least 1 item, received []",
    },
    {
      shape: s.array(s.number(), { minItems: 3 }),
      input: [1, 2],
      message: "expected an array of at least 3 items, received an array of 2 items",
    },
    { shape: s.record(s.number()), input: [1], message: "expected an object, received an array of 1 item" },
    { shape: s.object({}), input: null, message: "expected an object, received null" },
    { shape: s.number().nullable(), input: "x", message: 'expected a number or null, received "x"' },
    { shape: s.number(), input: "x".repeat(100), message: `expected a number, received "${"x".repeat(58)}…` },
    { shape: s.string(), input: () => 1, message: "expected a string, received a function" },
    { shape: s.string(), input: undefined, message: "missing (expected a string)" },
  ];
  for (const { shape, input, message } of cases) {
    assert.deepEqual(problemsOf(shape, input), [{ path: [], message }], message);
  }
});

Deno.test("Shape.validate reports every problem with its JSON path", () => {
  const shape = s.object({
    listen: s.object({ port, host: s.string({ minLength: 1 }) }),
    upstreams: s.array(s.object({ name: s.string({ minLength: 1 }), base_url: s.url() })),
    limits: s.record(s.number({ integer: true, positive: true })),
  });
  const problems = problemsOf(shape, {
    listen: { port: 70000 },
    upstreams: [{ name: "a", base_url: "http://h" }, { name: "", base_url: "ftp://x" }],
    limits: { global: 2, "glm-*": 0 },
  });
  assert.deepEqual(problems, [
    { path: ["listen", "port"], message: "expected an integer from 0 to 65535, received 70000" },
    { path: ["listen", "host"], message: "missing (expected a non-empty string)" },
    { path: ["upstreams", 1, "name"], message: 'expected a non-empty string, received ""' },
    { path: ["upstreams", 1, "base_url"], message: 'expected an http or https URL, received "ftp://x"' },
    { path: ["limits", "glm-*"], message: "expected a positive integer, received 0" },
  ]);
});

Deno.test("Shape.validate reports unknown keys with their object's path and leaves them out", () => {
  const shape = s.object({
    listen: s.object({ port: port.optional() }).optional(),
    upstreams: s.array(s.object({ name: s.string() })).optional(),
    per_model: s.record(s.object({ pause: s.number().optional() })).optional(),
  });
  const input = {
    colour: "blue",
    listen: { prot: 1, port: 9000 },
    upstreams: [{ name: "a" }, { name: "b", tiemout: 3, foo: 1 }],
    per_model: { m: { extra: true } },
  };
  const snapshot = structuredClone(input);
  const result = shape.validate(input);
  assert.deepEqual(result.unknownKeys, [
    { path: [], keys: ["colour"], known: ["listen", "upstreams", "per_model"] },
    { path: ["listen"], keys: ["prot"], known: ["port"] },
    { path: ["upstreams", 1], keys: ["tiemout", "foo"], known: ["name"] },
    { path: ["per_model", "m"], keys: ["extra"], known: ["pause"] },
  ]);
  assert.ok(result.ok);
  assert.deepEqual(result.value, {
    listen: { port: 9000 },
    upstreams: [{ name: "a" }, { name: "b" }],
    per_model: { m: {} },
  });
  assert.deepEqual(input, snapshot, "the input is not changed");
});

Deno.test("Shape.validate reports unknown keys next to problems", () => {
  const result = s.object({ port }).validate({ prot: 1, port: -1 });
  assert.ok(!result.ok);
  assert.deepEqual(result.unknownKeys, [{ path: [], keys: ["prot"], known: ["port"] }]);
  assert.deepEqual(result.problems.map((problem) => problem.path), [["port"]]);
});

Deno.test("Shape.validate fills in defaults, a fresh copy each time, and leaves optional keys out", () => {
  const shape = s.object({
    headers: s.record(s.string()).default({}),
    style: s.oneOf(["none", "loud"]).default("none"),
    timeout: s.number({ positive: true }).default(5),
    key: s.string().optional(),
  });
  const first = shape.validate({});
  assert.ok(first.ok);
  assert.deepEqual(first.value, { headers: {}, style: "none", timeout: 5 });
  assert.ok(!("key" in first.value), "a missing optional key stays missing");
  first.value.headers.x = "changed";
  const second = shape.validate({ timeout: 1, key: "k" });
  assert.ok(second.ok);
  assert.deepEqual(second.value, { headers: {}, style: "none", timeout: 1, key: "k" });
  assert.deepEqual(problemsOf(shape, { timeout: 0 }), [
    { path: ["timeout"], message: "expected a positive number, received 0" },
  ]);
});

Deno.test("Shape modifiers return new shapes and keep the original", () => {
  const base = s.number({ min: 0 });
  const described = base.describe("Pause");
  const optional = described.nullable().optional();
  const defaulted = described.default(1);
  assert.equal(base.description, undefined);
  assert.equal(base.presence, "required");
  assert.equal(base.acceptsNull, false);
  assert.deepEqual([optional.description, optional.presence, optional.acceptsNull], ["Pause", "optional", true]);
  assert.deepEqual([defaulted.presence, defaulted.fallback], ["defaulted", { value: 1 }]);
  assert.equal(defaulted.optional().fallback, undefined, "optional drops the default");
  assert.equal(described.nullable().describe("Other").acceptsNull, true, "describe keeps nullable");
});

Deno.test("Shape.validate keeps a __proto__ key of a record as data", () => {
  const value = valueOf(s.record(s.string()), JSON.parse('{"__proto__": "x", "a": "b"}'));
  assert.ok(value !== null && typeof value === "object");
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.entries(value), [["__proto__", "x"], ["a", "b"]]);
});

Deno.test("Shape.toJsonSchema exports each kind with its constraints", () => {
  const cases: { name: string; shape: s.AnyShape; want: s.JsonSchema }[] = [
    { name: "unknown", shape: s.unknown(), want: {} },
    { name: "boolean", shape: s.boolean(), want: { type: "boolean" } },
    { name: "string", shape: s.string(), want: { type: "string" } },
    {
      name: "string constraints",
      shape: s.string({ minLength: 1, pattern: /^[a-z]+$/ }),
      want: { type: "string", minLength: 1, pattern: "^[a-z]+$" },
    },
    { name: "url", shape: s.url(), want: { type: "string", format: "uri", pattern: "^[Hh][Tt][Tt][Pp][Ss]?://" } },
    { name: "number", shape: s.number(), want: { type: "number" } },
    { name: "port", shape: port, want: { type: "integer", minimum: 0, maximum: 65535 } },
    {
      name: "positive integer",
      shape: s.number({ integer: true, positive: true }),
      want: { type: "integer", exclusiveMinimum: 0 },
    },
    { name: "string enum", shape: s.oneOf(["a", "b"]), want: { type: "string", enum: ["a", "b"] } },
    { name: "integer enum", shape: s.oneOf([429, 503]), want: { type: "integer", enum: [429, 503] } },
    { name: "number enum", shape: s.oneOf([0.5, 1]), want: { type: "number", enum: [0.5, 1] } },
    { name: "boolean literal", shape: s.oneOf([true]), want: { type: "boolean", enum: [true] } },
    { name: "mixed enum", shape: s.oneOf(["auto", 1]), want: { enum: ["auto", 1] } },
    {
      name: "array",
      shape: s.array(s.string(), { minItems: 1 }),
      want: { type: "array", minItems: 1, items: { type: "string" } },
    },
    { name: "record", shape: s.record(s.unknown()), want: { type: "object", additionalProperties: {} } },
    {
      name: "nullable",
      shape: s.number({ min: 0 }).nullable(),
      want: { type: ["number", "null"], minimum: 0 },
    },
    {
      name: "nullable enum",
      shape: s.oneOf(["a"]).nullable(),
      want: { type: ["string", "null"], enum: ["a", null] },
    },
    { name: "nullable unknown", shape: s.unknown().nullable(), want: {} },
    {
      name: "description and default",
      shape: s.boolean().default(false).describe("Switch"),
      want: { description: "Switch", type: "boolean", default: false },
    },
  ];
  for (const { name, shape, want } of cases) assert.deepEqual(shape.toJsonSchema(), want, name);
});

Deno.test("Shape.toJsonSchema lists required object keys and forbids others", () => {
  const shape = s.object({
    name: s.string(),
    timeout: s.number().default(5),
    key: s.string().optional(),
    inner: s.object({ a: s.boolean().optional() }).optional(),
  });
  assert.deepEqual(shape.toJsonSchema(), {
    type: "object",
    properties: {
      name: { type: "string" },
      timeout: { type: "number", default: 5 },
      key: { type: "string" },
      inner: { type: "object", properties: { a: { type: "boolean" } }, additionalProperties: false },
    },
    required: ["name"],
    additionalProperties: false,
  });
});

Deno.test("jsonSchemaDocument adds the 2020-12 draft and the id", () => {
  assert.deepEqual(s.jsonSchemaDocument(s.object({}), "https://example.com/x.json"), {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://example.com/x.json",
    type: "object",
    properties: {},
    additionalProperties: false,
  });
});

Deno.test("string and number reject contradictory options", () => {
  assert.throws(() => s.string({ pattern: /^a$/i }), TypeError);
  assert.throws(() => s.number({ min: 1, positive: true }), TypeError);
});

Deno.test("Infer derives the value type: optional keys optional, defaulted keys present", () => {
  const shape = s.object({
    name: s.string(),
    port: port.default(8001),
    host: s.string().optional(),
    pause: s.number().nullable().optional(),
    style: s.oneOf(["none", "loud"]).default("none"),
    tags: s.array(s.string()),
    params: s.record(s.unknown()).optional(),
  });
  type Want = {
    name: string;
    port: number;
    host?: string | undefined;
    pause?: number | null | undefined;
    style: "none" | "loud";
    tags: string[];
    params?: Record<string, unknown> | undefined;
  };
  assertType<Equal<s.Infer<typeof shape>, Want>>(true);
  // @ts-expect-error: a missing optional key makes another type, so the check above can fail.
  assertType<Equal<s.Infer<typeof shape>, Omit<Want, "host">>>(true);
  const result = shape.validate({ name: "a", tags: [] });
  assert.ok(result.ok);
  const value: Want = result.value;
  assert.deepEqual(value, { name: "a", port: 8001, style: "none", tags: [] });
});

Deno.test("filled() reads an omitted object as {} so that each field takes its own default", () => {
  const section = s.object({ port: s.number().default(8001), host: s.string().optional() }).filled();
  const root = s.object({ listen: section });
  const result = root.validate({});
  assert.ok(result.ok);
  assert.deepEqual(result.value, { listen: { port: 8001 } });
  assert.deepEqual(root.toJsonSchema().properties, {
    listen: {
      type: "object",
      properties: { port: { type: "number", default: 8001 }, host: { type: "string" } },
      additionalProperties: false,
      default: {},
    },
  });
  assert.throws(() => s.object({ name: s.string() }).filled(), TypeError);
});
