/**
 * A linear byte scan that bounds what `JSON.parse` may build, run before it: nesting depth and number of values.
 *
 * A 16 MiB body of `{},{},…` holds five million objects and costs gigabytes to parse; the scan rejects it in one
 * pass without allocating. It does not validate JSON (the parse that follows does): it only counts, outside
 * strings, containers as they open (with their depth) and every scalar value (strings that are not object keys,
 * numbers, `true`, `false`, `null`).
 *
 * @module
 */

import { ProxyError } from "./errors.ts";

/** Bounds of {@link checkJsonBudget}. */
export interface JsonBudget {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most values (containers and scalars together). */
  maxValues: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Checks the JSON text in `bytes` against `budget`, in one pass.
 *
 * @throws {ProxyError} 400 when nested deeper than `maxDepth`, 413 when it holds more than `maxValues` values
 */
export function checkJsonBudget(bytes: Uint8Array, budget: JsonBudget): void {
  const { maxDepth, maxValues } = budget;
  // objects[d] is 1 when the container at depth d is an object (its members start with keys).
  const objects = new Uint8Array(maxDepth + 1);
  let depth = 0;
  let values = 0;
  let inString = false;
  let escaped = false;
  let expectKey = false;
  let inScalar = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    switch (byte) {
      case QUOTE:
        inString = true;
        if (!expectKey) values++;
        expectKey = false;
        inScalar = false;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (++depth > maxDepth) {
          throw new ProxyError(
            400,
            "invalid_request",
            `Request body is nested deeper than ${maxDepth} levels (listen.max_json_depth)`,
          );
        }
        objects[depth] = byte === OPEN_OBJECT ? 1 : 0;
        expectKey = byte === OPEN_OBJECT;
        values++;
        inScalar = false;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        depth--;
        expectKey = false;
        inScalar = false;
        break;
      case COMMA:
        expectKey = depth > 0 && objects[depth] === 1;
        inScalar = false;
        break;
      case COLON:
      case SPACE:
      case TAB:
      case LF:
      case CR:
        inScalar = false;
        break;
      default:
        if (!inScalar) values++;
        inScalar = true;
    }
    if (values > maxValues) {
      throw new ProxyError(
        413,
        "request_too_large",
        `Request body holds more than ${maxValues} JSON values (listen.max_json_elements)`,
      );
    }
  }
}
