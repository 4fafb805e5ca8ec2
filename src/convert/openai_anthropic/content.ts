/**
 * Converts the `content` of one OpenAI message (a string or an array of parts) into Anthropic content blocks.
 *
 * Direction: the client speaks OpenAI Chat, the upstream speaks Anthropic Messages.
 *
 * @module
 */

import type {
  AnthropicCacheControl,
  AnthropicDocumentBlock,
  AnthropicImageBlock,
  AnthropicTextBlock,
} from "../../protocols/anthropic.ts";
import type { OpenAIContentPart, OpenAIMessage } from "../../protocols/openai.ts";
import { invalidRequest } from "./invalid_request.ts";

/** A block converted from an OpenAI content part. */
export type AnthropicPartBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock;

/** Options of {@link toAnthropicBlocks}. */
export interface ToAnthropicBlocksOptions {
  /** Where the content sits in the request, for error messages, e.g. `messages[3].content`. */
  path: string;
  /**
   * The role of the message, which decides the parts it may hold: `system` and `developer` text only, `assistant`
   * text and refusals, `user` and `tool` text, images and PDF files.
   */
  role: OpenAIMessage["role"];
}

/**
 * Converts message content into Anthropic blocks.
 *
 * - Text that is empty or only whitespace is dropped: Anthropic rejects such blocks (field note 18).
 * - `image_url`: a base64 `data:` URL becomes a base64 image; an http(s) URL becomes a URL image, which the upstream
 *   fetches: the proxy never fetches client-given URLs. `detail` has no Anthropic equivalent and is dropped.
 * - `file` with `file_data` (a PDF as a base64 `data:` URL or bare base64) becomes a PDF document; `file_id` cannot be
 *   resolved and is rejected.
 * - `refusal` parts of an assistant message become text, since they are what the assistant said.
 * - A `cache_control` marker on a text or image part (OpenRouter's convention) is kept.
 * - Any other part (`input_audio`, …) is rejected with a 400.
 *
 * @example
 * ```ts
 * toAnthropicBlocks("Hi", { path: "messages[0].content", role: "user" }); // [{ type: "text", text: "Hi" }]
 * ```
 */
export function toAnthropicBlocks(content: unknown, options: ToAnthropicBlocksOptions): AnthropicPartBlock[] {
  const { path, role } = options;
  if (content === undefined || content === null) return [];
  if (typeof content === "string") return content.trim() === "" ? [] : [{ type: "text", text: content }];
  if (!Array.isArray(content)) throw invalidRequest(`${path} must be a string or an array of content parts`);
  const blocks: AnthropicPartBlock[] = [];
  content.forEach((part: unknown, i) => {
    const block = partToBlock(part, { path: `${path}[${i}]`, role });
    if (block !== undefined) blocks.push(block);
  });
  return blocks;
}

/** Converts one part, or gives `undefined` for a part that converts to nothing (blank text). */
function partToBlock(part: unknown, options: ToAnthropicBlocksOptions): AnthropicPartBlock | undefined {
  const { path, role } = options;
  if (typeof part !== "object" || part === null || typeof (part as { type?: unknown }).type !== "string") {
    throw invalidRequest(`${path} must be a content part object with a string "type"`);
  }
  const typed = part as OpenAIContentPart;
  const media = role === "user" || role === "tool";
  switch (typed.type) {
    case "text":
      return textBlock(typed.text, typed, path);
    case "refusal":
      if (role === "assistant") return textBlock(typed.refusal, typed, path);
      break;
    case "image_url":
      if (media) return withCacheControl(imageBlock(typed.image_url, path), typed);
      break;
    case "file":
      if (media) return documentBlock(typed.file, path);
      break;
  }
  throw invalidRequest(
    `${path} has type "${typed.type}", which a ${role} message to an Anthropic upstream cannot hold`,
  );
}

function textBlock(text: unknown, part: OpenAIContentPart, path: string): AnthropicTextBlock | undefined {
  if (typeof text !== "string") throw invalidRequest(`${path} must have a string text`);
  return text.trim() === "" ? undefined : withCacheControl({ type: "text", text }, part);
}

function imageBlock(imageUrl: unknown, path: string): AnthropicImageBlock {
  const url = (imageUrl as { url?: unknown } | undefined)?.url;
  if (typeof url !== "string") throw invalidRequest(`${path}.image_url.url must be a string`);
  if (url.startsWith("data:")) {
    const { mediaType, data } = parseBase64DataUrl(url, `${path}.image_url.url`);
    return { type: "image", source: { type: "base64", media_type: mediaType, data } };
  }
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  throw invalidRequest(`${path}.image_url.url must be an http(s) URL or a base64 data URL`);
}

function documentBlock(file: unknown, path: string): AnthropicDocumentBlock {
  const { file_data: fileData, file_id: fileId, filename } = (file ?? {}) as {
    file_data?: unknown;
    file_id?: unknown;
    filename?: unknown;
  };
  if (typeof fileData !== "string") {
    const reason = typeof fileId === "string" ? "file ids cannot be resolved by an Anthropic upstream" : "it is empty";
    throw invalidRequest(`${path}.file must carry file_data: ${reason}`);
  }
  const { mediaType, data } = fileData.startsWith("data:")
    ? parseBase64DataUrl(fileData, `${path}.file.file_data`)
    : { mediaType: "application/pdf", data: fileData };
  if (mediaType !== "application/pdf") {
    throw invalidRequest(`${path}.file.file_data must be a PDF: received "${mediaType}"`);
  }
  const block: AnthropicDocumentBlock = { type: "document", source: { type: "base64", media_type: mediaType, data } };
  if (typeof filename === "string" && filename !== "") block.title = filename;
  return block;
}

/**
 * Splits a `data:<media type>[;params];base64,<data>` URL. Per RFC 2397 the media type ends at the first `;` and
 * `;base64` is the last parameter; URLs that are not base64 are rejected because Anthropic takes base64 only.
 */
function parseBase64DataUrl(url: string, path: string): { mediaType: string; data: string } {
  const comma = url.indexOf(",");
  const params = url.slice("data:".length, comma).split(";");
  if (comma < 0 || params.at(-1) !== "base64" || params[0] === "") {
    throw invalidRequest(`${path} must be a data URL of the form "data:<media type>;base64,<data>"`);
  }
  return { mediaType: params[0].toLowerCase(), data: url.slice(comma + 1) };
}

/** Keeps a part's `cache_control` marker when it has the one shape Anthropic accepts. */
function withCacheControl<T extends AnthropicTextBlock | AnthropicImageBlock>(block: T, part: OpenAIContentPart): T {
  const marker = (part as { cache_control?: unknown }).cache_control;
  if (typeof marker === "object" && marker !== null && (marker as { type?: unknown }).type === "ephemeral") {
    block.cache_control = marker as AnthropicCacheControl;
  }
  return block;
}
