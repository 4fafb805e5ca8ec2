/**
 * Finds loops with small variations: most recent word 4-grams already occurred a little earlier.
 *
 * Words are runs of non-space units, cut at 32 units, compared case-folded with digits folded to `0`. Only prose
 * words count: a word needs a letter and no code punctuation (`{}[]()<>=;|\`"\\$_/#@`), and any other word breaks
 * the chain, so code, JSON, markdown tables and numbers hardly feed this tracker (their verbatim loops are the
 * periodic tracker's job).
 *
 * Each 4-gram of consecutive prose words is hashed; a map remembers the index of its latest occurrence (O(1) per
 * word, entries expire with the window). A 4-gram is "repeated" when it occurred among the previous 64 4-grams: a
 * loop's round is shorter than that, while boilerplate that comes back after a long stretch of other text (license
 * paragraphs, the same disclaimer per section) is not counted. Flags are summed over the last 160 4-grams.
 *
 * - Suspicious when 120 of the 160 (75 %) are repeated. Healthy prose repeats well under a quarter of its 4-grams
 *   even on one topic; a loop that swaps one word per sentence (a growing list, a changing counter, "let me check
 *   X again") still repeats most of them. Never `"loop"`: variation is exactly what a validator should judge.
 * - Holds text back from the first repeated 4-gram of a burst: a burst starts when 16 of the last 32 4-grams are
 *   repeated and lasts until fewer than 8 of the last 32 are (the gap keeps the hold from flickering), so the
 *   repeats of a slow loop are still unreleased when the verdict comes.
 *
 * @module
 */

import { CODE, LETTER, normalizeUnit, SPACE } from "./char_class.ts";
import type { RepetitionFinding } from "./loop_verdict.ts";
import { hashStep } from "./rolling_hash.ts";

const GRAM = 4;
const WINDOW = 160;
const MAX_GAP = 64;
const TRIGGER = 120;
const SHORT_WINDOW = 32;
const HOLD_TRIGGER = 16;
const HOLD_RELEASE = 8;
const MAX_WORD = 32;

/** Counts repeated word 4-grams over a sliding window. */
export class NgramTracker {
  #wordHash = 0;
  #wordLength = 0;
  #wordStart = 0;
  #wordLetters = false;
  #wordCode = false;
  #words = new Int32Array(GRAM);
  #wordStarts = new Float64Array(GRAM);
  #wordCount = 0;
  #grams = new Int32Array(WINDOW);
  #gramStarts = new Float64Array(WINDOW);
  #flags = new Uint8Array(WINDOW);
  #gramCount = 0;
  #lastIndex = new Map<number, number>();
  #lastStart = new Map<number, number>();
  #repeated = 0;
  #recentRepeated = 0;
  #lastDistance = 0;
  #burstStart = Infinity;

  /** Processes one code unit at `position` with its classes; returns a finding or `null`. */
  step(position: number, unit: number, classes: number, allowSuspicious: boolean): RepetitionFinding | null {
    if (classes & SPACE) return this.#endWord(allowSuspicious);
    let found: RepetitionFinding | null = null;
    if (this.#wordLength === MAX_WORD) found = this.#endWord(allowSuspicious);
    if (this.#wordLength === 0) this.#wordStart = position;
    this.#wordHash = hashStep(this.#wordHash, normalizeUnit(unit, true));
    this.#wordLength++;
    if (classes & LETTER) this.#wordLetters = true;
    if (classes & CODE) this.#wordCode = true;
    return found;
  }

  /** Ends the last word at end of text. */
  finish(allowSuspicious: boolean): RepetitionFinding | null {
    return this.#endWord(allowSuspicious);
  }

  /** The start of the current burst of repeated 4-grams, else `Infinity`. */
  holdPoint(): number {
    return this.#burstStart;
  }

  #endWord(allowSuspicious: boolean): RepetitionFinding | null {
    if (this.#wordLength === 0) return null;
    const prose = this.#wordLetters && !this.#wordCode;
    const hash = this.#wordHash;
    this.#wordHash = 0;
    this.#wordLength = 0;
    this.#wordLetters = false;
    this.#wordCode = false;
    if (!prose) {
      this.#wordCount = 0;
      return null;
    }
    const slot = this.#wordCount % GRAM;
    this.#words[slot] = hash;
    this.#wordStarts[slot] = this.#wordStart;
    this.#wordCount++;
    if (this.#wordCount < GRAM) return null;
    let gram = 0;
    for (let i = this.#wordCount - GRAM; i < this.#wordCount; i++) gram = hashStep(gram, this.#words[i % GRAM]);
    return this.#addGram(gram, this.#wordStarts[(this.#wordCount - GRAM) % GRAM], allowSuspicious);
  }

  #addGram(gram: number, start: number, allowSuspicious: boolean): RepetitionFinding | null {
    const index = this.#gramCount;
    const slot = index % WINDOW;
    if (index >= WINDOW) {
      const old = this.#grams[slot];
      if (this.#lastIndex.get(old) === index - WINDOW) {
        this.#lastIndex.delete(old);
        this.#lastStart.delete(old);
      }
      this.#repeated -= this.#flags[slot];
    }
    if (this.#gramCount >= SHORT_WINDOW) this.#recentRepeated -= this.#flags[(this.#gramCount - SHORT_WINDOW) % WINDOW];
    const previous = this.#lastIndex.get(gram);
    const flag = previous !== undefined && index - previous <= MAX_GAP ? 1 : 0;
    if (flag) this.#lastDistance = start - (this.#lastStart.get(gram) ?? start);
    this.#lastIndex.set(gram, index);
    this.#lastStart.set(gram, start);
    this.#grams[slot] = gram;
    this.#gramStarts[slot] = start;
    this.#flags[slot] = flag;
    this.#repeated += flag;
    this.#recentRepeated += flag;
    this.#gramCount++;
    if (this.#recentRepeated < HOLD_RELEASE) {
      this.#burstStart = Infinity;
    } else if (this.#burstStart === Infinity && this.#recentRepeated >= HOLD_TRIGGER) {
      this.#burstStart = this.#firstRepeatedStart(SHORT_WINDOW);
    }
    if (!allowSuspicious || this.#repeated < TRIGGER) return null;
    return {
      level: "suspicious",
      reason: "repeated-ngrams",
      period: this.#lastDistance,
      repeats: this.#repeated,
      start: this.#firstRepeatedStart(WINDOW),
    };
  }

  /** The start of the oldest repeated 4-gram among the last `span`. */
  #firstRepeatedStart(span: number): number {
    for (let i = Math.max(0, this.#gramCount - span); i < this.#gramCount; i++) {
      if (this.#flags[i % WINDOW]) return this.#gramStarts[i % WINDOW];
    }
    return this.#gramStarts[(this.#gramCount - 1) % WINDOW];
  }
}
