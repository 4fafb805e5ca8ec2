/**
 * Converts an Anthropic conversation (`system` plus `messages`) to OpenAI chat messages.
 *
 * - `system` (a string or text blocks) becomes one leading system message.
 * - User turns: text, images (base64 as a `data:` URL, URLs kept as URLs and never fetched) and plain-text
 *   documents become content parts; each `tool_result` becomes a `tool` message, in order, before the user's
 *   own content. A tool message holds text only, so images in a tool result move to the user message that
 *   follows (field note 19), and `is_error` stays visible as an "Error: " prefix. Other blocks inside a tool result
 *   (Claude Code's `tool_reference`, …) become text rather than failing the request.
 * - Assistant turns: text becomes `content`, `tool_use` becomes `tool_calls` (ids the converter rewrote are
 *   restored to the upstream's own, as are `tool_result` ids), `thinking` becomes
 *   `reasoning_content` (DeepSeek and GLM need it back, field note 22); `redacted_thinking` is dropped, as only
 *   Anthropic can read it. A turn with tool calls and no text gets `content: null`.
 * - Text blocks are joined with "\n"; empty text blocks are dropped; text-only content becomes a plain string.
 * - Any other block (PDF documents, server tool results, …) is rejected with a 400 naming it.
 *
 * @module
 */

import type {
  AnthropicContentBlock,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicToolResultBlock,
} from "../../protocols/anthropic.ts";
import type { OpenAIContentPart, OpenAIImagePart, OpenAIMessage, OpenAIToolCall } from "../../protocols/openai.ts";
import { ProxyError } from "../../http/errors.ts";
import { toUpstreamToolCallId } from "./synthetic.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import { invalidRequest } from "./validation.ts";

/** Where a block sits in the request, for error messages. */
type BlockPath = string;

function unsupported(block: { type: string }, path: BlockPath): ProxyError {
  return invalidRequest(`${path}: content block type "${block.type}" cannot be sent to an OpenAI-compatible upstream`);
}

function imagePart(block: AnthropicImageBlock, path: BlockPath): OpenAIImagePart {
  const source = block.source as Record<string, unknown> | undefined;
  if (source?.type === "base64" && typeof source.media_type === "string" && typeof source.data === "string") {
    return { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === "url" && typeof source.url === "string") {
    return { type: "image_url", image_url: { url: source.url } };
  }
  throw invalidRequest(`${path}: image source type "${String(source?.type)}" is not supported; use base64 or url`);
}

function decodeBase64Text(data: string, path: BlockPath): string {
  let binary: string;
  try {
    binary = atob(data);
  } catch {
    throw invalidRequest(`${path}: the document data is not valid base64`);
  }
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}

/** Renders a plain-text document (with its title and context) as text; other documents are rejected. */
function documentText(block: AnthropicDocumentBlock, path: BlockPath): string {
  const source = block.source as Record<string, unknown> | undefined;
  let body: string;
  if (source?.type === "text" && typeof source.data === "string") {
    body = source.data;
  } else if (source?.type === "base64" && source.media_type === "text/plain" && typeof source.data === "string") {
    body = decodeBase64Text(source.data, path);
  } else if (source?.type === "content" && typeof source.content === "string") {
    body = source.content;
  } else if (source?.type === "content" && Array.isArray(source.content)) {
    body = joinTexts(source.content.map((item: AnthropicContentBlock, position: number) => {
      if (item.type !== "text") throw unsupported(item, `${path}.source.content[${position}]`);
      return String(item.text);
    }));
  } else {
    const kind = typeof source?.media_type === "string"
      ? `a "${source.media_type}" document`
      : `a document with a "${String(source?.type)}" source`;
    throw invalidRequest(`${path}: ${kind} cannot be sent to an OpenAI-compatible upstream; send its text instead`);
  }
  return joinTexts([block.title ?? "", block.context ?? "", body]);
}

/** Joins the non-empty texts with newlines. */
function joinTexts(texts: readonly string[]): string {
  return texts.filter((text) => text !== "").join("\n");
}

/** Content parts as an OpenAI message content: one string when all parts are text, else the parts. */
function collapse(parts: readonly OpenAIContentPart[]): string | OpenAIContentPart[] {
  return parts.every((part) => part.type === "text")
    ? joinTexts(parts.map((part) => String((part as { text: unknown }).text)))
    : [...parts];
}

/** The note a tool message carries in place of the images that move to the next user message. */
function imageNote(count: number): string {
  return count === 1
    ? "[The image from this tool result is attached to the next user message]"
    : `[The ${count} images from this tool result are attached to the next user message]`;
}

/**
 * The text that stands in for a block of a tool result that an OpenAI tool message cannot hold: Claude Code's
 * `tool_reference` (from its tool search) names a tool; any other block gives its own `text`, else its JSON.
 */
function degradedBlockText(block: Record<string, unknown>): string {
  if (block.type === "tool_reference") return `Tool reference: ${String(block.tool_name ?? block.name ?? "")}`;
  return typeof block.text === "string" ? block.text : JSON.stringify(block);
}

function toolResult(
  block: AnthropicToolResultBlock,
  path: BlockPath,
): { message: OpenAIMessage; images: OpenAIImagePart[] } {
  if (typeof block.tool_use_id !== "string" || block.tool_use_id === "") {
    throw invalidRequest(`${path}.tool_use_id must not be empty`);
  }
  const texts: string[] = [];
  const images: OpenAIImagePart[] = [];
  if (typeof block.content === "string") {
    texts.push(block.content);
  } else if (Array.isArray(block.content)) {
    block.content.forEach((item, position) => {
      const itemPath = `${path}.content[${position}]`;
      if (!isJsonObject(item)) throw invalidRequest(`${itemPath} must be an object`);
      if (item.type === "text") texts.push(item.text);
      else if (item.type === "image") images.push(imagePart(item, itemPath));
      else if (item.type === "document") texts.push(documentText(item, itemPath));
      else texts.push(degradedBlockText(item));
    });
  } else if (block.content !== undefined && block.content !== null) {
    throw invalidRequest(`${path}.content must be a string or an array of blocks`);
  }
  if (images.length > 0) texts.push(imageNote(images.length));
  const text = joinTexts(texts);
  const content = block.is_error === true ? (text === "" ? "Error" : `Error: ${text}`) : text;
  return { message: { role: "tool", tool_call_id: toUpstreamToolCallId(block.tool_use_id), content }, images };
}

function userMessages(blocks: readonly AnthropicContentBlock[], path: BlockPath): OpenAIMessage[] {
  const toolMessages: OpenAIMessage[] = [];
  const movedImages: OpenAIImagePart[] = [];
  const parts: OpenAIContentPart[] = [];
  blocks.forEach((block, position) => {
    const blockPath = `${path}.content[${position}]`;
    if (typeof block !== "object" || block === null) throw invalidRequest(`${blockPath} must be an object`);
    switch (block.type) {
      case "text":
        if (typeof block.text !== "string") throw invalidRequest(`${blockPath}.text must be a string`);
        if (block.text !== "") parts.push({ type: "text", text: block.text });
        break;
      case "image":
        parts.push(imagePart(block as AnthropicImageBlock, blockPath));
        break;
      case "document":
        parts.push({ type: "text", text: documentText(block as AnthropicDocumentBlock, blockPath) });
        break;
      case "tool_result": {
        const { message, images } = toolResult(block as AnthropicToolResultBlock, blockPath);
        toolMessages.push(message);
        movedImages.push(...images);
        break;
      }
      default:
        throw unsupported(block, blockPath);
    }
  });
  // OpenAI wants tool messages right after the assistant turn that called the tools, so they come first.
  const content = [...movedImages, ...parts];
  return content.length === 0 ? toolMessages : [...toolMessages, { role: "user", content: collapse(content) }];
}

function assistantMessage(blocks: readonly AnthropicContentBlock[], path: BlockPath): OpenAIMessage[] {
  const texts: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  blocks.forEach((block, position) => {
    const blockPath = `${path}.content[${position}]`;
    if (typeof block !== "object" || block === null) throw invalidRequest(`${blockPath} must be an object`);
    switch (block.type) {
      case "text":
        if (typeof block.text !== "string") throw invalidRequest(`${blockPath}.text must be a string`);
        texts.push(block.text);
        break;
      case "thinking":
        if (typeof block.thinking === "string") reasoning.push(block.thinking);
        break;
      case "redacted_thinking":
        break;
      case "tool_use":
        if (typeof block.id !== "string" || block.id === "") throw invalidRequest(`${blockPath}.id must not be empty`);
        if (typeof block.name !== "string" || block.name === "") {
          throw invalidRequest(`${blockPath}.name must not be empty`);
        }
        toolCalls.push({
          id: toUpstreamToolCallId(block.id),
          type: "function",
          function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
      default:
        throw unsupported(block, blockPath);
    }
  });
  const text = joinTexts(texts);
  const thoughts = joinTexts(reasoning);
  if (text === "" && thoughts === "" && toolCalls.length === 0) return [];
  const message: OpenAIMessage = { role: "assistant", content: text === "" && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thoughts !== "") message.reasoning_content = thoughts;
  return [message];
}

/** The text of a system prompt given as a string or as text blocks. */
function systemText(system: unknown, path: string): string {
  if (typeof system === "string") return system;
  if (!Array.isArray(system)) throw invalidRequest(`${path} must be a string or an array of text blocks`);
  return joinTexts(system.map((block, position) => {
    if (!isJsonObject(block) || block.type !== "text" || typeof block.text !== "string") {
      throw invalidRequest(`${path}[${position}] must be a text block`);
    }
    return block.text;
  }));
}

function systemMessage(system: AnthropicRequest["system"]): OpenAIMessage[] {
  if (system === undefined || system === null) return [];
  const text = systemText(system, "system");
  return text === "" ? [] : [{ role: "system", content: text }];
}

/**
 * A `system` message inside `messages` (Claude Code ≥ 2.1 sends its environment block this way) becomes a user turn
 * wrapped in `<system-reminder>` tags, at its place: many chat templates (Qwen, Mistral) reject a system message
 * that is not first, and moving it into the leading system prompt would change the prompt prefix on every turn and
 * defeat the upstream's prompt cache.
 */
function inlineSystemMessage(content: unknown, path: string): OpenAIMessage[] {
  const text = systemText(content, `${path}.content`);
  return text === "" ? [] : [{ role: "user", content: `<system-reminder>\n${text}\n</system-reminder>` }];
}

/** Joins consecutive user turns, which strict chat templates (alternating roles) reject. */
function mergeConsecutiveUserTurns(messages: OpenAIMessage[]): OpenAIMessage[] {
  const out: OpenAIMessage[] = [];
  for (const message of messages) {
    const previous = out.at(-1);
    if (previous?.role !== "user" || message.role !== "user") {
      out.push(message);
      continue;
    }
    out[out.length - 1] = { ...previous, content: joinUserContent(previous.content, message.content) };
  }
  return out;
}

function joinUserContent(a: OpenAIMessage["content"], b: OpenAIMessage["content"]): OpenAIMessage["content"] {
  if (typeof a === "string" && typeof b === "string") return `${a}\n\n${b}`;
  const parts = (content: OpenAIMessage["content"]) =>
    typeof content === "string" ? [{ type: "text" as const, text: content }] : content ?? [];
  return [...parts(a), ...parts(b)];
}

function conversationMessage(message: AnthropicMessage, path: BlockPath): OpenAIMessage[] {
  if (!isJsonObject(message)) throw invalidRequest(`${path} must be an object`);
  if ((message.role as string) === "system") return inlineSystemMessage(message.content, path);
  if (message.role !== "user" && message.role !== "assistant") {
    throw invalidRequest(
      `${path}.role must be "user", "assistant" or "system": received "${String(message.role)}"`,
    );
  }
  if (typeof message.content === "string") {
    return message.content === "" ? [] : [{ role: message.role, content: message.content }];
  }
  if (!Array.isArray(message.content)) throw invalidRequest(`${path}.content must be a string or an array of blocks`);
  return message.role === "user" ? userMessages(message.content, path) : assistantMessage(message.content, path);
}

/**
 * Converts `system` and `messages` to OpenAI chat messages. Throws a 400 {@link ProxyError} naming the block it
 * cannot convert.
 *
 * @example
 * ```ts
 * toOpenAIMessages({ system: "Be brief", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] });
 * // [{ role: "system", content: "Be brief" }, { role: "user", content: "Hi" }]
 * ```
 */
export function toOpenAIMessages(req: Pick<AnthropicRequest, "system" | "messages">): OpenAIMessage[] {
  return mergeConsecutiveUserTurns([
    ...systemMessage(req.system),
    ...req.messages.flatMap((message, position) => conversationMessage(message, `messages[${position}]`)),
  ]);
}
