/**
 * A deterministic streaming loop detector for one text channel (content, reasoning or tool arguments).
 *
 * Text is pushed as it streams; each code unit costs O(1) amortised work and memory is fixed (about 180 KB per
 * instance with the default `maxPeriod`: typed arrays sized to the last 8,192 code units) whatever the length of
 * the text. Three trackers look at every unit:
 *
 * 1. {@link PeriodicTracker}: the text ends with one unit repeated back to back (a word, a phrase, a line, a
 *    paragraph of up to `maxPeriod` units), verbatim (`"periodic-tail"`, may be `"loop"`) or with changing numbers
 *    (`"periodic-skeleton"`, suspicious only).
 * 2. {@link NgramTracker}: most recent prose word 4-grams already occurred shortly before (`"repeated-ngrams"`,
 *    suspicious only): loops with small variations.
 * 3. {@link LineTracker}: one prose line keeps coming back among other lines (`"repeated-line"`, suspicious only).
 *
 * Thresholds and their reasons are documented in each tracker's module. Code, markdown tables, JSON, numbered
 * lists, refrains and `-----` rules stay below them.
 *
 * Release control: {@link LoopDetector.releasableLength} says how much of the pushed text may go to the client.
 * It trails the text by `holdBackChars` and also stops at any repetition in progress (a periodic candidate that
 * already repeated `clamp(period, 32, 256)` units, or a burst of repeated 4-grams), so when a loop is confirmed at
 * most a few repeats of a short looping sentence were released. While a suspicion waits for the validator nothing
 * past its start is released; {@link LoopDetector.dismiss} resumes.
 *
 * @example Detect a sentence loop
 * ```ts
 * import { LoopDetector } from "./loop_detector.ts";
 * const detector = new LoopDetector();
 * detector.push("Here is the plan. ");
 * let verdict = null;
 * for (let i = 0; i < 10 && verdict === null; i++) verdict = detector.push("I will now check the file again. ");
 * verdict?.level; // "loop"
 * detector.releasableLength() <= verdict!.start + 33; // true: at most one repeat was released
 * ```
 *
 * @module
 */

import { classify } from "./char_class.ts";
import { LineTracker } from "./line_tracker.ts";
import type { LoopVerdict, RepetitionFinding } from "./loop_verdict.ts";
import { NgramTracker } from "./ngram_tracker.ts";
import { periodicHistory, PeriodicTracker } from "./periodic_tracker.ts";
import { TextRing } from "./text_ring.ts";

/** Options of {@link LoopDetector}. */
export interface LoopDetectorOptions {
  /**
   * Code units always withheld behind the end of the text. 256 is the longest repeat a periodic candidate needs
   * before it holds text itself, so with at least 256 no repeat of a verbatim loop is released before its verdict.
   * Larger values add latency for the client (256 units are about 60 tokens) and protect more against the
   * suspicion-only trackers.
   * @default 256
   */
  holdBackChars?: number;
  /**
   * The longest repeating unit detected, in code units (paragraph loops of a few thousand characters).
   * @default 4096
   */
  maxPeriod?: number;
  /**
   * The longest {@link LoopVerdict.excerpt}.
   * @default 400
   */
  excerptChars?: number;
  /**
   * The text is data, not prose (tool arguments: file contents, JSON): only a verbatim periodic tail of 32,768
   * repeated units (`DATA_LOOP_UNITS` in `periodic_tracker.ts`) is a loop; the prose trackers are off and nothing is
   * suspicious. Repetition in progress is still held back.
   * @default false
   */
  data?: boolean;
}

/** First mute after a dismissed suspicion, in code units; doubles with each dismissal. */
const FIRST_COOLDOWN = 2048;
const MAX_PERIOD_LIMIT = 16_384;

/** Watches one text channel for repetition loops. See the module documentation. */
export class LoopDetector {
  #ring: TextRing;
  #periodic: PeriodicTracker;
  /** The prose trackers; none for data. */
  #prose: { ngrams: NgramTracker; lines: LineTracker } | undefined;
  #holdBack: number;
  #excerptChars: number;
  #released = 0;
  #verdict: LoopVerdict | null = null;
  #finished = false;
  #mutedUntil = 0;
  #cooldown = FIRST_COOLDOWN;

  /** Creates a detector; see {@link LoopDetectorOptions}. */
  constructor(options: LoopDetectorOptions = {}) {
    const { holdBackChars = 256, maxPeriod = 4096, excerptChars = 400, data = false } = options;
    requireInteger("holdBackChars", holdBackChars, 0, Number.MAX_SAFE_INTEGER);
    requireInteger("maxPeriod", maxPeriod, 1, MAX_PERIOD_LIMIT);
    requireInteger("excerptChars", excerptChars, 0, Number.MAX_SAFE_INTEGER);
    this.#holdBack = holdBackChars;
    this.#excerptChars = excerptChars;
    this.#ring = new TextRing(Math.max(periodicHistory(maxPeriod), excerptChars));
    this.#periodic = new PeriodicTracker(this.#ring, maxPeriod, data);
    this.#prose = data ? undefined : { ngrams: new NgramTracker(), lines: new LineTracker() };
  }

  /** Code units analysed so far (text pushed after a `"loop"` verdict is ignored and not counted). */
  get length(): number {
    return this.#ring.length;
  }

  /** The `"loop"` verdict, or the suspicion waiting for {@link dismiss}, or `null`. */
  get verdict(): LoopVerdict | null {
    return this.#verdict;
  }

  /**
   * Analyses the next piece of text. Returns the verdict this piece raised, or `null`: a suspicion is raised once
   * and then waits for {@link dismiss} (meanwhile only a `"loop"` can be raised); when one piece raises both, the
   * loop is returned; after a `"loop"` the detector stops and ignores further text.
   *
   * @throws {Error} when called after {@link finish}
   */
  push(delta: string): LoopVerdict | null {
    if (this.#finished) throw new Error("Cannot push text after finish()");
    if (this.#verdict?.level === "loop") return null;
    let raised: LoopVerdict | null = null;
    for (let i = 0; i < delta.length; i++) {
      const unit = delta.charCodeAt(i);
      const classes = classify(unit);
      const position = this.#ring.length;
      this.#ring.push(unit, classes);
      const allow = this.#suspicionAllowed(position);
      const prose = this.#prose;
      const found = strongest(
        this.#periodic.step(position, allow),
        prose
          ? strongest(
            prose.ngrams.step(position, unit, classes, allow),
            prose.lines.step(position, unit, classes, allow),
          )
          : null,
      );
      if (found === null) continue;
      raised = this.#raise(found);
      if (raised.level === "loop") break;
    }
    this.#updateRelease();
    return raised;
  }

  /**
   * Marks the end of the text: the last word and line are assessed, and when no verdict is pending everything
   * becomes releasable. Returns a verdict raised by that last assessment, or `null`.
   */
  finish(): LoopVerdict | null {
    if (this.#finished) return null;
    this.#finished = true;
    let raised: LoopVerdict | null = null;
    const prose = this.#prose;
    if (this.#verdict?.level !== "loop" && prose) {
      const allow = this.#suspicionAllowed(this.#ring.length);
      const found = strongest(prose.ngrams.finish(allow), prose.lines.finish(allow));
      if (found !== null) raised = this.#raise(found);
    }
    this.#updateRelease();
    return raised;
  }

  /**
   * Records that the validator judged the pending suspicion "not a loop": release resumes, the repetitions seen so
   * far no longer hold text or raise suspicion (they can still become a `"loop"` at twice the usual threshold), and
   * new suspicions are muted for 2,048 code units, doubling with each dismissal. Does nothing unless a suspicion
   * is pending.
   */
  dismiss(): void {
    if (this.#verdict?.level !== "suspicious") return;
    this.#verdict = null;
    this.#mutedUntil = this.#ring.length + this.#cooldown;
    this.#cooldown *= 2;
    this.#periodic.clear();
    this.#updateRelease();
  }

  /**
   * How many code units from the start of the text may be sent to the client now. Never decreases and never ends
   * inside a surrogate pair. After a `"loop"` verdict it is at least `verdict.start`: the text before the
   * repetition is kept, the repeats are not.
   */
  releasableLength(): number {
    return this.#released;
  }

  #suspicionAllowed(position: number): boolean {
    return this.#verdict === null && position >= this.#mutedUntil;
  }

  #raise(found: RepetitionFinding): LoopVerdict {
    const end = this.#ring.length;
    const from = Math.max(found.start - found.period, end - this.#excerptChars);
    const verdict: LoopVerdict = {
      ...found,
      start: this.#ring.boundary(found.start),
      detectedAt: end,
      excerpt: this.#ring.slice(from, end),
    };
    this.#verdict = verdict;
    if (verdict.level === "loop") this.#released = Math.max(this.#released, verdict.start);
    return verdict;
  }

  #updateRelease(): void {
    const verdict = this.#verdict;
    if (verdict?.level === "loop") return;
    const length = this.#ring.length;
    let limit = this.#finished && verdict === null ? length : length - this.#holdBack;
    if (verdict !== null) {
      limit = Math.min(limit, verdict.start);
    } else if (!this.#finished && length >= this.#mutedUntil) {
      limit = Math.min(limit, this.#periodic.holdPoint(), this.#prose?.ngrams.holdPoint() ?? Infinity);
    }
    if (limit > this.#released) this.#released = this.#ring.boundary(limit);
  }
}

/** Picks the stronger of two findings: a loop beats a suspicion, the first argument wins ties. */
function strongest(a: RepetitionFinding | null, b: RepetitionFinding | null): RepetitionFinding | null {
  if (a === null) return b;
  if (b === null || a.level === "loop" || b.level !== "loop") return a;
  return b;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create a loop detector: ${name} must be an integer from ${min} to ${max}: received ${value}`,
    );
  }
}
