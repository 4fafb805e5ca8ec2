/**
 * Converts a Responses request's `instructions` and `input` into Chat Completions messages.
 *
 * Direction: the client speaks OpenAI Responses, the upstream OpenAI Chat (or Anthropic, by pivoting through the
 * chat → Anthropic converter, so this is the one mapping of Responses input).
 *
 * @module
 */

import { invalidRequest } from "../openai_anthropic/invalid_request.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import type { OpenAIContentPart, OpenAIMessage } from "../../protocols/openai.ts";
import type {
  ResponsesContentPart,
  ResponsesFunctionCallItem,
  ResponsesReasoningItem,
} from "../../protocols/openai_responses_types.ts";

/** Texts of a text-only content list are joined with this, so separate parts stay apart. */
const PART_SEPARATOR = "\n\n";

/** The roles a message item may have. */
const ROLES = new Set(["user", "assistant", "system", "developer"]);

/**
 * Converts one content part to a chat part.
 *
 * `input_text` and `output_text` → text; `refusal` → its text; `input_image` with a URL → `image_url`; `input_file`
 * with `file_data` → chat's `file` part. A part that names a file in OpenAI's file store (`file_id` only) or any
 * other type is refused: the proxy cannot fetch it, and dropping it would change the question.
 */
function toChatPart(part: ResponsesContentPart, path: string): OpenAIContentPart {
  switch (part.type) {
    case "input_text":
    case "output_text":
      if (typeof part.text === "string") return { type: "text", text: part.text };
      break;
    case "refusal":
      if (typeof part.refusal === "string") return { type: "text", text: part.refusal };
      break;
    case "input_image":
      if (typeof part.image_url === "string" && part.image_url !== "") {
        const detail = part.detail === "low" || part.detail === "high" ? part.detail : "auto";
        return { type: "image_url", image_url: { url: part.image_url, detail } };
      }
      throw invalidRequest(`${path} has no image_url; images by file_id need OpenAI's file store`);
    case "input_file":
      if (typeof part.file_data === "string") {
        const file = typeof part.filename === "string"
          ? { file_data: part.file_data, filename: part.filename }
          : { file_data: part.file_data };
        return { type: "file", file };
      }
      throw invalidRequest(`${path} has no file_data; files by file_id or file_url need OpenAI's file store`);
  }
  throw invalidRequest(`${path} has type ${JSON.stringify(part.type)}, which a chat upstream cannot take`);
}

/**
 * Converts message content: a string stays a string, a list of text parts becomes one string (texts joined with a
 * blank line), any other list a list of chat parts.
 */
function toChatContent(content: unknown, path: string): string | OpenAIContentPart[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalidRequest(`${path} must be a string or an array of content parts`);
  const parts = content.map((part, index) => {
    if (!isJsonObject(part) || typeof part.type !== "string") {
      throw invalidRequest(`${path}[${index}] must be an object with a type`);
    }
    return toChatPart(part as ResponsesContentPart, `${path}[${index}]`);
  });
  if (parts.every((part) => part.type === "text")) {
    return parts.map((part) => (part as { text: string }).text).join(PART_SEPARATOR);
  }
  return parts;
}

/** The text of a reasoning item: its raw reasoning text if any, else its summaries (joined with a blank line). */
function reasoningText(item: ResponsesReasoningItem): string {
  const pick = (parts: unknown) =>
    Array.isArray(parts)
      ? parts.map((part) => isJsonObject(part) && typeof part.text === "string" ? part.text : "").filter(Boolean)
      : [];
  const raw = pick(item.content);
  return (raw.length > 0 ? raw : pick(item.summary)).join(PART_SEPARATOR);
}

/** Builds chat messages item by item, merging an assistant turn's reasoning, text and calls into one message. */
class MessageBuilder {
  readonly messages: OpenAIMessage[] = [];

  /** The last message when it is an assistant turn that a following item of the same turn may extend. */
  #openAssistant(): OpenAIMessage | undefined {
    const last = this.messages.at(-1);
    return last?.role === "assistant" ? last : undefined;
  }

  message(role: string, content: string | OpenAIContentPart[]): void {
    if (role !== "assistant") {
      this.messages.push({ role: role === "developer" ? "system" : role as OpenAIMessage["role"], content });
      return;
    }
    const open = this.#openAssistant();
    if (open !== undefined && open.content === null && open.tool_calls === undefined) open.content = content;
    else this.messages.push({ role: "assistant", content });
  }

  reasoning(text: string): void {
    if (text === "") return;
    const open = this.#openAssistant();
    if (open !== undefined && open.content === null && open.tool_calls === undefined) {
      open.reasoning_content = open.reasoning_content ? `${open.reasoning_content}${PART_SEPARATOR}${text}` : text;
    } else this.messages.push({ role: "assistant", content: null, reasoning_content: text });
  }

  functionCall(item: ResponsesFunctionCallItem): void {
    const call = {
      id: item.call_id,
      type: "function" as const,
      function: { name: item.name, arguments: item.arguments },
    };
    const open = this.#openAssistant();
    if (open === undefined) this.messages.push({ role: "assistant", content: null, tool_calls: [call] });
    else open.tool_calls = [...(open.tool_calls ?? []), call];
  }

  functionOutput(callId: string, content: string | OpenAIContentPart[]): void {
    this.messages.push({ role: "tool", tool_call_id: callId, content });
  }

  /** The messages, an assistant turn that holds only reasoning given empty text (servers want content or calls). */
  finish(): OpenAIMessage[] {
    for (const message of this.messages) {
      if (message.role === "assistant" && message.content === null && message.tool_calls === undefined) {
        message.content = "";
      }
    }
    return this.messages;
  }
}

/** Reads a required string field of an item, or refuses the request naming the field. */
function stringField(item: Record<string, unknown>, field: string, path: string): string {
  const value = item[field];
  if (typeof value !== "string") throw invalidRequest(`${path}.${field} must be a string`);
  return value;
}

/** Adds one input item to the messages; see {@link toChatMessages} for the rules. */
function addItem(builder: MessageBuilder, item: unknown, path: string): void {
  if (!isJsonObject(item)) throw invalidRequest(`${path} must be an object`);
  const type = item.type ?? "message";
  switch (type) {
    case "message": {
      const role = item.role;
      if (typeof role !== "string" || !ROLES.has(role)) {
        throw invalidRequest(`${path}.role must be one of "user", "assistant", "system", "developer"`);
      }
      builder.message(role, toChatContent(item.content, `${path}.content`));
      return;
    }
    case "function_call":
      builder.functionCall({
        type: "function_call",
        call_id: stringField(item, "call_id", path),
        name: stringField(item, "name", path),
        arguments: stringField(item, "arguments", path),
      });
      return;
    case "function_call_output":
      builder.functionOutput(stringField(item, "call_id", path), toChatContent(item.output, `${path}.output`));
      return;
    case "reasoning":
      builder.reasoning(reasoningText(item as ResponsesReasoningItem));
      return;
    case "item_reference":
      throw invalidRequest(`${path} is an item_reference, but the proxy keeps no items; send the item itself`);
    default:
      // Calls and results of built-in tools (web_search_call, local_shell_call, custom_tool_call, …): those tools
      // are not offered to a converted upstream, so their history is left out with them.
      return;
  }
}

/**
 * Converts `instructions` and `input` into chat messages.
 *
 * 1. `instructions`, and the `system` and `developer` messages before the first other item, become one leading
 *    `system` message (texts joined with a blank line): many chat templates take a system prompt only first.
 *    Later `system` / `developer` messages stay where they are, as `system`.
 * 2. A string `input` is one user message.
 * 3. Message items keep their role; content parts map as in `toChatPart`; text-only content becomes a string.
 * 4. An assistant turn's `reasoning` item (raw `reasoning_text`, else its summaries) becomes `reasoning_content`,
 *    and its message and `function_call` items join the same assistant message (`tool_calls`), so parallel calls
 *    stay one turn; `encrypted_content` is left out (only OpenAI can read it).
 * 5. `function_call_output` → a `tool` message with the call's `call_id`.
 * 6. Items of built-in tools are left out (see `addItem`); `item_reference` is refused (there is no store).
 *
 * @example
 * ```ts
 * toChatMessages("Be brief", [{ role: "user", content: [{ type: "input_text", text: "Hi" }] }]);
 * // [{ role: "system", content: "Be brief" }, { role: "user", content: "Hi" }]
 * ```
 */
export function toChatMessages(instructions: unknown, input: unknown): OpenAIMessage[] {
  if (instructions !== undefined && instructions !== null && typeof instructions !== "string") {
    throw invalidRequest("instructions must be a string");
  }
  const builder = new MessageBuilder();
  inputItems(input).forEach((item, index) => addItem(builder, item, `input[${index}]`));
  const messages = builder.finish();
  const leading = messages.findIndex((message) => message.role !== "system");
  const system = messages.splice(0, leading === -1 ? messages.length : leading);
  const texts = [instructions ?? "", ...system.map((message) => systemText(message))].filter((text) => text !== "");
  return texts.length > 0 ? [{ role: "system", content: texts.join(PART_SEPARATOR) }, ...messages] : messages;
}

/** The items of `input`: a string is one user message. */
function inputItems(input: unknown): unknown[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw invalidRequest("input must be a string or an array of items");
  return input;
}

/** The text of a system message (its content is a string or parts, since it came from {@link toChatContent}). */
function systemText(message: OpenAIMessage): string {
  if (typeof message.content === "string") return message.content;
  throw invalidRequest("a system or developer message may hold text only");
}
