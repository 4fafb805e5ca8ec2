/**
 * Splits reasoning that an upstream inlines as `<think>…</think>` in its `content` (MiniMax, some llama.cpp chat
 * templates) from the answer text, incrementally, so a tag split across chunks (`<thi` + `nk>`) is still found.
 *
 * Only a `<think>` at the very start of the content (after optional whitespace) opens reasoning: a model that writes
 * about the tag later in its answer, e.g. while editing a chat template, keeps its text. Whitespace right after
 * `<think>` and right after `</think>` is dropped, as the tags' line breaks are not part of either text.
 *
 * @module
 */

/** A run of content that is either reasoning or answer text. */
export interface ContentPiece {
  /** Whether the run is reasoning or answer text. */
  kind: "thinking" | "text";
  /** The run's text. */
  text: string;
}

const OPEN_TAG = "<think>";
const CLOSE_TAG = "</think>";

/** The length of the longest end of `text` that could be the start of `tag`. */
function partialTagLength(text: string, tag: string): number {
  for (let length = Math.min(text.length, tag.length - 1); length > 0; length--) {
    if (text.endsWith(tag.slice(0, length))) return length;
  }
  return 0;
}

/**
 * Incremental splitter of `<think>` tags in streamed content.
 *
 * @example
 * ```ts
 * const splitter = new ThinkTagSplitter();
 * splitter.push("<thi"); // []
 * splitter.push("nk>plan</think>\n\nAnswer"); // [{kind:"thinking",text:"plan"}, {kind:"text",text:"Answer"}]
 * ```
 */
export class ThinkTagSplitter {
  /** start: nothing but whitespace seen yet; after: just closed a think tag, skipping whitespace. */
  #state: "start" | "thinking" | "after" | "text" = "start";
  /** Content held back because it may be the start of a tag. */
  #held = "";
  /** Whether the reasoning has had a non-whitespace character yet. */
  #thinkingBegun = false;

  /** Feeds one content chunk and returns the pieces that are certain now. */
  push(chunk: string): ContentPiece[] {
    const pieces: ContentPiece[] = [];
    let input = this.#held + chunk;
    this.#held = "";
    while (input !== "") {
      if (this.#state === "start") {
        const trimmed = input.trimStart();
        if (trimmed.startsWith(OPEN_TAG)) {
          this.#state = "thinking";
          input = trimmed.slice(OPEN_TAG.length);
        } else if (OPEN_TAG.startsWith(trimmed)) {
          this.#held = input;
          input = "";
        } else {
          this.#state = "text";
        }
      } else if (this.#state === "thinking") {
        if (!this.#thinkingBegun) {
          input = input.trimStart();
          this.#thinkingBegun = input !== "";
        }
        const end = input.indexOf(CLOSE_TAG);
        if (end >= 0) {
          if (end > 0) pieces.push({ kind: "thinking", text: input.slice(0, end) });
          this.#state = "after";
          input = input.slice(end + CLOSE_TAG.length);
        } else {
          const keep = partialTagLength(input, CLOSE_TAG);
          const certain = input.slice(0, input.length - keep);
          if (certain !== "") pieces.push({ kind: "thinking", text: certain });
          this.#held = input.slice(input.length - keep);
          input = "";
        }
      } else if (this.#state === "after") {
        input = input.trimStart();
        if (input !== "") this.#state = "text";
      } else {
        pieces.push({ kind: "text", text: input });
        input = "";
      }
    }
    return pieces;
  }

  /**
   * Releases content held back as a possible tag, e.g. when the content ends or another kind of delta arrives.
   * Held whitespace before any text is dropped; an unfinished `</think>` stays reasoning.
   */
  flush(): ContentPiece[] {
    const held = this.#held;
    this.#held = "";
    if (this.#state === "thinking" && held !== "") return [{ kind: "thinking", text: held }];
    if (this.#state === "start" && held.trim() !== "") {
      this.#state = "text";
      return [{ kind: "text", text: held }];
    }
    return [];
  }
}
