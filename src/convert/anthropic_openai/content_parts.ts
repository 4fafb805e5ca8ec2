/**
 * Reads the `content` of an OpenAI upstream's message or delta into reasoning and answer pieces.
 *
 * Most servers send a string, which may inline reasoning as a leading `<think>` (see `think_tags.ts`). Mistral's
 * reasoning models send an array of parts instead:
 * `[{"type":"thinking","thinking":[{"type":"text","text":"…"}]},{"type":"text","text":"…"}]`. Text parts are
 * answer text (still through the `<think>` splitter, so both forms behave alike); `thinking` and `reasoning` parts
 * are reasoning, their text given as a string or as text parts. Other parts (images, audio) carry no text and are
 * skipped.
 *
 * @module
 */

import type { ContentPiece, ThinkTagSplitter } from "./think_tags.ts";
import { isJsonObject } from "./validation.ts";

/** The text of a part's field given as a string or as an array of text parts. */
function partText(value: unknown): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return "";
  return value.map((item) => isJsonObject(item) && typeof item.text === "string" ? item.text : "").join("");
}

/** The reasoning text of a `thinking` or `reasoning` part, or `undefined` for a part of another type. */
function reasoningText(part: Record<string, unknown>): string | undefined {
  if (part.type !== "thinking" && part.type !== "reasoning") return undefined;
  return partText(part.thinking ?? part.reasoning ?? part.text ?? part.content);
}

/**
 * Splits one `content` value (a string, an array of parts, or anything else, which gives nothing) into pieces, in
 * order. `splitter` keeps the `<think>` state across the deltas of one answer; a reasoning part first releases what
 * it holds, so no text is overtaken.
 *
 * @example
 * ```ts
 * contentPieces([{ type: "thinking", thinking: [{ type: "text", text: "Plan" }] }, { type: "text", text: "Hi" }],
 *   new ThinkTagSplitter());
 * // [{ kind: "thinking", text: "Plan" }, { kind: "text", text: "Hi" }]
 * ```
 */
export function contentPieces(content: unknown, splitter: ThinkTagSplitter): ContentPiece[] {
  if (typeof content === "string") return splitter.push(content);
  if (!Array.isArray(content)) return [];
  const pieces: ContentPiece[] = [];
  for (const part of content) {
    if (typeof part === "string") {
      pieces.push(...splitter.push(part));
    } else if (isJsonObject(part)) {
      const reasoning = reasoningText(part);
      if (reasoning !== undefined) {
        pieces.push(...splitter.flush());
        if (reasoning !== "") pieces.push({ kind: "thinking", text: reasoning });
      } else if (part.type === "text" && typeof part.text === "string") {
        pieces.push(...splitter.push(part.text));
      }
    }
  }
  return pieces;
}
