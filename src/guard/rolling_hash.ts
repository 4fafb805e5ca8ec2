/**
 * Polynomial hashing modulo 2^32 with `Math.imul`, cheap enough to run on every code unit.
 *
 * Hashes only nominate: the periodic tracker verifies every nominated period against the characters, and the word
 * and line trackers tolerate a rare false match (it can only add one repeat to a count), so a 32-bit hash with an
 * odd multiplier is enough for text and much faster than an exact big-prime modulus.
 *
 * @module
 */

/** The multiplier (the 32-bit FNV prime; odd, so every power is invertible and no bit is lost). */
export const HASH_BASE = 0x01000193;

/**
 * Appends the integer `value` to the hash `hash`.
 *
 * @example Hash a short string
 * ```ts
 * import { hashStep } from "./rolling_hash.ts";
 * let h = 0;
 * for (const c of "abc") h = hashStep(h, c.charCodeAt(0));
 * ```
 */
export function hashStep(hash: number, value: number): number {
  return (Math.imul(hash, HASH_BASE) + value) | 0;
}

/** `HASH_BASE ** exponent` modulo 2^32, as a signed 32-bit integer. */
export function hashPower(exponent: number): number {
  let result = 1;
  for (let i = 0; i < exponent; i++) result = Math.imul(result, HASH_BASE);
  return result;
}

/**
 * Removes the contribution of `value`, which entered the hash `steps` steps ago, given `weight = hashPower(steps)`,
 * so that a fixed-width window can slide.
 */
export function hashDrop(hash: number, value: number, weight: number): number {
  return (hash - Math.imul(value, weight)) | 0;
}
