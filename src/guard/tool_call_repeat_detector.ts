/**
 * Catches an agent loop at the tool-call level: the same tool called with the same arguments again and again
 * within one response (e.g. `read_file {"path": "a.ts"}` emitted five times in parallel).
 *
 * @module
 */

/** A repeated tool call. Always unmistakable: identical calls in one response never add information. */
export interface ToolCallLoopVerdict {
  /** Always `"loop"`. */
  readonly level: "loop";
  /** Always `"repeated-tool-call"`. */
  readonly reason: "repeated-tool-call";
  /** The tool's name. */
  readonly name: string;
  /** How many identical calls were seen, this one included. */
  readonly repeats: number;
  /** Index (0-based, among the calls recorded) of the first repeat, where a cut should happen. */
  readonly firstRepeatIndex: number;
  /** The canonical arguments, at most 400 characters, for logs. */
  readonly excerpt: string;
}

/** Options of {@link ToolCallRepeatDetector}. */
export interface ToolCallRepeatDetectorOptions {
  /**
   * How many identical calls make a loop. Two identical calls can be a harmless retry by the model; three in one
   * response are a loop.
   * @default 3
   */
  maxIdentical?: number;
}

/** Distinct calls remembered per response; later new calls are not tracked (memory stays bounded). */
const MAX_DISTINCT = 1024;
const EXCERPT_CHARS = 400;

interface Seen {
  count: number;
  firstRepeatIndex: number;
}

/**
 * Counts identical tool calls in one response; create one per response.
 *
 * Arguments are compared after canonicalisation: JSON is parsed and re-serialised with sorted keys, so `{"a":1,
 * "b":2}` and `{ "b": 2, "a": 1 }` are the same call; arguments that are not valid JSON are compared as trimmed
 * text. Only a hash of each call is kept.
 *
 * @example Three identical calls
 * ```ts
 * import { ToolCallRepeatDetector } from "./tool_call_repeat_detector.ts";
 * const detector = new ToolCallRepeatDetector();
 * detector.record("read_file", '{"path":"a.ts"}'); // null
 * detector.record("read_file", '{ "path": "a.ts" }'); // null
 * detector.record("read_file", '{"path":"a.ts"}')?.repeats; // 3
 * ```
 */
export class ToolCallRepeatDetector {
  #maxIdentical: number;
  #seen = new Map<string, Seen>();
  #calls = 0;

  /** Creates a detector; see {@link ToolCallRepeatDetectorOptions}. */
  constructor(options: ToolCallRepeatDetectorOptions = {}) {
    const { maxIdentical = 3 } = options;
    if (!Number.isInteger(maxIdentical) || maxIdentical < 2) {
      const message = "Cannot create a tool call repeat detector: maxIdentical must be an integer of at least 2";
      throw new RangeError(`${message}: received ${maxIdentical}`);
    }
    this.#maxIdentical = maxIdentical;
  }

  /**
   * Records one complete tool call (`args` as streamed JSON text, or an already parsed value) and returns a
   * verdict when it is the `maxIdentical`-th identical call or later, else `null`.
   */
  record(name: string, args: unknown): ToolCallLoopVerdict | null {
    const index = this.#calls++;
    const canonical = canonicalArguments(args);
    const key = `${name}\u0000${fingerprint(canonical)}`;
    let seen = this.#seen.get(key);
    if (seen === undefined) {
      if (this.#seen.size >= MAX_DISTINCT) return null;
      seen = { count: 0, firstRepeatIndex: -1 };
      this.#seen.set(key, seen);
    }
    seen.count++;
    if (seen.count === 2) seen.firstRepeatIndex = index;
    if (seen.count < this.#maxIdentical) return null;
    return {
      level: "loop",
      reason: "repeated-tool-call",
      name,
      repeats: seen.count,
      firstRepeatIndex: seen.firstRepeatIndex,
      excerpt: canonical.slice(0, EXCERPT_CHARS).toWellFormed(),
    };
  }
}

function canonicalArguments(args: unknown): string {
  if (typeof args !== "string") return stableStringify(args);
  try {
    return stableStringify(JSON.parse(args));
  } catch {
    return args.trim();
  }
}

/** JSON with object keys sorted at every level. */
function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Two independent 32-bit FNV-1a style hashes plus the length: collisions are out of practical reach. */
function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995) ^ (b >>> 13);
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}.${text.length}`;
}
