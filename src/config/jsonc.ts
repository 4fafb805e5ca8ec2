/**
 * Config text as JSON with comments (JSONC): `//` and `/* *\/` comments and trailing commas are accepted, as in the
 * README's examples and VS Code's settings. Parsed by Microsoft's `jsonc-parser`; a syntax error names its line and
 * column.
 *
 * @module
 */

import { parse, type ParseError, printParseErrorCode } from "jsonc-parser";

/** The value of JSONC `text`, or the first syntax error as `line L, column C: what is wrong`. */
export type JsoncResult = { ok: true; value: unknown } | { ok: false; error: string };

/** Parses JSONC `text` (comments and trailing commas allowed). */
export function parseJsonc(text: string): JsoncResult {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length === 0) return { ok: true, value };
  const first = errors[0];
  const before = text.slice(0, first.offset);
  const line = before.split("\n").length;
  const column = first.offset - before.lastIndexOf("\n");
  return { ok: false, error: `line ${line}, column ${column}: ${describe(printParseErrorCode(first.error))}` };
}

/** `ColonExpected` → `colon expected`. */
function describe(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}
