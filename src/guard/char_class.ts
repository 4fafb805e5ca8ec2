/**
 * Cheap per-code-unit classification shared by the loop detector's trackers.
 *
 * The detector works on UTF-16 code units so that offsets match `String.prototype.length` and slicing on the
 * caller's side. Classes are bit flags so one call answers every question a tracker asks about a character.
 *
 * @module
 */

/** The code unit is a letter (any script; surrogates never count). */
export const LETTER = 1;
/** The code unit is an ASCII digit. */
export const DIGIT = 2;
/** The code unit is white space (ASCII or Unicode `\s`). */
export const SPACE = 4;
/**
 * The code unit is punctuation typical of code, markup, paths and JSON rather than prose:
 * `{}[]()<>=;|\`"\\$_/#@`. Units with these are held to stricter loop thresholds, and words and lines with them
 * are left out of the prose trackers.
 */
export const CODE = 8;
/**
 * The code unit is a Han, Hiragana or Katakana letter. Those scripts do not put spaces between words, so such a
 * character counts as a word break of its own where the trackers measure how "worded" a text is.
 */
export const WIDE = 16;

const ZERO = 48;
const NINE = 57;

/**
 * Classifies one UTF-16 code unit into a bit set of {@link LETTER}, {@link DIGIT}, {@link SPACE}, {@link CODE} and
 * {@link WIDE}.
 *
 * @example Classify a few characters
 * ```ts
 * import { classify, LETTER, SPACE } from "./char_class.ts";
 * classify("a".charCodeAt(0)) === LETTER; // true
 * classify(" ".charCodeAt(0)) === SPACE; // true
 * ```
 */
export function classify(unit: number): number {
  if (unit < 128) {
    if ((unit >= 97 && unit <= 122) || (unit >= 65 && unit <= 90)) return LETTER;
    if (unit >= ZERO && unit <= NINE) return DIGIT;
    if (unit === 32 || (unit >= 9 && unit <= 13)) return SPACE;
    return isCodePunctuation(unit) ? CODE : 0;
  }
  // Surrogate halves are not characters on their own; emoji and rare CJK end up as "other".
  if (unit >= 0xd800 && unit <= 0xdfff) return 0;
  const char = String.fromCharCode(unit);
  if (/\s/.test(char)) return SPACE;
  if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(char)) return LETTER | WIDE;
  return /\p{L}/u.test(char) ? LETTER : 0;
}

function isCodePunctuation(unit: number): boolean {
  switch (unit) {
    case 34: // "
    case 35: // #
    case 36: // $
    case 40: // (
    case 41: // )
    case 47: // /
    case 59: // ;
    case 60: // <
    case 61: // =
    case 62: // >
    case 64: // @
    case 91: // [
    case 92: // \
    case 93: // ]
    case 95: // _
    case 96: // `
    case 123: // {
    case 124: // |
    case 125: // }
      return true;
    default:
      return false;
  }
}

/**
 * Maps a code unit to the form the repetition trackers compare: ASCII digits become `0` so that counters
 * ("step 1", "step 2") look alike, ASCII capitals become lower case when `foldCase` is set.
 */
export function normalizeUnit(unit: number, foldCase: boolean): number {
  if (unit >= ZERO && unit <= NINE) return ZERO;
  if (foldCase && unit >= 65 && unit <= 90) return unit + 32;
  return unit;
}
