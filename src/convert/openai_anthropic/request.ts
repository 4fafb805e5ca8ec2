/**
 * Converts an OpenAI chat completion request into an Anthropic Messages request.
 *
 * Direction: the client speaks OpenAI Chat, the upstream speaks Anthropic Messages.
 *
 * Only the keys listed on {@link toAnthropicRequest} are forwarded; OpenAI-only keys (`frequency_penalty`,
 * `presence_penalty`, `logit_bias`, `logprobs`, `seed`, `stream_options`, `metadata`, `store`, `service_tier`,
 * …) are dropped, since Anthropic rejects unknown keys.
 *
 * @module
 */

import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
} from "../../protocols/anthropic.ts";
import type { JsonObject, OpenAIChatRequest, OpenAITool, OpenAIToolChoice } from "../../protocols/openai.ts";
import { invalidRequest } from "./invalid_request.ts";
import { toAnthropicMessages } from "./messages.ts";

/** Options of {@link toAnthropicRequest}. */
export interface ToAnthropicRequestOptions {
  /** `max_tokens` to send when the client sets neither `max_completion_tokens` nor `max_tokens`; Anthropic needs one. */
  defaultMaxTokens: number;
}

/**
 * Thinking budgets (in tokens) for each OpenAI `reasoning_effort`. `minimal` is Anthropic's smallest allowed budget;
 * each step roughly doubles; `none` turns thinking off.
 */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 24576,
  max: 32768,
};

/** Added to the system prompt for `response_format: {type: "json_object"}`, which Anthropic has no switch for. */
export const JSON_OBJECT_INSTRUCTION = "Respond with a single valid JSON object and no other text.";

/** Anthropic's upper bound for `temperature`; OpenAI allows up to 2. */
const MAX_TEMPERATURE = 1;

/** With thinking on, Anthropic accepts `top_p` only in [0.95, 1]. */
const MIN_THINKING_TOP_P = 0.95;

/**
 * Maps `reasoning_effort` to a thinking budget (see {@link THINKING_BUDGETS}); `undefined` means no thinking.
 *
 * @example
 * ```ts
 * thinkingBudget("high"); // 16384
 * thinkingBudget("none"); // undefined
 * ```
 */
export function thinkingBudget(effort: unknown): number | undefined {
  if (effort === undefined || effort === null || effort === "none") return undefined;
  const budget = typeof effort === "string" && Object.hasOwn(THINKING_BUDGETS, effort)
    ? THINKING_BUDGETS[effort]
    : undefined;
  if (budget === undefined) {
    const valid = ["none", ...Object.keys(THINKING_BUDGETS)].map((name) => `"${name}"`).join(", ");
    throw invalidRequest(`reasoning_effort must be one of ${valid}: received ${JSON.stringify(effort)}`);
  }
  return budget;
}

/**
 * Maps `tool_choice` and `parallel_tool_calls` to Anthropic's `tool_choice`.
 *
 * `"auto"` → `{type:"auto"}`, `"required"` → `{type:"any"}`, `"none"` → `{type:"none"}`, a named function →
 * `{type:"tool", name}`. `parallel_tool_calls: false` sets `disable_parallel_tool_use: true`, creating
 * `{type:"auto"}` when no choice was given. Gives `undefined` when there is nothing to send.
 *
 * @example
 * ```ts
 * toAnthropicToolChoice("required", false); // { type: "any", disable_parallel_tool_use: true }
 * ```
 */
export function toAnthropicToolChoice(
  choice: OpenAIToolChoice | null | undefined,
  parallelToolCalls: boolean | null | undefined,
): AnthropicToolChoice | undefined {
  const serial = parallelToolCalls === false;
  let out: AnthropicToolChoice | undefined;
  if (choice === undefined || choice === null) out = serial ? { type: "auto" } : undefined;
  else if (choice === "auto") out = { type: "auto" };
  else if (choice === "required") out = { type: "any" };
  else if (choice === "none") return { type: "none" };
  else if (choice.type === "function" && typeof choice.function?.name === "string" && choice.function.name !== "") {
    out = { type: "tool", name: choice.function.name };
  } else {
    throw invalidRequest(
      `tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}: received ${
        JSON.stringify(choice)
      }`,
    );
  }
  if (out !== undefined && serial) out.disable_parallel_tool_use = true;
  return out;
}

/**
 * Converts a chat completion request into a Messages request.
 *
 * Forwarded, converted:
 * - `messages` (see `toAnthropicMessages`: system and developer messages anywhere go to `system`).
 * - `max_completion_tokens`, else `max_tokens`, else `options.defaultMaxTokens` → `max_tokens`.
 * - `temperature`, clamped to 1 (OpenAI allows up to 2, Anthropic up to 1); `top_p`; `top_k`; `stream`.
 * - `stop` (a string or an array) → `stop_sequences`, empty strings left out.
 * - `tools` → `{name, description, input_schema, strict}`; `input_schema` defaults to an empty object schema.
 * - `tool_choice` and `parallel_tool_calls` (see {@link toAnthropicToolChoice}), sent only when there are tools,
 *   since Anthropic rejects `tool_choice` without them.
 * - Legacy `functions` and `function_call` (when there are no `tools`) → tools and a tool choice without parallel
 *   calls; `function_call` and `function` messages → `tool_use` and `tool_result` (see `toAnthropicMessages`).
 * - `user` (or `safety_identifier`) → `metadata.user_id`.
 * - `response_format`: `json_schema` → `output_config.format` (Anthropic's structured outputs); `json_object` →
 *   {@link JSON_OBJECT_INSTRUCTION} appended to `system`; `text` → nothing.
 * - `reasoning_effort` → `thinking: {type:"enabled", budget_tokens}` (see {@link THINKING_BUDGETS}).
 *
 * Thinking follows Anthropic's rules:
 * 1. It is left off when the request forces a tool (`required` or a named function), ends with an assistant
 *    message (a prefill), or continues a tool loop whose last assistant turn has no signed thinking block: Anthropic
 *    rejects each of these with thinking on, and the client's explicit request wins over a reasoning hint.
 * 2. `max_tokens` counts thinking, so when it is not above the budget it is raised to budget + `max_tokens`.
 * 3. `temperature` other than 1 and `top_k` are dropped, and `top_p` below 0.95 is dropped.
 *
 * Throws a 400 {@link ProxyError} for what cannot be converted: no messages, `n` other than 1, a content part
 * Anthropic cannot hold (`input_audio`, a `file_id`), tool-call arguments that are not a JSON object, an unknown
 * role, `reasoning_effort`, `tool_choice` or `response_format`.
 *
 * @example
 * ```ts
 * const body = toAnthropicRequest({ model: "claude", messages: [{ role: "user", content: "Hi" }] }, {
 *   defaultMaxTokens: 4096,
 * });
 * // { model: "claude", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }], max_tokens: 4096 }
 * ```
 */
export function toAnthropicRequest(req: OpenAIChatRequest, options: ToAnthropicRequestOptions): AnthropicRequest {
  if (!Array.isArray(req.messages) || req.messages.length === 0) {
    throw invalidRequest("messages must be a non-empty array");
  }
  if (req.n !== undefined && req.n !== null && req.n !== 1) {
    throw invalidRequest(`n must be 1, since Anthropic returns one choice: received ${JSON.stringify(req.n)}`);
  }
  const { system, messages } = toAnthropicMessages(req.messages);
  if (messages.length === 0) throw invalidRequest("messages must hold at least one non-empty user or assistant turn");
  const out: AnthropicRequest = {
    model: req.model,
    messages,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? options.defaultMaxTokens,
  };
  if (typeof req.stream === "boolean") out.stream = req.stream;
  applySampling(out, req);
  applyTools(out, req);
  const user = req.user ?? req.safety_identifier;
  if (typeof user === "string" && user !== "") out.metadata = { user_id: user };
  applyResponseFormat(out, system, req.response_format);
  if (system.length > 0) out.system = system;
  applyThinking(out, thinkingBudget(req.reasoning_effort));
  return out;
}

function applySampling(out: AnthropicRequest, req: OpenAIChatRequest): void {
  if (typeof req.temperature === "number") out.temperature = Math.min(req.temperature, MAX_TEMPERATURE);
  if (typeof req.top_p === "number") out.top_p = req.top_p;
  if (typeof req.top_k === "number") out.top_k = req.top_k;
  const stops = typeof req.stop === "string" ? [req.stop] : Array.isArray(req.stop) ? req.stop : [];
  const sequences = stops.filter((stop): stop is string => typeof stop === "string" && stop !== "");
  if (sequences.length > 0) out.stop_sequences = sequences;
}

function applyTools(out: AnthropicRequest, req: OpenAIChatRequest): void {
  if (usesLegacyFunctions(req)) return applyLegacyFunctions(out, req);
  if (req.tools === undefined || req.tools === null) return;
  if (!Array.isArray(req.tools)) throw invalidRequest("tools must be an array");
  if (req.tools.length === 0) return;
  out.tools = req.tools.map((tool, i) => toAnthropicTool(tool, `tools[${i}]`));
  const choice = toAnthropicToolChoice(req.tool_choice, req.parallel_tool_calls);
  if (choice !== undefined) out.tool_choice = choice;
}

/**
 * Tells whether a request uses OpenAI's legacy function calling (`functions`, no `tools`); its answer then carries
 * `function_call` instead of `tool_calls`.
 */
export function usesLegacyFunctions(req: OpenAIChatRequest): boolean {
  const noTools = req.tools === undefined || req.tools === null || (Array.isArray(req.tools) && req.tools.length === 0);
  return noTools && Array.isArray(req.functions) && req.functions.length > 0;
}

/**
 * Legacy `functions` become tools and `function_call` the tool choice ("auto", "none" or `{name}`), with parallel
 * calls off, since a legacy answer holds one call.
 */
function applyLegacyFunctions(out: AnthropicRequest, req: OpenAIChatRequest): void {
  const functions = req.functions as unknown[];
  out.tools = functions.map((fn, i) =>
    toAnthropicTool({ type: "function", function: fn } as OpenAITool, `functions[${i}]`)
  );
  const call = req.function_call;
  const name = (call as { name?: unknown } | null | undefined)?.name;
  const choice: OpenAIToolChoice | undefined = call === "auto" || call === "none"
    ? call
    : typeof name === "string"
    ? { type: "function", function: { name } }
    : undefined;
  if (call !== undefined && call !== null && choice === undefined) {
    throw invalidRequest(`function_call must be "auto", "none" or {"name":…}: received ${JSON.stringify(call)}`);
  }
  out.tool_choice = toAnthropicToolChoice(choice, false);
}

function toAnthropicTool(tool: OpenAITool, path: string): AnthropicTool {
  const fn = tool?.type === "function" ? tool.function : undefined;
  if (typeof fn?.name !== "string" || fn.name === "") {
    throw invalidRequest(`${path} must be a function tool with a non-empty function.name`);
  }
  // Anthropic requires an object schema; OpenAI allows leaving parameters out for a tool without arguments.
  const out: AnthropicTool = { name: fn.name, input_schema: { type: "object", properties: {}, ...fn.parameters } };
  if (typeof fn.description === "string" && fn.description !== "") out.description = fn.description;
  if (fn.strict === true) out.strict = true;
  return out;
}

function applyResponseFormat(out: AnthropicRequest, system: AnthropicTextBlock[], format: unknown): void {
  if (format === undefined || format === null) return;
  const { type, json_schema: jsonSchema } = format as { type?: unknown; json_schema?: { schema?: unknown } };
  if (type === "text") return;
  if (type === "json_object") {
    system.push({ type: "text", text: JSON_OBJECT_INSTRUCTION });
    return;
  }
  const schema = jsonSchema?.schema;
  if (type === "json_schema" && typeof schema === "object" && schema !== null) {
    out.output_config = { format: { type: "json_schema", schema: schema as JsonObject } };
    return;
  }
  throw invalidRequest(
    `response_format must be {"type":"text"}, {"type":"json_object"} or {"type":"json_schema","json_schema":{"schema":…}}: received ${
      JSON.stringify(format)
    }`,
  );
}

function applyThinking(out: AnthropicRequest, budget: number | undefined): void {
  if (budget === undefined || !canThink(out)) return; // (1)
  out.thinking = { type: "enabled", budget_tokens: budget };
  if (out.max_tokens <= budget) out.max_tokens += budget; // (2)
  if (out.temperature !== undefined && out.temperature !== 1) delete out.temperature; // (3)
  delete out.top_k;
  if (out.top_p !== undefined && out.top_p < MIN_THINKING_TOP_P) delete out.top_p;
}

/** Tells whether Anthropic accepts thinking for this request (rule 1 of {@link toAnthropicRequest}). */
function canThink(out: AnthropicRequest): boolean {
  const forced = out.tool_choice?.type === "any" || out.tool_choice?.type === "tool";
  if (forced || out.messages.at(-1)?.role === "assistant") return false;
  const lastAssistant = out.messages.findLast((message) => message.role === "assistant");
  if (lastAssistant === undefined || !hasToolUse(lastAssistant)) return true;
  const first = (lastAssistant.content as AnthropicContentBlock[])[0];
  return first.type === "thinking" || first.type === "redacted_thinking";
}

function hasToolUse(message: AnthropicMessage): boolean {
  return Array.isArray(message.content) && message.content.some((block) => block.type === "tool_use");
}
