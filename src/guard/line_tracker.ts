/**
 * Finds one prose line that keeps coming back among other lines ("Let me check the config again." every other
 * line), a loop shape the periodic tracker misses because the lines in between differ.
 *
 * Only prose lines can repeat: at least five words and 24 non-space units, at least 70 % letters, no code
 * punctuation (`{}[]()<>=;|\`"\\$_/#@`), not indented by four spaces or a tab. Code (`return nil, err`, `}`,
 * indented Python), tables, JSON, separators and short "Key: value" fields never count, since they repeat lines
 * legitimately. Lines are compared case-folded, ignoring white space, with digits folded to `0`.
 *
 * Suspicious when one prose line occurs 6 times among the last 24 non-blank lines. A poem's refrain or a song's
 * chorus comes back every 4–8 lines (3–4 times in 24); six returns at a density of one in four is a loop. Never
 * `"loop"`, since refrains and repeated log lines exist: the validator decides.
 *
 * @module
 */

import { CODE, LETTER, normalizeUnit, SPACE } from "./char_class.ts";
import type { RepetitionFinding } from "./loop_verdict.ts";
import { hashStep } from "./rolling_hash.ts";

const WINDOW = 24;
const TRIGGER = 6;
const MIN_CHARS = 24;
const MIN_WORDS = 5;
const NEWLINE = 10;
const TAB = 9;
/** Stands for a line that is not prose in the ring (hashes are 32-bit integers, this is not). */
const NOT_PROSE = 2 ** 32;

/** Counts repeated prose lines over a sliding window of lines. */
export class LineTracker {
  #hash = 0;
  #chars = 0;
  #letters = 0;
  #code = 0;
  #words = 0;
  #inWord = false;
  #start = -1;
  #indent = 0;
  #hashes = new Float64Array(WINDOW);
  #starts = new Float64Array(WINDOW);
  #lineCount = 0;
  #counts = new Map<number, number>();

  /** Processes one code unit at `position` with its classes; returns a finding or `null`. */
  step(position: number, unit: number, classes: number, allowSuspicious: boolean): RepetitionFinding | null {
    if (unit === NEWLINE) return this.finish(allowSuspicious);
    if (classes & SPACE) {
      // Leading white space: a tab counts as a full indent.
      if (this.#start < 0) this.#indent += unit === TAB ? 4 : 1;
      this.#inWord = false;
      return null;
    }
    if (!this.#inWord) this.#words++;
    this.#inWord = true;
    if (this.#start < 0) this.#start = position;
    this.#hash = hashStep(this.#hash, normalizeUnit(unit, true));
    this.#chars++;
    if (classes & LETTER) this.#letters++;
    if (classes & CODE) this.#code++;
    return null;
  }

  /** Ends the current line (at a newline or at end of text). */
  finish(allowSuspicious: boolean): RepetitionFinding | null {
    const prose = this.#chars >= MIN_CHARS && this.#words >= MIN_WORDS && this.#code === 0 && this.#indent < 4 &&
      this.#letters * 10 >= this.#chars * 7;
    const hash = prose ? this.#hash : NOT_PROSE;
    const start = this.#start;
    const blank = this.#chars === 0;
    this.#hash = 0;
    this.#chars = 0;
    this.#letters = 0;
    this.#code = 0;
    this.#words = 0;
    this.#inWord = false;
    this.#start = -1;
    this.#indent = 0;
    return blank ? null : this.#addLine(hash, start, allowSuspicious);
  }

  #addLine(hash: number, start: number, allowSuspicious: boolean): RepetitionFinding | null {
    const slot = this.#lineCount % WINDOW;
    const old = this.#hashes[slot];
    if (this.#lineCount >= WINDOW && old !== NOT_PROSE) {
      const left = (this.#counts.get(old) ?? 1) - 1;
      if (left > 0) this.#counts.set(old, left);
      else this.#counts.delete(old);
    }
    this.#hashes[slot] = hash;
    this.#starts[slot] = start;
    this.#lineCount++;
    if (hash === NOT_PROSE) return null;
    const count = (this.#counts.get(hash) ?? 0) + 1;
    this.#counts.set(hash, count);
    if (!allowSuspicious || count < TRIGGER) return null;
    const occurrences: number[] = [];
    for (let i = Math.max(0, this.#lineCount - WINDOW); i < this.#lineCount; i++) {
      if (this.#hashes[i % WINDOW] === hash) occurrences.push(this.#starts[i % WINDOW]);
    }
    const last = occurrences.length - 1;
    return {
      level: "suspicious",
      reason: "repeated-line",
      period: occurrences[last] - occurrences[last - 1],
      repeats: count,
      start: occurrences[1],
    };
  }
}
