/**
 * Turns a {@linkcode Scenario} into a protocol-neutral reply plan (reasoning, content and tool argument pieces,
 * stop kind, usage) that the OpenAI and Anthropic encoders of the mock upstream render.
 *
 * @module
 */

import { isRecord } from "./json_guards.ts";
import type { Scenario } from "./mock_scenario.ts";

/** The reply text when a scenario gives no content at all. */
export const DEFAULT_REPLY_TEXT = "Hello from the mock upstream.";

/** The model name when the request names none. */
export const DEFAULT_MODEL = "mock-model";

/** A tool call ready to encode. */
export interface PlannedToolCall {
  /** The scenario's id: `undefined` means "make one", `null` means "send none". */
  id: string | null | undefined;
  /** Function name. */
  name: string;
  /** Argument pieces in sending order. */
  argumentPieces: string[];
}

/** Why generation stopped, before mapping to a protocol's word for it. */
export type StopKind = "end" | "length" | "tools";

/** Token counts of a reply. */
export interface PlannedUsage {
  /** Prompt tokens, cached ones included. */
  promptTokens: number;
  /** Generated tokens. */
  completionTokens: number;
  /** Prompt tokens served from cache. */
  cachedTokens: number;
}

/** A reply in protocol-neutral pieces. */
export interface ReplyPlan {
  /** The model to name in the reply (the request's). */
  model: string;
  /** Reasoning pieces for a separate reasoning channel (empty when none or inlined as think tags). */
  reasoning: string[];
  /** Content pieces; lazy (loops are generated on demand) and iterable more than once. */
  content: Iterable<string>;
  /** Tool calls after the content. */
  toolCalls: PlannedToolCall[];
  /** Why generation stopped. */
  stop: StopKind;
  /** A finish reason to send verbatim instead of the protocol's word for `stop`. */
  finishReason: string | undefined;
  /** Token counts. */
  usage: PlannedUsage;
}

/**
 * Splits text into word-sized pieces (each word with its trailing space), or into `count` near-equal pieces by code
 * point, so no piece ever splits a surrogate pair. Empty text gives no pieces.
 */
export function splitPieces(text: string, count?: number): string[] {
  if (count === undefined) return text.match(/\S+\s*|\s+/gu) ?? [];
  const points = Array.from(text);
  const pieces: string[] = [];
  const size = Math.ceil(points.length / Math.max(1, count));
  for (let start = 0; start < points.length; start += size) pieces.push(points.slice(start, start + size).join(""));
  return pieces;
}

/** Makes a random hex id with a prefix, like `msg_…`, `toolu_…` or `call_…`. */
export function randomId(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
}

/** Gives a tool call its id field: the scenario's id, a fresh one with `prefix`, or none when the id is `null`. */
export function toolCallIdField(id: string | null | undefined, prefix: string): { id?: string } {
  return id === null ? {} : { id: id ?? randomId(prefix) };
}

/** Splits text into the mock's tokens: each word and each punctuation mark is one token. */
export function mockTokens(text: string): string[] {
  return text.match(/\w+|[^\w\s]/gu) ?? [];
}

/** Counts the mock's tokens in a text. */
export function countTokens(text: string): number {
  return mockTokens(text).length;
}

/** Collects every string in a JSON value except the top-level `model` name. */
function stringLeaves(value: unknown, out: string[]): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((item) => stringLeaves(item, out));
  else if (isRecord(value)) Object.values(value).forEach((item) => stringLeaves(item, out));
  return out;
}

/** Counts the prompt tokens of a request body: all its strings (system, tools, messages…) but the model name. */
export function countRequestTokens(json: unknown): number {
  const rest = isRecord(json) ? { ...json, model: undefined } : json;
  return countTokens(stringLeaves(rest, []).join(" "));
}

/** Joins a plan's content pieces into the full reply text. */
export function contentText(plan: ReplyPlan): string {
  return Array.from(plan.content).join("");
}

/** Builds the reply plan of a scenario for a request body. */
export function planReply(scenario: Scenario, requestJson: unknown): ReplyPlan {
  const { chunks, loop, toolCalls = [] } = scenario;
  const hasOtherContent = scenario.deltas !== undefined || toolCalls.length > 0 || loop !== undefined;
  const text = scenario.text ?? (hasOtherContent ? "" : DEFAULT_REPLY_TEXT);
  const textPieces = scenario.deltas ?? splitPieces(text, chunks);
  const reasoningPieces = splitPieces(scenario.reasoning ?? "", chunks);
  const inline = scenario.thinkTags === true && reasoningPieces.length > 0;
  const thinkPieces = inline ? ["<think>", ...reasoningPieces, "</think>"] : [];
  const content: Iterable<string> = {
    *[Symbol.iterator]() {
      yield* thinkPieces;
      yield* textPieces;
      for (let repeat = 0; repeat < (loop?.repeats ?? 0); repeat++) yield loop?.unit ?? "";
    },
  };
  const planned = toolCalls.map((call) => ({
    id: call.id,
    name: call.name,
    argumentPieces: typeof call.arguments === "string" ? splitPieces(call.arguments, chunks) : call.arguments,
  }));
  const generatedPieces = (inline ? thinkPieces.length : reasoningPieces.length) + textPieces.length +
    (loop?.repeats ?? 0) +
    planned.reduce((sum, call) => sum + call.argumentPieces.length, 0);
  return {
    model: isRecord(requestJson) && typeof requestJson.model === "string" ? requestJson.model : DEFAULT_MODEL,
    reasoning: inline ? [] : reasoningPieces,
    content,
    toolCalls: planned,
    stop: planned.length > 0 ? "tools" : loop === undefined ? "end" : "length",
    finishReason: scenario.finishReason,
    usage: {
      promptTokens: scenario.usage?.prompt_tokens ?? countRequestTokens(requestJson),
      completionTokens: scenario.usage?.completion_tokens ?? generatedPieces,
      cachedTokens: scenario.usage?.cached_tokens ?? 0,
    },
  };
}
