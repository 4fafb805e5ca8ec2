/**
 * A small declarative schema builder for JSON values such as the config file.
 *
 * A shape is data: what kind of value it accepts, its constraints, whether an object may omit it, its default and
 * its description. Two interpreters read that data: {@link Shape.validate} checks a value and
 * {@link Shape.toJsonSchema} exports JSON Schema (draft 2020-12) for editors. {@link Infer} derives the TypeScript
 * type, so the type of a validated value is never written by hand.
 *
 * Validation reports every problem in one pass, each with its JSON path and a sentence-case message
 * (`expected an integer from 0 to 65535, received 70000`). Objects are strict, but an unknown key is not a problem:
 * it is reported apart, with the path of its object, and left out of the value, so that a caller can warn and go on.
 *
 * @example
 * ```ts
 * import * as s from "./shape.ts";
 *
 * const listen = s.object({
 *   host: s.string({ minLength: 1 }).optional().describe("Address to bind"),
 *   port: s.number({ integer: true, min: 0, max: 65535 }).default(8001),
 * });
 * type Listen = s.Infer<typeof listen>; // { port: number; host?: string | undefined }
 *
 * const result = listen.validate({ port: 70000, prot: 1 });
 * if (!result.ok) console.log(result.problems); // [{ path: ["port"], message: "expected an integer from 0 to 65535, received 70000" }]
 * console.log(result.unknownKeys); // [{ path: [], keys: ["prot"], known: ["port"] }]
 * ```
 *
 * @module
 */

import { isJsonObject } from "../protocols/json_object.ts";

/** A step of a JSON path: an object key or an array index. */
export type PathKey = string | number;

/** A value that does not fit its shape. */
export interface Problem {
  /** Where the value is, from the validated root, e.g. `["upstreams", 0, "base_url"]`. */
  readonly path: readonly PathKey[];
  /** What is wrong, e.g. `expected an http or https URL, received "ftp://x"`. */
  readonly message: string;
}

/** Keys of an object that its shape does not know; they are left out of the validated value. */
export interface UnknownKeys {
  /** Path of the object holding the keys; empty for the root. */
  readonly path: readonly PathKey[];
  /** The keys, in the order of the input. */
  readonly keys: readonly string[];
  /** The keys the object's shape knows, for suggestions. */
  readonly known: readonly string[];
}

/** The outcome of {@link Shape.validate}: the value, or every problem; unknown keys either way. */
export type Validation<T> =
  | { readonly ok: true; readonly value: T; readonly unknownKeys: readonly UnknownKeys[] }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly unknownKeys: readonly UnknownKeys[] };

/**
 * Whether an object may omit a key: `required`; `optional` (the key stays missing); `defaulted` (the default is
 * filled in, so the validated value always has the key).
 */
export type Presence = "required" | "optional" | "defaulted";

/** A JSON Schema node. */
export type JsonSchema = Record<string, unknown>;

/** A JSON value that {@link oneOf} can list. */
export type Literal = string | number | boolean;

/** Any shape; the element type of containers. */
export type AnyShape = Shape<unknown, Presence>;

/** The fields of an object shape: key → shape. */
export type Fields = Readonly<Record<string, AnyShape>>;

/** The kind of value a shape accepts and its constraints. */
export type ShapeSpec =
  | { readonly kind: "unknown" }
  | { readonly kind: "boolean" }
  | { readonly kind: "string"; readonly minLength: number; readonly pattern: RegExp | undefined }
  | { readonly kind: "url" }
  | {
    readonly kind: "number";
    readonly integer: boolean;
    readonly min: number | undefined;
    readonly max: number | undefined;
    readonly positive: boolean;
  }
  | { readonly kind: "oneOf"; readonly values: readonly Literal[] }
  | { readonly kind: "array"; readonly item: AnyShape; readonly minItems: number }
  | { readonly kind: "record"; readonly value: AnyShape }
  | { readonly kind: "object"; readonly fields: Fields };

/** The modifiers of a shape, as given to the {@link Shape} constructor. */
export interface ShapeModifiers<T, P extends Presence> {
  /** Whether an object may omit the key. */
  readonly presence: P;
  /** Shown in editors. */
  readonly description?: string;
  /** Whether `null` is accepted besides the spec's values. */
  readonly acceptsNull: boolean;
  /** Filled in when the key is missing; set exactly when `presence` is `defaulted`. */
  readonly fallback?: { readonly value: T };
}

/**
 * A schema for values of type `T`. Build shapes with the functions of this module ({@link object},
 * {@link string}, …); each modifier returns a new shape, so shapes can be shared.
 */
export class Shape<T, P extends Presence = "required"> {
  /** What the shape accepts. */
  readonly spec: ShapeSpec;
  /** Whether an object may omit the key. */
  readonly presence: P;
  /** Shown in editors. */
  readonly description: string | undefined;
  /** Whether `null` is accepted besides the spec's values. */
  readonly acceptsNull: boolean;
  /** Filled in when the key is missing. */
  readonly fallback: { readonly value: T } | undefined;

  /** Prefer the builder functions ({@link object}, {@link string}, …) and the modifier methods. */
  constructor(spec: ShapeSpec, modifiers: ShapeModifiers<T, P>) {
    this.spec = spec;
    this.presence = modifiers.presence;
    this.description = modifiers.description;
    this.acceptsNull = modifiers.acceptsNull;
    this.fallback = modifiers.fallback;
  }

  /** The same shape, which an object may omit. */
  optional(): Shape<T, "optional"> {
    return new Shape(this.spec, { ...this.#modifiers(), presence: "optional", fallback: undefined });
  }

  /** The same shape, filled in with (a copy of) `value` when an object omits it. */
  default(value: T): Shape<T, "defaulted"> {
    return new Shape(this.spec, { ...this.#modifiers(), presence: "defaulted", fallback: { value } });
  }

  /**
   * The same object shape, read as `{}` when an object omits it, so that each of its fields takes its own default.
   *
   * @throws {TypeError} when the shape is not an object shape or has a required field
   */
  filled(): Shape<T, "defaulted"> {
    const { spec } = this;
    if (spec.kind !== "object" || Object.values(spec.fields).some((field) => field.presence === "required")) {
      throw new TypeError("Cannot fill a shape that is not an object shape without required fields");
    }
    // `read` fills every field of `{}` in, so the value it returns is a `T`.
    return new Shape(spec, { ...this.#modifiers(), presence: "defaulted", fallback: { value: {} as T } });
  }

  /** The same shape, accepting `null` too. */
  nullable(): Shape<T | null, P> {
    return new Shape<T | null, P>(this.spec, { ...this.#modifiers(), acceptsNull: true });
  }

  /** The same shape, with a description for editors. */
  describe(description: string): Shape<T, P> {
    return new Shape(this.spec, { ...this.#modifiers(), description });
  }

  /**
   * Checks `value` against the shape. Arrays and objects are copied, with unknown keys left out and defaults
   * filled in; the input is not changed (values of {@link unknown} shapes are shared with it).
   */
  validate(value: unknown): Validation<T> {
    const report: Report = { problems: [], unknownKeys: [] };
    const out = read(this, value, [], report);
    const { problems, unknownKeys } = report;
    // `read` returns a `T` whenever it reported no problem.
    return problems.length === 0 ? { ok: true, value: out as T, unknownKeys } : { ok: false, problems, unknownKeys };
  }

  /** The JSON Schema node of the shape (see {@link jsonSchemaDocument} for a whole document). */
  toJsonSchema(): JsonSchema {
    return schemaOf(this);
  }

  #modifiers(): ShapeModifiers<T, P> {
    return {
      presence: this.presence,
      description: this.description,
      acceptsNull: this.acceptsNull,
      fallback: this.fallback,
    };
  }
}

/** The type of the values a shape accepts, after defaults. */
export type Infer<S extends AnyShape> = S extends Shape<infer T, Presence> ? T : never;

type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends Shape<unknown, "optional"> ? K : never }[keyof F];

/** The type of the values an {@link object} shape accepts: keys of `optional` shapes are optional. */
export type ObjectOf<F extends Fields> = Flatten<
  & { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> }
  & { -readonly [K in OptionalKeys<F>]?: Infer<F[K]> }
>;

/** Merges an intersection into one object type, for readable hovers. */
type Flatten<O> = { [K in keyof O]: O[K] };

/** Any value: for open maps such as sampling parameters. */
export function unknown(): Shape<unknown> {
  return required({ kind: "unknown" });
}

/** `true` or `false`. */
export function boolean(): Shape<boolean> {
  return required({ kind: "boolean" });
}

/** Options of {@link string}. */
export interface StringOptions {
  /** Fewest characters (Unicode code points). @default 0 */
  minLength?: number;
  /** A pattern the whole value must match (anchor it); without flags, as JSON Schema patterns have none. */
  pattern?: RegExp;
}

/**
 * A string.
 *
 * @throws {TypeError} when `pattern` has flags
 */
export function string(options: StringOptions = {}): Shape<string> {
  const { minLength = 0, pattern } = options;
  if (pattern && pattern.flags !== "") {
    throw new TypeError(`Cannot use pattern ${pattern} in a string shape: JSON Schema patterns have no flags`);
  }
  return required({ kind: "string", minLength, pattern });
}

/** An absolute `http:` or `https:` URL, kept as written. */
export function url(): Shape<string> {
  return required({ kind: "url" });
}

/** Options of {@link number}. */
export interface NumberOptions {
  /** Accept integers only. @default false */
  integer?: boolean;
  /** Smallest value allowed (`0`: non-negative). */
  min?: number;
  /** Largest value allowed. */
  max?: number;
  /** Values must be greater than 0; instead of `min`. @default false */
  positive?: boolean;
}

/**
 * A finite number.
 *
 * @throws {TypeError} when both `min` and `positive` are given
 */
export function number(options: NumberOptions = {}): Shape<number> {
  const { integer = false, min, max, positive = false } = options;
  if (positive && min !== undefined) throw new TypeError("Cannot give both min and positive to a number shape");
  return required({ kind: "number", integer, min, max, positive });
}

/** One of the listed values; a single value makes a literal. */
export function oneOf<const V extends readonly [Literal, ...Literal[]]>(values: V): Shape<V[number]> {
  return required({ kind: "oneOf", values });
}

/** Options of {@link array}. */
export interface ArrayOptions {
  /** Fewest items. @default 0 */
  minItems?: number;
}

/** An array whose items all have the shape `item`. */
export function array<S extends AnyShape>(item: S, options: ArrayOptions = {}): Shape<Infer<S>[]> {
  return required({ kind: "array", item, minItems: options.minItems ?? 0 });
}

/** An object with any keys, whose values all have the shape `value`. */
export function record<S extends AnyShape>(value: S): Shape<Record<string, Infer<S>>> {
  return required({ kind: "record", value });
}

/** An object with the given keys only; other keys are reported as {@link UnknownKeys} and left out. */
export function object<F extends Fields>(fields: F): Shape<ObjectOf<F>> {
  return required({ kind: "object", fields });
}

/** A JSON Schema (draft 2020-12) document for `shape`, with `$id` set to `id`. */
export function jsonSchemaDocument(shape: AnyShape, id: string): JsonSchema {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", $id: id, ...shape.toJsonSchema() };
}

function required<T>(spec: ShapeSpec): Shape<T> {
  return new Shape<T>(spec, { presence: "required", acceptsNull: false });
}

/** What a validation found so far. */
interface Report {
  problems: Problem[];
  unknownKeys: UnknownKeys[];
}

/** Validates `value`, found at `path`; returns the validated value, which only counts when nothing was reported. */
function read(shape: AnyShape, value: unknown, path: readonly PathKey[], report: Report): unknown {
  if (value === undefined) {
    if (shape.fallback) return read(shape, structuredClone(shape.fallback.value), path, report);
    if (shape.presence === "optional") return undefined;
    report.problems.push({ path, message: `missing (expected ${expectation(shape)})` });
    return undefined;
  }
  if (value === null && shape.acceptsNull) return null;
  const { spec } = shape;
  if (spec.kind === "array" && Array.isArray(value) && value.length >= spec.minItems) {
    return value.map((item, index) => read(spec.item, item, [...path, index], report));
  }
  if (spec.kind === "record" && isJsonObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, read(spec.value, item, [...path, key], report)]),
    );
  }
  if (spec.kind === "object" && isJsonObject(value)) return readObject(spec.fields, value, path, report);
  if (accepts(spec, value)) return value;
  report.problems.push({ path, message: `expected ${expectation(shape)}, received ${received(value)}` });
  return undefined;
}

function readObject(fields: Fields, value: Record<string, unknown>, path: readonly PathKey[], report: Report) {
  const unknownKeys = Object.keys(value).filter((key) => !Object.hasOwn(fields, key));
  if (unknownKeys.length > 0) report.unknownKeys.push({ path, keys: unknownKeys, known: Object.keys(fields) });
  const entries: [string, unknown][] = [];
  for (const [key, field] of Object.entries(fields)) {
    const item = read(field, Object.hasOwn(value, key) ? value[key] : undefined, [...path, key], report);
    if (item !== undefined) entries.push([key, item]);
  }
  // `fromEntries` defines keys, so even a `__proto__` key stays data.
  return Object.fromEntries(entries);
}

/** Whether a value that is not a container fits `spec`; containers are read by {@link read}. */
function accepts(spec: ShapeSpec, value: unknown): boolean {
  switch (spec.kind) {
    case "unknown":
      return true;
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string" && [...value].length >= spec.minLength && (spec.pattern?.test(value) ?? true);
    case "url":
      return typeof value === "string" && HTTP_URL.test(value) && URL.canParse(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value) && (!spec.integer || Number.isInteger(value)) &&
        (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max) &&
        (!spec.positive || value > 0);
    case "oneOf":
      return spec.values.some((literal) => literal === value);
    default:
      return false;
  }
}

/** The scheme test of {@link url}; `URL.canParse` checks the rest. */
const HTTP_URL = /^https?:\/\//i;
/** {@link HTTP_URL} for JSON Schema, whose patterns have no `i` flag. */
const HTTP_URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://";

/** The values a shape accepts, as a phrase that follows "expected". */
function expectation(shape: AnyShape): string {
  const phrase = specPhrase(shape.spec);
  return shape.acceptsNull ? `${phrase} or null` : phrase;
}

function specPhrase(spec: ShapeSpec): string {
  switch (spec.kind) {
    case "unknown":
      return "any value";
    case "boolean":
      return "true or false";
    case "string":
      return stringPhrase(spec.minLength, spec.pattern);
    case "url":
      return "an http or https URL";
    case "number":
      return numberPhrase(spec);
    case "oneOf":
      return oneOfPhrase(spec.values);
    case "array":
      return spec.minItems === 0 ? "an array" : `an array of at least ${count(spec.minItems, "item")}`;
    case "record":
    case "object":
      return "an object";
  }
}

function stringPhrase(minLength: number, pattern: RegExp | undefined): string {
  const base = minLength === 0
    ? "a string"
    : minLength === 1
    ? "a non-empty string"
    : `a string of at least ${count(minLength, "character")}`;
  return pattern ? `${base} matching ${pattern}` : base;
}

function numberPhrase(spec: { integer: boolean; min?: number; max?: number; positive: boolean }): string {
  const { integer, min, max, positive } = spec;
  const noun = integer ? "integer" : "number";
  const article = integer ? "an" : "a";
  if (positive) return max === undefined ? `a positive ${noun}` : `a positive ${noun} of at most ${max}`;
  if (min === 0 && max === undefined) return `a non-negative ${noun}`;
  if (min !== undefined && max !== undefined) return `${article} ${noun} from ${min} to ${max}`;
  if (min !== undefined) return `${article} ${noun} of at least ${min}`;
  if (max !== undefined) return `${article} ${noun} of at most ${max}`;
  return `${article} ${noun}`;
}

function oneOfPhrase(values: readonly Literal[]): string {
  const names = values.map((value) => JSON.stringify(value));
  if (names.length === 1) return names[0];
  if (names.length === 2) return `${names[0]} or ${names[1]}`;
  return `one of ${names.join(", ")}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

const MAX_RECEIVED_CHARS = 60;

/** A short description of a value for messages: strings quoted, containers summarised. */
function received(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `an array of ${count(value.length, "item")}`;
  if (isJsonObject(value)) return "an object";
  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return text.length > MAX_RECEIVED_CHARS ? `${text.slice(0, MAX_RECEIVED_CHARS - 1)}…` : text;
  }
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return `a ${typeof value}`;
}

function schemaOf(shape: AnyShape): JsonSchema {
  const node = specSchema(shape.spec);
  return definedOnly({
    description: shape.description,
    ...(shape.acceptsNull ? withNull(node) : node),
    default: shape.fallback?.value,
  });
}

function specSchema(spec: ShapeSpec): JsonSchema {
  switch (spec.kind) {
    case "unknown":
      return {};
    case "boolean":
      return { type: "boolean" };
    case "string":
      return definedOnly({
        type: "string",
        minLength: spec.minLength > 0 ? spec.minLength : undefined,
        pattern: spec.pattern?.source,
      });
    case "url":
      return { type: "string", format: "uri", pattern: HTTP_URL_PATTERN };
    case "number":
      return definedOnly({
        type: spec.integer ? "integer" : "number",
        minimum: spec.min,
        exclusiveMinimum: spec.positive ? 0 : undefined,
        maximum: spec.max,
      });
    case "oneOf":
      return definedOnly({ type: literalType(spec.values), enum: [...spec.values] });
    case "array":
      return definedOnly({
        type: "array",
        minItems: spec.minItems > 0 ? spec.minItems : undefined,
        items: schemaOf(spec.item),
      });
    case "record":
      return { type: "object", additionalProperties: schemaOf(spec.value) };
    case "object": {
      const fields = Object.entries(spec.fields);
      const required = fields.filter(([, field]) => field.presence === "required").map(([key]) => key);
      return definedOnly({
        type: "object",
        properties: Object.fromEntries(fields.map(([key, field]) => [key, schemaOf(field)])),
        required: required.length > 0 ? required : undefined,
        additionalProperties: false,
      });
    }
  }
}

/** The JSON Schema `type` shared by all `values`, if any. */
function literalType(values: readonly Literal[]): string | undefined {
  if (values.every((value) => typeof value === "string")) return "string";
  if (values.every((value) => typeof value === "boolean")) return "boolean";
  if (values.every((value) => Number.isInteger(value))) return "integer";
  if (values.every((value) => typeof value === "number")) return "number";
  return undefined;
}

/** `node` accepting `null` too. */
function withNull(node: JsonSchema): JsonSchema {
  return definedOnly({
    ...node,
    type: typeof node.type === "string" ? [node.type, "null"] : node.type,
    enum: Array.isArray(node.enum) ? [...node.enum, null] : undefined,
  });
}

function definedOnly(node: JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(node).filter(([, value]) => value !== undefined));
}
