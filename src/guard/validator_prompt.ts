/**
 * What the validator model is asked, and how its answer is read.
 *
 * The prompt is one user message (some chat templates have no system role). It asks for a JSON verdict
 * `{"is_loop": boolean, "confidence": number, "issue": string}`; OpenAI-compatible servers also get the JSON schema
 * as `response_format`, others rely on {@link parseLoopAnswer}, which tolerates thinking blocks, code fences and
 * chatter around the object.
 *
 * @module
 */

/** The verdict as the validator model states it, before the confidence threshold is applied. */
export interface LoopAnswer {
  /** Whether the model calls the text a loop. */
  isLoop: boolean;
  /** The model's confidence, 0 to 1. */
  confidence: number;
  /** A few words on what repeats, or `null`. */
  issue: string | null;
}

/** JSON schema of the answer, for OpenAI `response_format: {type: "json_schema"}`. */
export const LOOP_ANSWER_SCHEMA: Readonly<Record<string, unknown>> = Object.freeze({
  type: "object",
  properties: {
    is_loop: { type: "boolean" },
    confidence: { type: "number", minimum: 0, maximum: 1 },
    issue: { type: "string" },
  },
  required: ["is_loop", "confidence", "issue"],
  additionalProperties: false,
});

/** Longest detector reason quoted in the prompt. */
const MAX_REASON_CHARS = 200;
/** How many `{` positions {@link parseLoopAnswer} tries. */
const MAX_ATTEMPTS = 32;

/**
 * Builds the user message for `excerpt`, the end of the text under review. `reason`, when given, tells the model
 * why the text was flagged, with a warning that the flag is often wrong (the model should judge the text, not
 * agree with the detector).
 *
 * @example Build a prompt
 * ```ts
 * import { buildLoopPrompt } from "./validator_prompt.ts";
 * const prompt = buildLoopPrompt("I will check. I will check. I will check.", { truncated: false });
 * prompt.includes("<text>"); // true
 * ```
 */
export function buildLoopPrompt(excerpt: string, options: { truncated: boolean; reason?: string }): string {
  const hint = options.reason
    ? `\nA cheap automatic detector flagged this text (${oneLine(options.reason)}). It is often wrong; decide from ` +
      "the text itself.\n"
    : "";
  const shown = options.truncated ? "Only the last part of the text is shown, so it may begin mid-sentence." : "";
  return [
    "You review the output of another AI model. Decide whether its end is stuck in a repetition loop.",
    "",
    "A loop means the text has stopped making progress: the same word, phrase, sentence, paragraph, code line or " +
    "tool call comes out again and again, verbatim or with trivial changes such as a growing number.",
    "",
    "Not a loop: lists, tables, code, data, logs or test output whose entries share a format but differ in " +
    "content; a refrain in a poem or song; a summary that restates earlier points once; reasoning that " +
    "reconsiders a point and then moves on.",
    "",
    `Judge only the end of the text. ${shown}`.trimEnd() + hint,
    "",
    'Answer with one JSON object and nothing else: {"is_loop": true or false, "confidence": a number from 0 to 1, ' +
    '"issue": "a few words on what repeats, or an empty string"}',
    "",
    "<text>",
    excerpt,
    "</text>",
    "",
    "Answer with the JSON object only.",
  ].join("\n");
}

/**
 * Reads the verdict out of a validator's reply text. Tolerates `<think>…</think>` blocks, code fences and prose
 * around the object: the first balanced JSON object (string-aware) with an `is_loop` field is used. An `is_valid`
 * field (the seed's format) is accepted as the inverse of `is_loop`. Confidence may be a number or a numeric
 * string; values from 1 to 100 are read as percentages.
 *
 * @throws {SyntaxError} when no usable verdict is found
 */
export function parseLoopAnswer(reply: string): LoopAnswer {
  const visible = reply.replace(/<think>[\s\S]*?<\/think>/gi, "").replace(/<think>[\s\S]*$/i, "");
  let sawObject = false;
  let attempts = 0;
  for (let start = visible.indexOf("{"); start >= 0; start = visible.indexOf("{", start + 1)) {
    // Each attempt scans to the end at worst; a bounded number keeps a reply full of braces cheap.
    if (++attempts > MAX_ATTEMPTS) break;
    const end = matchingBrace(visible, start);
    if (end < 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(visible.slice(start, end + 1));
    } catch {
      continue;
    }
    sawObject = true;
    const answer = toAnswer(value);
    if (answer !== null) return answer;
  }
  const excerpt = oneLine(reply).slice(0, 120);
  throw new SyntaxError(
    sawObject
      ? `Cannot read the validator verdict: no object with is_loop and confidence in "${excerpt}"`
      : `Cannot read the validator verdict: no JSON object in "${excerpt}"`,
  );
}

function toAnswer(value: unknown): LoopAnswer | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const isLoop = readBoolean(record.is_loop) ?? invert(readBoolean(record.is_valid));
  const confidence = readConfidence(record.confidence);
  if (isLoop === null || confidence === null) return null;
  const issue = typeof record.issue === "string" && record.issue.trim() !== ""
    ? record.issue.trim()
    : typeof record.issue_type === "string" && record.issue_type.trim() !== ""
    ? record.issue_type.trim()
    : null;
  return { isLoop, confidence, issue };
}

function readBoolean(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  return null;
}

function invert(value: boolean | null): boolean | null {
  return value === null ? null : !value;
}

function readConfidence(value: unknown): number | null {
  const number = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  if (!Number.isFinite(number) || number < 0 || number > 100) return null;
  return number > 1 ? number / 100 : number;
}

/** Index of the `}` closing the object opened at `start`, skipping braces inside strings, or -1. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === "{") {
      depth++;
    } else if (char === "}" && --depth === 0) {
      return i;
    }
  }
  return -1;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, MAX_REASON_CHARS);
}
