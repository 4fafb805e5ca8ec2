/**
 * The error the stream grammar checkers throw: an `AssertionError` that names the offending event.
 *
 * @module
 */

import { AssertionError } from "node:assert";

/** Where in a stream a checker is: the event's position and a label for it (its type, or `[DONE]`). */
export interface EventPosition {
  /** Zero-based position of the event in the stream; `-1` for the end of the stream. */
  index: number;
  /** What the event is, e.g. `content_block_delta`. */
  label: string;
}

/**
 * Builds the assertion error for a grammar violation, e.g.
 * `Invalid Anthropic stream at event 3 (content_block_delta): delta for block 1 but block 0 is open`.
 */
export function grammarFailure(protocol: string, at: EventPosition, problem: string): AssertionError {
  const where = at.index < 0 ? "the end" : `event ${at.index} (${at.label})`;
  return new AssertionError({ message: `Invalid ${protocol} stream at ${where}: ${problem}` });
}
