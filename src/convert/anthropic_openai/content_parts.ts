/**
 * Reads the `content` of an OpenAI upstream's message or delta into reasoning and answer pieces.
 *
 * Most servers send a string, which may inline reasoning as a leading `<think>` (see `think_tags.ts`). Mistral's
 * reasoning models send an array of parts (read by `protocols/openai_content.ts`, which the garbage guard shares).
 * Text parts are answer text (still through the `<think>` splitter, so both forms behave alike); `thinking` and
 * `reasoning` parts are reasoning.
 *
 * @module
 */

import { contentParts } from "../../protocols/openai_content.ts";
import type { ContentPiece, ThinkTagSplitter } from "./think_tags.ts";

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
  const pieces: ContentPiece[] = [];
  for (const part of contentParts(content)) {
    if (part.kind === "text") {
      pieces.push(...splitter.push(part.text));
    } else {
      pieces.push(...splitter.flush());
      if (part.text !== "") pieces.push(part);
    }
  }
  return pieces;
}
