/**
 * Fenced code blocks of a Markdown file, with the test marker that may precede each one: an HTML comment
 * `<!-- test: KIND -->` on the line right before the opening fence says how a test runs the block.
 *
 * @module
 */

/** One fenced code block. */
export interface Snippet {
  /** The marker's kind (`bash`, `deno`, `config`, `toml`, `ci`), or `undefined` for an unmarked block. */
  kind: string | undefined;
  /** The fence's info string, e.g. `sh`, `json`, `ts`; `""` for none. */
  lang: string;
  /** The block's text, without the fences, ending with a newline. */
  text: string;
  /** 1-based line number of the opening fence, for messages. */
  line: number;
}

const MARKER = /^<!-- test: ([a-z][a-z-]*) -->$/;
const FENCE = /^```(\S*)\s*$/;

/**
 * Splits Markdown into its fenced code blocks (``` fences only, not nested).
 *
 * @throws {Error} when a marker is not followed by a fence, or a fence is never closed
 */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const marker = MARKER.exec(lines[index]);
    if (marker && !FENCE.test(lines[index + 1] ?? "")) {
      throw new Error(`Line ${index + 1}: a test marker must be followed by a fenced block`);
    }
    const open = FENCE.exec(lines[index]);
    if (!open) continue;
    const close = lines.findIndex((line, at) => at > index && line.trimEnd() === "```");
    if (close < 0) throw new Error(`Line ${index + 1}: the fenced block is never closed`);
    snippets.push({
      kind: MARKER.exec(lines[index - 1] ?? "")?.[1],
      lang: open[1],
      text: lines.slice(index + 1, close).join("\n") + "\n",
      line: index + 1,
    });
    index = close;
  }
  return snippets;
}
