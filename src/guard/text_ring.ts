/**
 * A bounded ring of the most recent UTF-16 code units, with running counts of character classes.
 *
 * Positions are absolute (0 = first code unit ever pushed). Only the last `capacity` positions can be read; the
 * class counts make "how many letters between a and b" an O(1) question, which keeps the loop detector's per
 * character cost constant whatever the period it inspects.
 *
 * @module
 */

import { CODE, DIGIT, LETTER, SPACE, WIDE } from "./char_class.ts";

/** Class counts are kept modulo 2^16. */
const COUNT_MASK = 0xffff;
/** Largest capacity: spans must stay below the count modulus. */
const MAX_CAPACITY = 32_768;

/** Bounded text history used by the loop detector. */
export class TextRing {
  /** How many of the latest positions can be read (a power of two). */
  readonly capacity: number;
  #mask: number;
  #units: Uint16Array;
  // Running class counts *before* each position, modulo 2^16, so `count(a, b) = before[b] - before[a]`. The
  // modulus is safe because a readable span is never longer than the capacity, which stays below 2^16.
  #lettersBefore: Uint16Array;
  #digitsBefore: Uint16Array;
  #codeBefore: Uint16Array;
  #breaksBefore: Uint16Array;
  #letters = 0;
  #digits = 0;
  #code = 0;
  #breaks = 0;
  #length = 0;

  /** Creates a ring that can read back at least `minCapacity` positions. */
  constructor(minCapacity: number) {
    if (!Number.isInteger(minCapacity) || minCapacity < 1 || minCapacity > MAX_CAPACITY) {
      throw new RangeError(
        `Cannot create a text ring: capacity must be an integer from 1 to ${MAX_CAPACITY}: received ${minCapacity}`,
      );
    }
    let capacity = 1;
    while (capacity < minCapacity) capacity *= 2;
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#units = new Uint16Array(capacity);
    this.#lettersBefore = new Uint16Array(capacity);
    this.#digitsBefore = new Uint16Array(capacity);
    this.#codeBefore = new Uint16Array(capacity);
    this.#breaksBefore = new Uint16Array(capacity);
  }

  /** Number of code units ever pushed; the next position. */
  get length(): number {
    return this.#length;
  }

  /** The oldest position still readable. */
  get oldest(): number {
    return Math.max(0, this.#length - this.capacity);
  }

  /** Appends one code unit with its {@link classify} bits. */
  push(unit: number, classes: number): void {
    const slot = this.#length & this.#mask;
    this.#units[slot] = unit;
    this.#lettersBefore[slot] = this.#letters;
    this.#digitsBefore[slot] = this.#digits;
    this.#codeBefore[slot] = this.#code;
    this.#breaksBefore[slot] = this.#breaks;
    if (classes & LETTER) this.#letters = (this.#letters + 1) & COUNT_MASK;
    if (classes & DIGIT) this.#digits = (this.#digits + 1) & COUNT_MASK;
    if (classes & CODE) this.#code = (this.#code + 1) & COUNT_MASK;
    if (classes & (SPACE | WIDE)) this.#breaks = (this.#breaks + 1) & COUNT_MASK;
    this.#length++;
  }

  /** The code unit at absolute position `position` (must be readable). */
  at(position: number): number {
    return this.#units[position & this.#mask];
  }

  /** Whether `position` is pushed and still readable. */
  has(position: number): boolean {
    return position >= this.oldest && position < this.#length;
  }

  /** Letters in `[start, end)`; both ends must be readable or `end` may equal {@link length}. */
  letters(start: number, end: number): number {
    return this.#between(this.#lettersBefore, this.#letters, start, end);
  }

  /** ASCII digits in `[start, end)`. */
  digits(start: number, end: number): number {
    return this.#between(this.#digitsBefore, this.#digits, start, end);
  }

  /** Code punctuation ({@link CODE}) in `[start, end)`. */
  code(start: number, end: number): number {
    return this.#between(this.#codeBefore, this.#code, start, end);
  }

  /** Word breaks in `[start, end)`: white space, and Han, Hiragana and Katakana letters (words of their own). */
  breaks(start: number, end: number): number {
    return this.#between(this.#breaksBefore, this.#breaks, start, end);
  }

  /**
   * The text of `[start, end)`, clipped to what is still readable. Lone surrogates at the edges become U+FFFD, so
   * the result is always well-formed.
   */
  slice(start: number, end: number): string {
    const from = Math.max(start, this.oldest);
    const to = Math.min(end, this.#length);
    const parts: string[] = [];
    for (let position = from; position < to; position += 4096) {
      const stop = Math.min(to, position + 4096);
      const units: number[] = [];
      for (let p = position; p < stop; p++) units.push(this.#units[p & this.#mask]);
      parts.push(String.fromCharCode(...units));
    }
    return parts.join("").toWellFormed();
  }

  /**
   * Moves `position` back by one when it would split a surrogate pair, so text cut there stays well-formed.
   * Positions older than the ring are returned unchanged.
   */
  boundary(position: number): number {
    if (position <= 0 || !this.has(position - 1)) return position;
    const unit = this.at(position - 1);
    return unit >= 0xd800 && unit <= 0xdbff ? position - 1 : position;
  }

  #between(before: Uint16Array, running: number, start: number, end: number): number {
    const high = end >= this.#length ? running : before[end & this.#mask];
    const low = start >= this.#length ? running : before[start & this.#mask];
    return (high - low) & COUNT_MASK;
  }
}
