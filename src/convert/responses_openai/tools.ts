/**
 * Converts a Responses request's `tools`, `tool_choice` and `parallel_tool_calls` into their Chat Completions form.
 *
 * Only function tools reach a converted upstream. Built-in tools (`web_search`, `file_search`, `computer_use`,
 * `code_interpreter`, `mcp`, `image_generation`, `local_shell`, `shell`, `apply_patch`, and the `custom` and
 * `namespace` tools Codex sends) run inside OpenAI's service, so they are dropped: clients offer them in every
 * request, and refusing would make them unusable. Only a `tool_choice` that forces a dropped tool is refused,
 * naming it, since the answer could not honour it.
 *
 * @module
 */

import { invalidRequest } from "../openai_anthropic/invalid_request.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import type { JsonObject, OpenAIChatRequest, OpenAITool, OpenAIToolChoice } from "../../protocols/openai.ts";

/** The chat fields that carry tools; absent ones are left out of the request. */
export type ChatToolFields = Pick<OpenAIChatRequest, "tools" | "tool_choice" | "parallel_tool_calls">;

/** A name for a tool in messages: its `name`, else `server_label` (mcp), else its type. */
function toolName(tool: JsonObject): string {
  for (const field of ["name", "server_label"]) if (typeof tool[field] === "string") return tool[field];
  return String(tool.type);
}

/** Converts a flat Responses function tool into chat's nested one. */
function toChatTool(tool: JsonObject, path: string): OpenAITool {
  if (typeof tool.name !== "string" || tool.name === "") throw invalidRequest(`${path}.name must be a string`);
  const fn: OpenAITool["function"] = { name: tool.name };
  if (typeof tool.description === "string") fn.description = tool.description;
  if (isJsonObject(tool.parameters)) fn.parameters = tool.parameters;
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  return { type: "function", function: fn };
}

/** The refusal of a `tool_choice` that forces `name`, a tool the upstream cannot run. */
function forcedBuiltIn(name: string) {
  return invalidRequest(
    `tool_choice forces the built-in tool ${JSON.stringify(name)}, which the proxy cannot run against this upstream; ` +
      `offer it as a function tool or use tool_choice "auto"`,
  );
}

/** Converts `tool_choice` given the function tools kept and the dropped tools' names; gives the tools to offer. */
function toChatToolChoice(
  choice: unknown,
  functions: OpenAITool[],
  dropped: string[],
): { choice?: OpenAIToolChoice; tools: OpenAITool[] } {
  if (choice === undefined || choice === null || choice === "auto" || choice === "none") {
    return { choice: choice ?? undefined, tools: functions };
  }
  if (choice === "required") {
    if (functions.length === 0) throw forcedBuiltIn(dropped.join(", ") || "(none offered)");
    return { choice, tools: functions };
  }
  if (!isJsonObject(choice)) throw invalidRequest(`tool_choice ${JSON.stringify(choice)} is not a known choice`);
  if (choice.type === "function" && typeof choice.name === "string") {
    return { choice: { type: "function", function: { name: choice.name } }, tools: functions };
  }
  if (choice.type === "allowed_tools" && Array.isArray(choice.tools)) {
    // Chat servers seldom know allowed_tools: offer only the allowed functions instead.
    const allowed = new Set(
      choice.tools.filter((tool) => isJsonObject(tool) && tool.type === "function").map((tool) => tool.name),
    );
    const kept = functions.filter((tool) => allowed.has(tool.function.name));
    const mode = choice.mode === "required" ? "required" : "auto";
    if (mode === "required" && kept.length === 0) {
      throw forcedBuiltIn(choice.tools.map((tool) => isJsonObject(tool) ? toolName(tool) : String(tool)).join(", "));
    }
    return { choice: mode, tools: kept };
  }
  throw forcedBuiltIn(toolName(choice));
}

/**
 * Converts the tool fields.
 *
 * - `tools`: each `function` tool → `{type: "function", function: {name, description, parameters, strict}}`;
 *   every other tool is dropped (see the module note).
 * - `tool_choice`: `auto` / `none` / `required` unchanged; `{type: "function", name}` → chat's nested form;
 *   `allowed_tools` → the allowed functions only, with its mode; a choice that forces a built-in tool (or
 *   `required` when only built-in tools were offered) → 400 naming it.
 * - `parallel_tool_calls` unchanged.
 * - With no function tool left, all three are left out (servers refuse `tool_choice` without `tools`).
 *
 * @example
 * ```ts
 * toChatTools({ tools: [{ type: "web_search" }, { type: "function", name: "ls", parameters: {} }] });
 * // { tools: [{ type: "function", function: { name: "ls", parameters: {} } }] }
 * ```
 */
export function toChatTools(
  req: { tools?: unknown; tool_choice?: unknown; parallel_tool_calls?: unknown },
): ChatToolFields {
  if (req.tools !== undefined && req.tools !== null && !Array.isArray(req.tools)) {
    throw invalidRequest("tools must be an array");
  }
  const functions: OpenAITool[] = [];
  const dropped: string[] = [];
  (req.tools ?? []).forEach((tool: unknown, index: number) => {
    if (!isJsonObject(tool) || typeof tool.type !== "string") {
      throw invalidRequest(`tools[${index}] must be an object with a type`);
    }
    if (tool.type === "function") functions.push(toChatTool(tool, `tools[${index}]`));
    else dropped.push(toolName(tool));
  });
  const { choice, tools } = toChatToolChoice(req.tool_choice, functions, dropped);
  if (tools.length === 0) return {};
  const out: ChatToolFields = { tools };
  if (choice !== undefined) out.tool_choice = choice;
  if (typeof req.parallel_tool_calls === "boolean") out.parallel_tool_calls = req.parallel_tool_calls;
  return out;
}
