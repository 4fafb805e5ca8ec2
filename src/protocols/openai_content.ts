/**
 * Reads the `content` of an OpenAI upstream's message or delta as text parts, for every module that reads answer
 * text (the Anthropic converter, the garbage guard).
 *
 * Most servers send a string. Mistral's reasoning models send an array of parts instead:
 * `[{"type":"thinking","thinking":[{"type":"text","text":"…"}]},{"type":"text","text":"…"}]`. Text parts (and bare
 * strings) are answer text; `thinking` and `reasoning` parts are reasoning, their text given as a string or as text
 * parts. Other parts (images, audio) carry no text and are skipped.
 *
 * @module
 */

import { isJsonObject } from "./json_object.ts";

/** The text of one content part: answer text or reasoning. */
export interface ContentPart {
  /** Whether the part is reasoning or answer text. */
  kind: "thinking" | "text";
  /** The part's text. */
  text: string;
}

/** The fields of a reasoning part that may hold its text, in the order they are looked at. */
const REASONING_FIELDS = ["thinking", "reasoning", "text", "content"] as const;

/** The field holding a reasoning part's text, or `undefined` for a part of another type. */
function reasoningField(part: Record<string, unknown>): (typeof REASONING_FIELDS)[number] | undefined {
  if (part.type !== "thinking" && part.type !== "reasoning") return undefined;
  return REASONING_FIELDS.find((field) => part[field] !== undefined && part[field] !== null) ?? "thinking";
}

/** The text of a part's field given as a string or as an array of text parts. */
function fieldText(value: unknown): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return "";
  return value.map((item) => isJsonObject(item) && typeof item.text === "string" ? item.text : "").join("");
}

/**
 * The text of one element of a content array, or `undefined` for an element without text (an image, anything
 * unknown). A reasoning part always gives a part, possibly with empty text.
 */
export function readContentPart(part: unknown): ContentPart | undefined {
  if (typeof part === "string") return { kind: "text", text: part };
  if (!isJsonObject(part)) return undefined;
  const field = reasoningField(part);
  if (field !== undefined) return { kind: "thinking", text: fieldText(part[field]) };
  if (part.type === "text" && typeof part.text === "string") return { kind: "text", text: part.text };
  return undefined;
}

/**
 * The text parts of one `content` value, in order: a string is one text part, an array gives one part per element
 * with text, anything else (`null`, a missing field) none.
 *
 * @example
 * ```ts
 * contentParts([{ type: "thinking", thinking: [{ type: "text", text: "Plan" }] }, { type: "text", text: "Hi" }]);
 * // [{ kind: "thinking", text: "Plan" }, { kind: "text", text: "Hi" }]
 * ```
 */
export function contentParts(content: unknown): ContentPart[] {
  if (typeof content === "string") return [{ kind: "text", text: content }];
  if (!Array.isArray(content)) return [];
  return content.map(readContentPart).filter((part) => part !== undefined);
}

/**
 * A copy of a content array element that {@link readContentPart} reads as text, holding `text` instead of its own
 * text, in the same shape (a reasoning part given as text parts keeps one text part).
 */
export function withPartText(part: unknown, text: string): unknown {
  if (!isJsonObject(part)) return text;
  const field = reasoningField(part);
  if (field === undefined) return { ...part, text };
  return { ...part, [field]: Array.isArray(part[field]) ? [{ type: "text", text }] : text };
}
