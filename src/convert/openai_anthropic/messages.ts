/**
 * Converts the OpenAI `messages` array into an Anthropic system prompt and a strictly alternating list of turns.
 *
 * Direction: the client speaks OpenAI Chat, the upstream speaks Anthropic Messages.
 *
 * @module
 */

import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicRedactedThinkingBlock,
  AnthropicTextBlock,
  AnthropicThinkingBlock,
  AnthropicToolResultBlock,
  AnthropicToolUseBlock,
} from "../../protocols/anthropic.ts";
import type { JsonObject, OpenAIMessage } from "../../protocols/openai.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import { toAnthropicBlocks } from "./content.ts";
import { invalidRequest } from "./invalid_request.ts";

/** The result of {@link toAnthropicMessages}. */
export interface AnthropicConversation {
  /** System and developer messages, in order; empty when there were none. */
  system: AnthropicTextBlock[];
  /** Alternating user and assistant turns, each with at least one block. */
  messages: Array<AnthropicMessage & { content: AnthropicContentBlock[] }>;
}

/**
 * Converts OpenAI messages into Anthropic turns.
 *
 * 1. `system` and `developer` messages go to the system prompt, one text block each, in order, wherever they stand
 *    in the conversation (the Anthropic Messages API has no system role inside `messages`).
 * 2. `user` content becomes blocks (see `toAnthropicBlocks`); `name` has no Anthropic equivalent and is dropped.
 * 3. `assistant` messages become signed thinking blocks (from `thinking_blocks`, LiteLLM's convention), then text,
 *    then one `tool_use` per tool call with its arguments parsed. `reasoning_content` alone is dropped: Anthropic
 *    rejects thinking without the signature it issued.
 * 4. `tool` messages become `tool_result` blocks of a user turn.
 * 5. Consecutive turns of the same role are merged, since Anthropic requires alternation; inside a user turn the
 *    `tool_result` blocks are moved first, in their order, since Anthropic requires them before any other content.
 *    A message that converts to no block at all (blank text, no tool calls) is left out.
 * 6. Legacy function calling: an assistant `function_call` becomes a `tool_use` with an id made from its position
 *    (`call_function_<i>`), and the `function` message after it becomes that call's `tool_result`.
 *
 * @example
 * ```ts
 * toAnthropicMessages([{ role: "system", content: "Be brief" }, { role: "user", content: "Hi" }]);
 * // { system: [{ type: "text", text: "Be brief" }], messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] }
 * ```
 */
export function toAnthropicMessages(messages: OpenAIMessage[]): AnthropicConversation {
  const system: AnthropicTextBlock[] = [];
  const turns: AnthropicConversation["messages"] = [];
  const append = (role: AnthropicMessage["role"], blocks: AnthropicContentBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  /** The id given to the last legacy `function_call`, until a `function` message answers it. */
  let legacyCallId: string | undefined;
  messages.forEach((message, i) => {
    const path = `messages[${i}]`;
    switch (message?.role as string) {
      case "system":
      case "developer": // (1)
        system.push(...systemBlocks(message, path));
        break;
      case "user": // (2)
        append("user", toAnthropicBlocks(message.content, { path: `${path}.content`, role: "user" }));
        break;
      case "assistant": { // (3)
        const blocks = assistantBlocks(message, path);
        if (message.function_call !== undefined && message.function_call !== null) { // (6)
          legacyCallId = `call_function_${i}`;
          blocks.push(toolUseBlock({ id: legacyCallId, function: message.function_call }, path));
        }
        append("assistant", blocks);
        break;
      }
      case "tool": // (4)
        append("user", [toolResultBlock(message, path)]);
        break;
      case "function": // (6)
        if (legacyCallId === undefined) {
          throw invalidRequest(`${path} has role "function" but follows no assistant message with a function_call`);
        }
        append("user", [toolResultBlock({ ...message, role: "tool", tool_call_id: legacyCallId }, path)]);
        legacyCallId = undefined;
        break;
      default:
        throw invalidRequest(
          `${path}.role must be one of "system", "developer", "user", "assistant", "tool", "function": received "${
            String(message?.role)
          }"`,
        );
    }
  });
  for (const turn of turns) if (turn.role === "user") turn.content = toolResultsFirst(turn.content); // (5)
  return { system, messages: turns };
}

function systemBlocks(message: OpenAIMessage, path: string): AnthropicTextBlock[] {
  return toAnthropicBlocks(message.content, { path: `${path}.content`, role: message.role }).filter(
    (block): block is AnthropicTextBlock => block.type === "text",
  );
}

function assistantBlocks(message: OpenAIMessage, path: string): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = signedThinking(message.thinking_blocks);
  blocks.push(...toAnthropicBlocks(message.content, { path: `${path}.content`, role: "assistant" }));
  const calls = message.tool_calls ?? [];
  if (!Array.isArray(calls)) throw invalidRequest(`${path}.tool_calls must be an array`);
  calls.forEach((call, j) => blocks.push(toolUseBlock(call, `${path}.tool_calls[${j}]`)));
  return blocks;
}

/**
 * Keeps the thinking blocks that Anthropic can verify: `thinking` with a non-empty signature, and
 * `redacted_thinking` with its data. Anything else is dropped, since the upstream would reject it.
 */
function signedThinking(value: unknown): Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock> {
  if (!Array.isArray(value)) return [];
  const blocks: Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock> = [];
  for (const item of value) {
    const { type, thinking, signature, data } = (item ?? {}) as Record<string, unknown>;
    if (type === "thinking" && typeof thinking === "string" && typeof signature === "string" && signature !== "") {
      blocks.push({ type, thinking, signature });
    } else if (type === "redacted_thinking" && typeof data === "string" && data !== "") {
      blocks.push({ type, data });
    }
  }
  return blocks;
}

function toolUseBlock(call: unknown, path: string): AnthropicToolUseBlock {
  const { id, function: fn } = (call ?? {}) as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
  if (typeof id !== "string" || id === "") throw invalidRequest(`${path}.id must be a non-empty string`);
  const name = fn?.name;
  if (typeof name !== "string" || name === "") throw invalidRequest(`${path}.function.name must be a non-empty string`);
  return { type: "tool_use", id, name, input: parseArguments(fn?.arguments, `${path}.function.arguments`) };
}

/** Parses tool-call arguments into the object Anthropic's `input` needs; empty arguments mean no arguments. */
function parseArguments(value: unknown, path: string): JsonObject {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) return {};
  if (typeof value !== "string") throw invalidRequest(`${path} must be a string of JSON`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw invalidRequest(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(parsed)) throw invalidRequest(`${path} must be a JSON object: received ${value.slice(0, 100)}`);
  return parsed;
}

function toolResultBlock(message: OpenAIMessage, path: string): AnthropicToolResultBlock {
  const id = message.tool_call_id;
  if (typeof id !== "string" || id === "") throw invalidRequest(`${path}.tool_call_id must be a non-empty string`);
  const block: AnthropicToolResultBlock = { type: "tool_result", tool_use_id: id };
  const content = toAnthropicBlocks(message.content, { path: `${path}.content`, role: "tool" });
  // A single text part is sent as a plain string, the form Anthropic documents for text results.
  if (content.length === 1 && content[0].type === "text" && content[0].cache_control === undefined) {
    block.content = content[0].text;
  } else if (content.length > 0) {
    block.content = content;
  }
  return block;
}

/** Moves `tool_result` blocks to the front, keeping the order within each group. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  const results = blocks.filter((block) => block.type === "tool_result");
  if (results.length === 0) return blocks;
  return [...results, ...blocks.filter((block) => block.type !== "tool_result")];
}
