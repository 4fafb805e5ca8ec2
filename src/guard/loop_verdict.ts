/**
 * What the loop detector reports.
 *
 * @module
 */

/**
 * How sure the detector is.
 *
 * - `"loop"`: unmistakable (e.g. the same sentence four times in a row); act at once, no validator needed.
 * - `"suspicious"`: doubtful; ask the validator LLM before acting.
 */
export type LoopLevel = "loop" | "suspicious";

/**
 * Which evidence raised the verdict.
 *
 * - `"periodic-tail"`: the text ends with the same unit repeated verbatim (word, phrase, line, paragraph).
 * - `"periodic-skeleton"`: the text ends with a repeated unit whose numbers change ("Step 1: …", "Step 2: …").
 * - `"repeated-line"`: one prose line keeps coming back among other lines.
 * - `"repeated-ngrams"`: most recent word 4-grams already occurred shortly before (a loop with small variations).
 */
export type LoopReason = "periodic-tail" | "periodic-skeleton" | "repeated-line" | "repeated-ngrams";

/** A repetition found in one text channel. Offsets count UTF-16 code units of the pushed text. */
export interface LoopVerdict {
  /** How sure the detector is. */
  readonly level: LoopLevel;
  /** Which evidence raised the verdict. */
  readonly reason: LoopReason;
  /**
   * Length of the repeating unit in code units. For `"repeated-line"` and `"repeated-ngrams"` it is the distance
   * between the last two occurrences.
   */
  readonly period: number;
  /**
   * How often the unit occurs, the first occurrence included. For `"repeated-ngrams"` it is the number of word
   * 4-grams in the recent window that repeat an earlier one.
   */
  readonly repeats: number;
  /**
   * Where the repetition began: the offset of the first *repeated* copy. The text before it holds one copy of the
   * unit and is safe to keep; cutting here removes every repeat.
   */
  readonly start: number;
  /** How much text had been pushed when the verdict was raised. */
  readonly detectedAt: number;
  /** The end of the text at detection time, at most `excerptChars` long, for logs and the validator. */
  readonly excerpt: string;
}

/** A tracker's finding, before the detector adds the excerpt and the detection offset. */
export type RepetitionFinding = Omit<LoopVerdict, "detectedAt" | "excerpt">;
