/**
 * Model-name matching shared by routing, concurrency limits, throttling and the sampling policy.
 *
 * A config section keyed by model (e.g. `parallel_limits`, `throttle.per_model`, the sampling rules) is compiled
 * once into a {@linkcode ModelMatcher}. Lookup order:
 *
 * 1. a key equal to the model name, wherever it sits in the config;
 * 2. otherwise the first glob key, in config order, whose pattern matches the whole name.
 *
 * Globs use `globrex` with `extended: true`: `*` (any run of characters, `/` included), `?` (one character),
 * `[a-z]`, `{a,b}` and the extglobs `@(a|b)`, `+(…)`, `*(…)`, `?(…)`, `!(…)`. Matching is case-sensitive and
 * runs against the model name exactly as the client sent it: `GLM-5` and `glm-5` are different models (the seed
 * lowercased some sections but not others, which made the same key behave differently per section).
 *
 * @module
 */

import globrex from "globrex";

/**
 * The part of `globrex`'s result we use. The npm package ships no type declarations, so its untyped default
 * export is narrowed to this signature once, here.
 */
const compileGlob: (glob: string, options: { extended: boolean }) => { regex: RegExp } = globrex;

/** Characters (or extglob openers) that make a key a glob pattern rather than a literal model name. */
const GLOB_SYNTAX = /[*?[\]{}]|[+@!]\(/;

/** One successful lookup: the config key that matched and the value stored under it. */
export interface ModelMatch<T> {
  /** The config key that matched: the model name itself or a glob pattern. */
  readonly pattern: string;
  /** The value configured under that key. */
  readonly value: T;
}

/**
 * Tells whether a config key is a glob pattern (contains glob syntax) rather than a literal model name.
 *
 * @example
 * ```ts
 * import { isModelPattern } from "./model_matcher.ts";
 * isModelPattern("qwen3-*"); // true
 * isModelPattern("qwen3:precise"); // false
 * ```
 */
export function isModelPattern(key: string): boolean {
  return GLOB_SYNTAX.test(key);
}

/**
 * An ordered list of model-name keys (literal names or globs) compiled for lookup: exact name first, then globs in
 * the given order, first match wins.
 *
 * @example
 * ```ts
 * import { ModelMatcher } from "./model_matcher.ts";
 * const limits = new ModelMatcher(Object.entries({ "qwen3-*": 2, "qwen3-coder": 1 }));
 * limits.match("qwen3-coder"); // { pattern: "qwen3-coder", value: 1 }
 * limits.match("qwen3-8b"); // { pattern: "qwen3-*", value: 2 }
 * limits.match("llama"); // undefined
 * ```
 */
export class ModelMatcher<T> {
  #exact = new Map<string, ModelMatch<T>>();
  #globs: { regex: RegExp; match: ModelMatch<T> }[] = [];

  /**
   * Compiles the entries, keeping their order for glob precedence. Pass `Object.entries(section)` for a config
   * object: JavaScript keeps string keys in insertion order (only integer-like keys move first, and those are
   * never globs, so glob order is preserved).
   *
   * @throws {TypeError} when a key appears twice or a glob pattern is invalid
   */
  constructor(entries: Iterable<readonly [pattern: string, value: T]>) {
    const seen = new Set<string>();
    for (const [pattern, value] of entries) {
      if (seen.has(pattern)) throw new TypeError(`Duplicate model pattern "${pattern}"`);
      seen.add(pattern);
      const match = { pattern, value };
      this.#exact.set(pattern, match);
      if (isModelPattern(pattern)) this.#globs.push({ regex: compilePattern(pattern), match });
    }
  }

  /** Finds the entry for a model name: the exact key if present, otherwise the first matching glob. */
  match(model: string): ModelMatch<T> | undefined {
    return this.#exact.get(model) ?? this.#globs.find(({ regex }) => regex.test(model))?.match;
  }
}

function compilePattern(pattern: string): RegExp {
  try {
    return compileGlob(pattern, { extended: true }).regex;
  } catch (error) {
    // globrex passes unbalanced brackets straight to `new RegExp`, which throws a SyntaxError.
    throw new TypeError(`Invalid model pattern "${pattern}": ${(error as Error).message}`);
  }
}
