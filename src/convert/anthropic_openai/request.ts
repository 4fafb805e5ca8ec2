/**
 * Converts an Anthropic Messages request into an OpenAI chat completion request, for an Anthropic client (Claude
 * Code, the Anthropic SDK) in front of an upstream that speaks only OpenAI.
 *
 * The output is built field by field from what OpenAI understands, so nothing Anthropic-only (`cache_control`,
 * `citations`, `service_tier`, `container`, `context_management`, betas) can leak through (field note 17).
 *
 * @module
 */

import type { AnthropicRequest } from "../../protocols/anthropic.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import type { OpenAIChatRequest } from "../../protocols/openai.ts";
import { toOpenAIMessages } from "./messages.ts";
import { reasoningFields, type ReasoningStyle } from "./reasoning.ts";
import { toOpenAIToolChoice, toOpenAITools } from "./tools.ts";
import { invalidRequest } from "./validation.ts";

export type { ReasoningStyle } from "./reasoning.ts";

/** Options of {@link toOpenAIRequest}: what the upstream understands. */
export interface AnthropicToOpenAIOptions {
  /** How this upstream is told to think; see {@link ReasoningStyle}. */
  reasoning: ReasoningStyle;
  /**
   * JSON Schema keywords removed from tool schemas, e.g. `GRAMMAR_UNSAFE_SCHEMA_KEYWORDS` from `schema.ts` for
   * llama.cpp, whose grammar builder rejects some of them (field note 20).
   *
   * @default {[]}
   */
  dropSchemaKeywords?: readonly string[];
}

/** Reads an optional numeric field, rejecting a value of the wrong type. */
function optionalNumber(
  req: AnthropicRequest,
  key: "max_tokens" | "temperature" | "top_p" | "top_k",
): number | undefined {
  const value: unknown = req[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalidRequest(`${key} must be a number`);
  return value;
}

function stopSequences(req: AnthropicRequest): string[] {
  const value: unknown = req.stop_sequences;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw invalidRequest("stop_sequences must be an array of strings");
  }
  return value.filter((item) => item !== "");
}

/** Maps Anthropic structured output (`output_config.format`) to OpenAI's `response_format`. */
function responseFormat(req: AnthropicRequest): Partial<OpenAIChatRequest> {
  const format = (req.output_config as { format?: { type?: unknown; schema?: unknown } } | undefined)?.format;
  if (format?.type !== "json_schema") return {};
  return { response_format: { type: "json_schema", json_schema: { name: "output", schema: format.schema } } };
}

/**
 * Converts an Anthropic Messages request to an OpenAI chat request for an upstream configured by `options`.
 *
 * Mapped: `system`, `messages` (see `messages.ts`), `tools` and `tool_choice` (see `tools.ts`), `max_tokens`,
 * `temperature`, `top_p`, `top_k`, `stop_sequences`→`stop`, `metadata.user_id`→`user`, `stream` (always with
 * `stream_options.include_usage`, so usage arrives, field note 12), `thinking` (see `reasoning.ts`) and
 * `output_config.format`→`response_format`. The client's `model` is kept. Throws a 400 `ProxyError`
 * for input that is invalid or cannot be converted.
 *
 * @example
 * ```ts
 * toOpenAIRequest(
 *   { model: "qwen3", max_tokens: 1024, stream: true, messages: [{ role: "user", content: "Hi" }] },
 *   { reasoning: "none" },
 * );
 * // { model: "qwen3", messages: [{ role: "user", content: "Hi" }], max_tokens: 1024, stream: true,
 * //   stream_options: { include_usage: true } }
 * ```
 */
export function toOpenAIRequest(req: AnthropicRequest, options: AnthropicToOpenAIOptions): OpenAIChatRequest {
  const { reasoning, dropSchemaKeywords = [] } = options;
  if (!isJsonObject(req)) throw invalidRequest("The request body must be an object");
  if (typeof req.model !== "string" || req.model === "") throw invalidRequest("model must be a non-empty string");
  if (!Array.isArray(req.messages) || req.messages.length === 0) {
    throw invalidRequest("messages must be a non-empty array");
  }

  const out: OpenAIChatRequest = { model: req.model, messages: toOpenAIMessages(req) };
  for (const key of ["max_tokens", "temperature", "top_p", "top_k"] as const) {
    const value = optionalNumber(req, key);
    if (value !== undefined) out[key] = value;
  }
  const stop = stopSequences(req);
  if (stop.length > 0) out.stop = stop;

  if (req.tools !== undefined && req.tools !== null && !Array.isArray(req.tools)) {
    throw invalidRequest("tools must be an array");
  }
  const tools = toOpenAITools(req.tools ?? [], { dropSchemaKeywords });
  if (tools.length > 0) out.tools = tools;
  Object.assign(out, toOpenAIToolChoice(req.tool_choice, tools.map((tool) => tool.function.name)));

  const user = req.metadata?.user_id;
  if (typeof user === "string" && user !== "") out.user = user;
  if (typeof req.stream === "boolean") out.stream = req.stream;
  if (req.stream === true) out.stream_options = { include_usage: true };
  Object.assign(out, responseFormat(req), reasoningFields(req, reasoning));
  return out;
}
