/**
 * Local prompt-token counting for Anthropic `count_tokens` requests when the upstream cannot count: an estimate
 * from character classes, and a rendering of the request as one text for an upstream `/tokenize` endpoint
 * (llama.cpp, vLLM).
 *
 * Claude Code sizes its context meter and decides when to auto-compact from these numbers, so the system prompt
 * and the tool definitions, often most of the prompt, are always counted (field note 14). The estimate leans
 * high: compacting a little early is harmless, overflowing the context is not.
 *
 * @module
 */

import type {
  AnthropicContentBlock,
  AnthropicCountTokensRequest,
  AnthropicMessage,
  AnthropicTool,
} from "../protocols/anthropic.ts";

/** What one image costs: Anthropic bills about (width × height) / 750 tokens, ~1,600 for a 1092×1092 image. */
export const IMAGE_TOKENS = 1600;
/** Role markers and separators a chat template adds around each message. */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** The instructions a chat template adds once when tools are offered. */
const TOOLS_PREAMBLE_TOKENS = 150;

/** Tokens per character: English and code run ~3.7 characters per token. */
const ASCII_WEIGHT = 0.27;
/** Accented Latin, Cyrillic, Greek and typographic punctuation split into more tokens than ASCII. */
const OTHER_BMP_WEIGHT = 0.5;
/** Chinese, Japanese and Korean characters are about one token each. */
const CJK_WEIGHT = 1;
/** Emoji and other characters outside the BMP take several byte-level tokens. */
const ASTRAL_WEIGHT = 1.5;

function isCjk(code: number): boolean {
  return (code >= 0x3040 && code <= 0x30ff) || // Hiragana, Katakana
    (code >= 0x3400 && code <= 0x4dbf) || // CJK Extension A
    (code >= 0x4e00 && code <= 0x9fff) || // CJK Unified Ideographs
    (code >= 0xac00 && code <= 0xd7af) || // Hangul syllables
    (code >= 0xf900 && code <= 0xfaff) || // CJK Compatibility Ideographs
    (code >= 0xff00 && code <= 0xffef); // Full-width forms
}

/**
 * The estimated token count of a text as a fraction, so counts of consecutive pieces add up without rounding.
 *
 * @example
 * ```ts
 * Math.ceil(textTokenWeight("你好")); // 2
 * ```
 */
export function textTokenWeight(text: string): number {
  let weight = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      weight += ASCII_WEIGHT;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      weight += ASTRAL_WEIGHT;
      i++; // The low surrogate belongs to the same character.
    } else {
      weight += isCjk(code) ? CJK_WEIGHT : OTHER_BMP_WEIGHT;
    }
  }
  return weight;
}

/** A request rendered as text, with what text cannot carry counted aside. */
interface RenderedRequest {
  text: string;
  images: number;
}

function renderContent(content: unknown, rendered: { images: number }): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? "" : JSON.stringify(content);
  return content.map((block: AnthropicContentBlock) => renderBlock(block, rendered)).filter((text) => text !== "")
    .join("\n");
}

function renderBlock(block: AnthropicContentBlock, rendered: { images: number }): string {
  switch (block.type) {
    case "text":
      return String(block.text ?? "");
    case "image":
      rendered.images++;
      return "";
    case "thinking":
      return String(block.thinking ?? "");
    case "redacted_thinking":
      // Never sent to an OpenAI upstream, so it takes no room in its context.
      return "";
    case "tool_use":
      return `${String(block.name ?? "")} ${JSON.stringify(block.input ?? {})}`;
    case "tool_result":
      return renderContent(block.content, rendered);
    case "document": {
      const source = block.source as Record<string, unknown> | undefined;
      if (source?.type === "text" && typeof source.data === "string") return source.data;
      if (source?.type === "content") return renderContent(source.content, rendered);
      rendered.images++; // A PDF page costs about as much as an image.
      return "";
    }
    default:
      return JSON.stringify(block);
  }
}

/** The tools and messages of a request, read defensively: a `count_tokens` body reaches here unvalidated. */
function listsOf(req: AnthropicCountTokensRequest): { tools: AnthropicTool[]; messages: AnthropicMessage[] } {
  return {
    tools: Array.isArray(req.tools) ? req.tools : [],
    messages: Array.isArray(req.messages) ? req.messages : [],
  };
}

function render(req: AnthropicCountTokensRequest): RenderedRequest {
  const rendered = { images: 0 };
  const { tools, messages } = listsOf(req);
  const parts: string[] = [];
  const system = renderContent(req.system, rendered);
  if (system !== "") parts.push(system);
  for (const tool of tools) {
    parts.push(JSON.stringify({ name: tool.name, description: tool.description, input_schema: tool.input_schema }));
  }
  for (const message of messages) parts.push(`${message.role}: ${renderContent(message.content, rendered)}`);
  return { text: parts.join("\n\n"), images: rendered.images };
}

/**
 * Renders a request as one text for an upstream tokenizer (llama.cpp and vLLM `/tokenize`): the system prompt,
 * each tool as JSON, then each message as `role: content`. Images cannot be rendered as text: add
 * {@linkcode imageTokenEstimate} to the upstream's count.
 *
 * @example
 * ```ts
 * toTokenizeText({ model: "m", system: "Be brief", messages: [{ role: "user", content: "Hi" }] });
 * // "Be brief\n\nuser: Hi"
 * ```
 */
export function toTokenizeText(req: AnthropicCountTokensRequest): string {
  return render(req).text;
}

/** The tokens the images and PDF documents of a request are estimated at, {@link IMAGE_TOKENS} each. */
export function imageTokenEstimate(req: AnthropicCountTokensRequest): number {
  return render(req).images * IMAGE_TOKENS;
}

/**
 * Estimates the input tokens of a request locally: system prompt, tool names, descriptions and schemas, and every
 * message (text, tool calls and results, thinking, images at {@link IMAGE_TOKENS} each), plus the template
 * overhead per message and for tools. About 3.7 English characters or one CJK character per token.
 *
 * @example
 * ```ts
 * estimateAnthropicInputTokens({ model: "m", messages: [{ role: "user", content: "Hello, world" }] }); // 9
 * ```
 */
export function estimateAnthropicInputTokens(req: AnthropicCountTokensRequest): number {
  const { text, images } = render(req);
  const { tools, messages } = listsOf(req);
  const overhead = (tools.length > 0 ? TOOLS_PREAMBLE_TOKENS : 0) + messages.length * MESSAGE_OVERHEAD_TOKENS;
  return Math.ceil(textTokenWeight(text)) + images * IMAGE_TOKENS + overhead;
}
