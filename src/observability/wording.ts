/**
 * Small wording helpers for log lines and messages, so counts read right ("1 attempt", "2 attempts").
 *
 * @module
 */

/**
 * `count` and `noun`, the noun in the plural unless the count is 1 (regular plurals only: add `s`).
 *
 * @example
 * ```ts
 * countOf(1, "attempt"); // "1 attempt"
 * countOf(0, "request"); // "0 requests"
 * ```
 */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
