/**
 * Finds periodic tails: the text ends with one unit repeated back to back, verbatim or with changing numbers.
 *
 * How it stays O(1) per code unit:
 * 1. A rolling hash of the last 16 normalised units (digits folded to `0`) is looked up in a direct-mapped table
 *    (one slot per hash bucket, as many slots as the ring holds) of where that hash last ended. A hit at distance
 *    `d` nominates `d` as a period. In a loop the nearest earlier occurrence of a 16-unit window is exactly one
 *    period back, so the true period is nominated within a few units of the first repeat. A slot overwritten by
 *    another hash only delays a nomination to the next unit; memory stays fixed.
 * 2. At most 8 candidate periods are followed. Each new unit is compared with the unit one period back: a match
 *    extends the candidate's run, a mismatch drops it. A candidate is verified backwards (up to 512 units) when it
 *    is nominated, so hash collisions never survive and the run starts where the repetition really began.
 * 3. Each candidate keeps two runs: `run` compares normalised units (digits equal), `exactRun` compares the raw
 *    ones. `run − exactRun > 0` means only numbers differ: a counter loop ("Step 1 …", "Step 2 …").
 *
 * Thresholds count the repeated code units after the first copy (p = period). The unit is classed by its content:
 * "symbolic" when under a quarter of it is letters (rules, tables of zeros, emoji); "text" when it also has under
 * 5 % code punctuation (`{}[]()<>=;|\`"\\$_/#@`) and at least 8 % word breaks (white space, or CJK characters,
 * which are words of their own); "code" otherwise (`MachineState.ERROR,`, JSON, markup).
 *
 * | unit class | period | loop                          | suspicious           |
 * | ---------- | ------ | ----------------------------- | -------------------- |
 * | text       | p < 40 | max(8p, min(16p, 256), 128)   | max(4p, 64)          |
 * | text       | p ≥ 40 | min(3p, p + 300)              | min(2p, max(p, 240)) |
 * | code       | p < 40 | max(12p, min(24p, 384), 240)  | max(6p, 120)         |
 * | code       | p ≥ 40 | max(5p, 480)                  | max(2p, 160)         |
 * | symbolic   | p < 40 | max(15p, 768)                 | max(8p, 384)         |
 * | symbolic   | p ≥ 40 | max(3p, 768)                  | max(2p, 384)         |
 *
 * Why: words and short phrases repeat legitimately ("very, very, very", `None, None, None` in a table row,
 * `MachineState.START,` eight times in a state table), so a short unit needs 16 copies, or 256 repeated units when
 * that comes first, and never fewer than 8 copies; a suspicion comes at 5 copies. Four copies of a sentence in a
 * row do not happen in healthy prose; for paragraphs two full copies plus 300 units of a third are unmistakable.
 * Code repeats lines on purpose (a recursive stack trace, closing tags, identical test lines), and units without
 * letters (zero matrices, `-----` rules, `| --- |` rows) even more, so they get higher floors. A suspicion always
 * comes well before the loop threshold, so the validator can confirm earlier.
 *
 * Two more suspicions:
 * - Prose copied verbatim from one period back for 1,200 units (about 200 words) is worth a validator call before
 *   the second copy of a long paragraph ends. Prose means ≥ 50 % letters, ≥ 10 % word breaks, < 5 % code
 *   punctuation, ≤ 15 % digits: copied code (a rewritten function) does not count.
 * - Counter loops (`run` only) need a prose unit of at least 20 units repeated `max(3p, 240)` units. They are
 *   never more than suspicious, because numbered lists of one shape are common and the validator should judge.
 *
 * A candidate already judged "not a loop" ({@link PeriodicTracker.clear}) needs twice the loop threshold, and no
 * longer raises suspicion or holds text back.
 *
 * **Data** (tool arguments: file contents, JSON): files repeat on purpose (a 400-zero array initializer, 60 identical
 * fixture objects, placeholder lines, an empty table), so for data the table above does not apply. Only a verbatim
 * tail of {@link DATA_LOOP_UNITS} repeated units is a loop, and nothing is suspicious. A candidate still holds text
 * back while it repeats, so a runaway is cut before any of its repeats is released, and a legitimate repetitive file
 * goes out when its repetition ends.
 *
 * @module
 */

import { normalizeUnit } from "./char_class.ts";
import type { LoopLevel, LoopReason, RepetitionFinding } from "./loop_verdict.ts";
import { hashDrop, hashPower, hashStep } from "./rolling_hash.ts";
import type { TextRing } from "./text_ring.ts";

/** Length of the hashed window that nominates periods. Shorter nominates noise; longer reacts later. */
const WINDOW = 16;
/** How far a nominated period is verified backwards. */
const VERIFY_LIMIT = 512;
/** How many candidate periods are followed at once. */
const MAX_CANDIDATES = 8;
/** Periods below this are "word" units. */
const SHORT_UNIT = 40;
/** Shortest unit for a counter (skeleton) loop. */
const SKELETON_MIN_PERIOD = 20;
/** Verbatim prose copied from one period back for this long is suspicious even before the second copy ends. */
const PROSE_COPY = 1200;

/**
 * Repeated code units after the first copy that make a loop in data (see the module documentation): 32 K characters
 * of one unit back to back, about 8,000 tokens. A 10,000-element zero array (30,000 characters) stays below it; a
 * file that is one unit repeated for longer is not something a coding agent writes, and a runaway tool call is cut
 * long before a typical `max_tokens` instead of at it.
 */
export const DATA_LOOP_UNITS = 32_768;

/** How much history the tracker needs in its {@link TextRing} for a given maximum period. */
export function periodicHistory(maxPeriod: number): number {
  return maxPeriod + VERIFY_LIMIT + WINDOW + 1;
}

interface Candidate {
  period: number;
  /** Consecutive normalised matches with the unit one period back, ending at the latest unit. */
  run: number;
  /** Consecutive raw matches, ending at the latest unit. */
  exactRun: number;
  /** Already judged not a loop: higher loop threshold, no suspicion, no hold. */
  cleared: boolean;
}

/** Follows candidate periods of the text in a {@link TextRing}. */
export class PeriodicTracker {
  #ring: TextRing;
  #maxPeriod: number;
  #slotHashes: Int32Array;
  #slotPositions: Float64Array;
  #mask: number;
  #hash = 0;
  #dropWeight = hashPower(WINDOW - 1);
  #candidates: Candidate[] = [];
  #data: boolean;

  /**
   * Tracks periods up to `maxPeriod` in `ring`, whose capacity must be at least {@link periodicHistory}; `data`
   * applies the data threshold ({@link DATA_LOOP_UNITS}) instead of the table.
   */
  constructor(ring: TextRing, maxPeriod: number, data = false) {
    if (ring.capacity < periodicHistory(maxPeriod)) {
      throw new RangeError(`Cannot track periods up to ${maxPeriod}: the ring is too small`);
    }
    this.#ring = ring;
    this.#maxPeriod = maxPeriod;
    this.#data = data;
    this.#slotHashes = new Int32Array(ring.capacity);
    this.#slotPositions = new Float64Array(ring.capacity).fill(-1);
    this.#mask = ring.capacity - 1;
  }

  /**
   * Processes the unit just pushed at `position` and returns the strongest finding (a loop beats a suspicion), or
   * `null`. Suspicions are only assessed when `allowSuspicious` is set.
   */
  step(position: number, allowSuspicious: boolean): RepetitionFinding | null {
    const ring = this.#ring;
    const unit = ring.at(position);
    const normalized = normalizeUnit(unit, false);
    const candidates = this.#candidates;
    let kept = 0;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i];
      const previous = ring.at(position - candidate.period);
      if (normalizeUnit(previous, false) !== normalized) continue;
      candidate.run++;
      candidate.exactRun = previous === unit ? candidate.exactRun + 1 : 0;
      candidates[kept++] = candidate;
    }
    if (kept < candidates.length) candidates.length = kept;
    this.#slideHash(position, normalized);
    let strongest: RepetitionFinding | null = null;
    for (let i = 0; i < candidates.length; i++) {
      const finding = this.#assess(candidates[i], position + 1, allowSuspicious);
      if (finding?.level === "loop") return finding;
      strongest ??= finding;
    }
    return strongest;
  }

  /**
   * The earliest offset that may be part of a repeat in progress, or `Infinity`. A candidate holds text back once
   * it has repeated `clamp(period, 32, 256)` units, so with a hold-back of at least 256 units the repeats of a loop
   * are never released before the verdict.
   */
  holdPoint(): number {
    const end = this.#ring.length;
    let point = Infinity;
    for (const candidate of this.#candidates) {
      if (candidate.cleared) continue;
      const hold = Math.min(Math.max(candidate.period, 32), 256);
      if (candidate.exactRun >= hold) {
        point = Math.min(point, end - candidate.exactRun);
      } else if (candidate.run >= hold && this.#isProse(Math.min(candidate.period, candidate.run), end)) {
        point = Math.min(point, end - candidate.run);
      }
    }
    return point;
  }

  /** Marks every current candidate as judged "not a loop" (see the module doc). */
  clear(): void {
    for (const candidate of this.#candidates) candidate.cleared = true;
  }

  #slideHash(position: number, normalized: number): void {
    if (position >= WINDOW) {
      this.#hash = hashDrop(this.#hash, normalizeUnit(this.#ring.at(position - WINDOW), false), this.#dropWeight);
    }
    this.#hash = hashStep(this.#hash, normalized);
    if (position < WINDOW - 1) return;
    // Mix the bits so that slots are spread even when the hash is small.
    const slot = (Math.imul(this.#hash, 0x9e3779b1) >>> 16) & this.#mask;
    const previous = this.#slotPositions[slot];
    if (previous >= 0 && this.#slotHashes[slot] === this.#hash) this.#nominate(position, position - previous);
    this.#slotHashes[slot] = this.#hash;
    this.#slotPositions[slot] = position;
  }

  #nominate(position: number, period: number): void {
    if (period > this.#maxPeriod || this.#candidates.some((c) => c.period === period)) return;
    const ring = this.#ring;
    const oldest = ring.oldest;
    let run = 0;
    let exactRun = 0;
    let exactOpen = true;
    while (run < VERIFY_LIMIT && position - run - period >= oldest) {
      const a = ring.at(position - run);
      const b = ring.at(position - run - period);
      if (normalizeUnit(a, false) !== normalizeUnit(b, false)) break;
      if (exactOpen && a === b) exactRun++;
      else exactOpen = false;
      run++;
    }
    // Shorter than the hashed window: a hash collision, not a repeat.
    if (run < WINDOW) return;
    const candidate: Candidate = { period, run, exactRun, cleared: false };
    if (this.#candidates.length < MAX_CANDIDATES) {
      this.#candidates.push(candidate);
      return;
    }
    let weakest = 0;
    for (let i = 1; i < this.#candidates.length; i++) {
      if (this.#candidates[i].run < this.#candidates[weakest].run) weakest = i;
    }
    if (this.#candidates[weakest].run < run) this.#candidates[weakest] = candidate;
  }

  #assess(candidate: Candidate, end: number, allowSuspicious: boolean): RepetitionFinding | null {
    const { period, exactRun, run } = candidate;
    const suspicionOpen = allowSuspicious && !candidate.cleared;
    const loopFactor = candidate.cleared ? 2 : 1;
    if (this.#data) {
      return exactRun >= loopFactor * DATA_LOOP_UNITS ? finding("loop", "periodic-tail", period, exactRun, end) : null;
    }
    // The text thresholds are the lowest, so they gate the O(1) but not free class counts.
    const floor = suspicionOpen
      ? Math.min(suspicionThreshold(period, "text"), PROSE_COPY)
      : loopFactor * loopThreshold(period, "text");
    if (exactRun >= floor) {
      const unitClass = this.#classOf(Math.min(period, exactRun), end);
      if (exactRun >= loopFactor * loopThreshold(period, unitClass)) {
        return finding("loop", "periodic-tail", period, exactRun, end);
      }
      if (
        suspicionOpen && (exactRun >= suspicionThreshold(period, unitClass) ||
          (exactRun >= PROSE_COPY && this.#isProse(PROSE_COPY, end)))
      ) {
        return finding("suspicious", "periodic-tail", period, exactRun, end);
      }
    }
    if (
      suspicionOpen && run > exactRun && period >= SKELETON_MIN_PERIOD && run >= Math.max(3 * period, 240) &&
      this.#isProse(Math.min(period, run), end)
    ) {
      return finding("suspicious", "periodic-skeleton", period, run, end);
    }
    return null;
  }

  #classOf(width: number, end: number): UnitClass {
    const ring = this.#ring;
    const start = end - width;
    if (ring.letters(start, end) * 4 < width) return "symbolic";
    return ring.code(start, end) * 20 < width && ring.breaks(start, end) * 100 >= width * 8 ? "text" : "code";
  }

  #isProse(width: number, end: number): boolean {
    const ring = this.#ring;
    const start = end - width;
    return ring.letters(start, end) * 2 >= width && ring.breaks(start, end) * 10 >= width &&
      ring.code(start, end) * 20 < width && ring.digits(start, end) * 100 <= width * 15;
  }
}

type UnitClass = "text" | "code" | "symbolic";

function loopThreshold(period: number, unitClass: UnitClass): number {
  if (period < SHORT_UNIT) {
    if (unitClass === "text") return Math.max(8 * period, Math.min(16 * period, 256), 128);
    if (unitClass === "code") return Math.max(12 * period, Math.min(24 * period, 384), 240);
    return Math.max(15 * period, 768);
  }
  if (unitClass === "text") return Math.min(3 * period, period + 300);
  return unitClass === "code" ? Math.max(5 * period, 480) : Math.max(3 * period, 768);
}

function suspicionThreshold(period: number, unitClass: UnitClass): number {
  if (period < SHORT_UNIT) {
    if (unitClass === "text") return Math.max(4 * period, 64);
    return unitClass === "code" ? Math.max(6 * period, 120) : Math.max(8 * period, 384);
  }
  if (unitClass === "text") return Math.min(2 * period, Math.max(period, 240));
  return unitClass === "code" ? Math.max(2 * period, 160) : Math.max(2 * period, 384);
}

function finding(level: LoopLevel, reason: LoopReason, period: number, run: number, end: number): RepetitionFinding {
  return { level, reason, period, repeats: Math.floor((run + period) / period), start: end - run };
}
