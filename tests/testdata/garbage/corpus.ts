/**
 * The garbage-detection fixture corpus (see README.md beside this file): loading, and replaying a fixture through
 * a {@link LoopDetector} the way the proxy would, in chunks. Shared by the tests and `bench/garbage_report.ts`.
 *
 * @module
 */

import { LoopDetector, type LoopDetectorOptions } from "../../../src/guard/loop_detector.ts";
import type { LoopLevel, LoopVerdict } from "../../../src/guard/loop_verdict.ts";

/** Marks, inside a loop fixture, where the repetition begins; removed before feeding. */
export const LOOP_MARKER = "⟦LOOP⟧";

/** A fixture that contains a genuine loop. */
export interface LoopFixture {
  /** File name. */
  name: string;
  /** The text to feed, marker removed. */
  text: string;
  /** Offset (UTF-16 code units) of the first repeated copy. */
  loopStart: number;
  /** The weakest verdict level accepted as "caught". */
  expect: LoopLevel;
  /** Length of the looping unit (for slow loops, of one round), in code units. */
  unit: number;
}

/** A fixture that repeats only legitimately. */
export interface HealthyFixture {
  /** File name. */
  name: string;
  /** The text to feed. */
  text: string;
}

const HEADER = /^#! expect: (loop|suspicious); unit: (\d+)\n/;

/** Parses a loop fixture file's content. */
export function parseLoopFixture(name: string, raw: string): LoopFixture {
  const header = HEADER.exec(raw);
  if (header === null) throw new SyntaxError(`Cannot parse loop fixture ${name}: missing "#! expect" header`);
  const body = raw.slice(header[0].length);
  const loopStart = body.indexOf(LOOP_MARKER);
  if (loopStart < 0 || body.indexOf(LOOP_MARKER, loopStart + 1) >= 0) {
    throw new SyntaxError(`Cannot parse loop fixture ${name}: it needs exactly one ${LOOP_MARKER} marker`);
  }
  return {
    name,
    text: body.replace(LOOP_MARKER, ""),
    loopStart,
    expect: header[1] === "loop" ? "loop" : "suspicious",
    unit: Number(header[2]),
  };
}

/** Loads every `loops/*.txt` fixture, sorted by name. */
export async function loadLoopFixtures(): Promise<LoopFixture[]> {
  const files = await readFolder("loops");
  return files.map(([name, raw]) => parseLoopFixture(name, raw));
}

/** Loads every `healthy/*.txt` fixture, sorted by name. */
export async function loadHealthyFixtures(): Promise<HealthyFixture[]> {
  const files = await readFolder("healthy");
  return files.map(([name, text]) => ({ name, text }));
}

/**
 * Loads every `tool_arguments/*.txt` fixture, sorted by name: the arguments JSON of one tool call (a `Write` of a
 * file that repeats legitimately), judged with the detector's `data` rules.
 */
export async function loadToolArgumentFixtures(): Promise<HealthyFixture[]> {
  const files = await readFolder("tool_arguments");
  return files.map(([name, text]) => ({ name, text: text.trimEnd() }));
}

async function readFolder(folder: string): Promise<[string, string][]> {
  const dir = new URL(`./${folder}/`, import.meta.url);
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".txt")) names.push(entry.name);
  }
  names.sort();
  return await Promise.all(names.map(async (name) => [name, await Deno.readTextFile(new URL(name, dir))]));
}

/** What happened when a text was replayed. */
export interface ReplayResult {
  /** Every verdict raised, in order (a suspicion is never dismissed, so at most one suspicion then one loop). */
  verdicts: LoopVerdict[];
  /** `releasableLength()` right after the first verdict, or at the end when there was none. */
  releasedAtFirst: number;
  /** `releasableLength()` right after the `"loop"` verdict, or `null` without one. */
  releasedAtLoop: number | null;
}

/**
 * Feeds `text` to a new detector in chunks whose sizes come from `nextChunkSize`, as a stream would, until a
 * `"loop"` verdict or the end (then `finish()`). Suspicions are left pending, as while a validator is asked.
 */
export function replay(text: string, nextChunkSize: () => number, options?: LoopDetectorOptions): ReplayResult {
  const detector = new LoopDetector(options);
  const verdicts: LoopVerdict[] = [];
  let releasedAtFirst: number | null = null;
  let releasedAtLoop: number | null = null;
  const record = (verdict: LoopVerdict | null) => {
    if (verdict === null) return;
    verdicts.push(verdict);
    releasedAtFirst ??= detector.releasableLength();
    if (verdict.level === "loop") releasedAtLoop = detector.releasableLength();
  };
  for (let offset = 0; offset < text.length && releasedAtLoop === null;) {
    const size = Math.max(1, nextChunkSize());
    record(detector.push(text.slice(offset, offset + size)));
    offset += size;
  }
  if (releasedAtLoop === null) record(detector.finish());
  return { verdicts, releasedAtFirst: releasedAtFirst ?? detector.releasableLength(), releasedAtLoop };
}

/** A deterministic chunk-size source (mulberry32), sizes from 1 to `max`. */
export function seededChunkSizes(seed: number, max: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const random = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return 1 + Math.floor(random * max);
  };
}
