/**
 * Converts Anthropic tool definitions and `tool_choice` to OpenAI function tools.
 *
 * Server tools (a `type` such as `web_search_20250305` or `bash_20250124`) are rejected with a 400, not dropped:
 * an OpenAI upstream cannot run them, and dropping one would let the model answer as if it had searched.
 *
 * @module
 */

import type { AnthropicTool, AnthropicToolChoice } from "../../protocols/anthropic.ts";
import type { OpenAITool, OpenAIToolChoice } from "../../protocols/openai.ts";
import { dropSchemaKeywords } from "./schema.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import { invalidRequest } from "./validation.ts";

/** Options of {@link toOpenAITools}. */
export interface ToolConversionOptions {
  /**
   * JSON Schema keywords removed from every tool schema.
   *
   * @default {[]}
   */
  dropSchemaKeywords?: readonly string[];
}

/**
 * Converts Anthropic tools to OpenAI function tools: name, description and `input_schema` as `parameters`.
 * `cache_control` and other Anthropic-only fields are left behind. Throws a 400 `ProxyError` for a server
 * tool or a tool without a name.
 *
 * @example
 * ```ts
 * toOpenAITools([{ name: "Read", description: "Reads a file", input_schema: { type: "object" } }]);
 * // [{ type: "function", function: { name: "Read", description: "Reads a file", parameters: { type: "object" } } }]
 * ```
 */
export function toOpenAITools(tools: readonly AnthropicTool[], options: ToolConversionOptions = {}): OpenAITool[] {
  const { dropSchemaKeywords: keywords = [] } = options;
  return tools.map((tool, position) => {
    if (!isJsonObject(tool)) throw invalidRequest(`tools[${position}] must be an object`);
    if (tool.type !== undefined && tool.type !== "custom") {
      throw invalidRequest(
        `Tool type "${tool.type}" is an Anthropic server tool that an OpenAI-compatible upstream cannot run: remove it from tools`,
      );
    }
    if (typeof tool.name !== "string" || tool.name === "") {
      throw invalidRequest(`tools[${position}].name must not be empty`);
    }
    const schema = isJsonObject(tool.input_schema) ? tool.input_schema : { type: "object", properties: {} };
    const fn: OpenAITool["function"] = { name: tool.name, parameters: dropSchemaKeywords(schema, keywords) };
    if (typeof tool.description === "string" && tool.description !== "") fn.description = tool.description;
    return { type: "function", function: fn };
  });
}

/** The OpenAI fields that carry an Anthropic `tool_choice`. */
export interface OpenAIToolChoiceFields {
  /** The converted choice; absent when no tools are sent. */
  tool_choice?: OpenAIToolChoice;
  /** `false` when the client disabled parallel tool use. */
  parallel_tool_calls?: boolean;
}

/**
 * Converts an Anthropic `tool_choice`: auto→"auto", any→"required", tool→the named function, none→"none";
 * `disable_parallel_tool_use` becomes `parallel_tool_calls: false`. Without tools nothing is sent, as OpenAI
 * rejects a `tool_choice` without tools; with tools and no choice, "auto" is sent explicitly because vLLM's tool
 * parsers were flaky without it (field note 16).
 *
 * @example
 * ```ts
 * toOpenAIToolChoice({ type: "any", disable_parallel_tool_use: true }, ["Bash"]);
 * // { tool_choice: "required", parallel_tool_calls: false }
 * ```
 */
export function toOpenAIToolChoice(
  choice: AnthropicToolChoice | undefined,
  toolNames: readonly string[],
): OpenAIToolChoiceFields {
  if (toolNames.length === 0) return {};
  if (choice === undefined || choice === null) return { tool_choice: "auto" };
  if (!isJsonObject(choice)) throw invalidRequest("tool_choice must be an object");
  const fields: OpenAIToolChoiceFields = {};
  const received = String(choice.type);
  switch (choice.type) {
    case "auto":
      fields.tool_choice = "auto";
      break;
    case "any":
      fields.tool_choice = "required";
      break;
    case "none":
      fields.tool_choice = "none";
      break;
    case "tool":
      if (!toolNames.includes(choice.name)) {
        throw invalidRequest(`tool_choice names the tool "${choice.name}", which is not in tools`);
      }
      fields.tool_choice = { type: "function", function: { name: choice.name } };
      break;
    default:
      throw invalidRequest(`tool_choice.type must be "auto", "any", "tool" or "none": received "${received}"`);
  }
  if ("disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use === true) {
    fields.parallel_tool_calls = false;
  }
  return fields;
}
