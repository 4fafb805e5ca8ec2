/**
 * Word counting for logs, failure dumps and reports.
 *
 * @module
 */

/**
 * Counts words: runs of non-space characters, except that every Han, Hiragana and Katakana character counts as a
 * word of its own, since those scripts do not separate words with spaces.
 *
 * @example Count words
 * ```ts
 * import { countWords } from "./text_stats.ts";
 * countWords("the cat sat"); // 3
 * countWords("缓存失效"); // 4
 * ```
 */
export function countWords(text: string): number {
  let count = 0;
  for (const _ of text.matchAll(WORD)) count++;
  return count;
}

const WORD =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[^\s\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu;
