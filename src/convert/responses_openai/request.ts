/**
 * Converts an OpenAI Responses request into a Chat Completions request: the one internal mapping of the Responses
 * dialect. A chat upstream gets its result; an Anthropic upstream gets it through the chat → Anthropic converter
 * (`convert/openai_anthropic/`), so the Responses mapping exists once.
 *
 * @module
 */

import { invalidRequest } from "../openai_anthropic/invalid_request.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import type { JsonObject, OpenAIChatRequest } from "../../protocols/openai.ts";
import type { ResponsesRequest } from "../../protocols/openai_responses_types.ts";
import { toChatMessages } from "./input.ts";
import { toChatTools } from "./tools.ts";

/** The result of {@link toChatRequest}. */
export interface ResponsesToChat {
  /** The chat request, without any reasoning switch. */
  request: OpenAIChatRequest;
  /**
   * `reasoning.effort` as the client sent it (`none`, `minimal`, `low`, `medium`, `high`, `xhigh`), or `undefined`.
   * Upstreams switch reasoning differently, so the caller maps it to the upstream's style: `reasoning_effort` for
   * OpenAI-style servers and for the pivot to Anthropic (whose converter turns it into a thinking budget),
   * `chat_template_kwargs` or a `thinking` object for others.
   */
  reasoningEffort: string | undefined;
}

/**
 * Fields that are accepted and left out: they concern OpenAI's service (storage, caching, tiers, telemetry,
 * truncation, obfuscation of stream events, output verbosity, logprobs) and have no chat equivalent a local server
 * would honour. Listed to document the decision; every field not mapped is left out alike.
 */
export const IGNORED_FIELDS: readonly string[] = [
  "store",
  "include",
  "metadata",
  "prompt_cache_key",
  "prompt_cache_retention",
  "client_metadata",
  "service_tier",
  "safety_identifier",
  "truncation",
  "stream_options",
  "max_tool_calls",
  "top_logprobs",
  "background",
  "context_management",
];

/** Fields that need server-side state the proxy does not keep, with why they are refused. */
const STATEFUL_FIELDS: Readonly<Record<string, string>> = {
  previous_response_id:
    "the proxy keeps no responses (send the whole conversation in input, or enable the responses store)",
  conversation: "the proxy keeps no conversations; send the whole conversation in input",
  prompt: "prompt templates live in OpenAI's service; send instructions and input instead",
};

/** Converts `text.format` into `response_format`, or `undefined` for plain text. */
function responseFormat(text: unknown): JsonObject | undefined {
  if (text === undefined || text === null) return undefined;
  if (!isJsonObject(text)) throw invalidRequest("text must be an object");
  const format = text.format;
  if (format === undefined || format === null) return undefined;
  if (!isJsonObject(format)) throw invalidRequest("text.format must be an object");
  switch (format.type) {
    case "text":
      return undefined;
    case "json_object":
      return { type: "json_object" };
    case "json_schema": {
      if (typeof format.name !== "string" || !isJsonObject(format.schema)) {
        throw invalidRequest("text.format json_schema needs a name and a schema object");
      }
      const schema: JsonObject = { name: format.name, schema: format.schema };
      if (typeof format.description === "string") schema.description = format.description;
      if (typeof format.strict === "boolean") schema.strict = format.strict;
      return { type: "json_schema", json_schema: schema };
    }
  }
  throw invalidRequest(
    `text.format.type ${JSON.stringify(format.type)} is not one of "text", "json_object", "json_schema"`,
  );
}

/** Reads `reasoning.effort`, or `undefined`. */
function reasoningEffort(reasoning: unknown): string | undefined {
  if (!isJsonObject(reasoning)) return undefined;
  return typeof reasoning.effort === "string" ? reasoning.effort : undefined;
}

/** Copies a number field when the client set one (`null` counts as unset). */
function copyNumber(out: OpenAIChatRequest, to: string, value: unknown, from: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== "number") throw invalidRequest(`${from} must be a number`);
  out[to] = value;
}

/**
 * Converts a Responses request into a chat request.
 *
 * - `model`, `stream`, `user` unchanged; a streamed request asks for `stream_options.include_usage`, since
 *   `response.completed` carries usage.
 * - `instructions` and `input` → `messages` (see `toChatMessages`); tools (see `toChatTools`).
 * - `max_output_tokens` → `max_tokens`; `temperature` and `top_p` unchanged.
 * - `text.format`: `json_schema` → `response_format: {type: "json_schema", json_schema: {name, schema, …}}`,
 *   `json_object` → `{type: "json_object"}`, `text` → nothing.
 * - `reasoning.effort` → {@link ResponsesToChat.reasoningEffort}; `reasoning.summary` is left out.
 * - `previous_response_id`, `conversation` and `prompt` → 400 saying why (they need state the proxy does not keep);
 *   `background: true` is accepted as a plain request. The {@link IGNORED_FIELDS} and any other field are left out.
 *
 * @example
 * ```ts
 * toChatRequest({ model: "qwen", input: "Hi", max_output_tokens: 100, reasoning: { effort: "low" } });
 * // { request: { model: "qwen", messages: [{ role: "user", content: "Hi" }], max_tokens: 100 },
 * //   reasoningEffort: "low" }
 * ```
 */
export function toChatRequest(req: ResponsesRequest): ResponsesToChat {
  for (const [field, why] of Object.entries(STATEFUL_FIELDS)) {
    if (req[field] !== undefined && req[field] !== null) throw invalidRequest(`${field} is not supported: ${why}`);
  }
  const request: OpenAIChatRequest = {
    model: req.model,
    messages: toChatMessages(req.instructions, req.input),
    ...toChatTools(req),
  };
  if (req.stream === true) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  copyNumber(request, "max_tokens", req.max_output_tokens, "max_output_tokens");
  copyNumber(request, "temperature", req.temperature, "temperature");
  copyNumber(request, "top_p", req.top_p, "top_p");
  const format = responseFormat(req.text);
  if (format !== undefined) request.response_format = format;
  if (typeof req.user === "string") request.user = req.user;
  return { request, reasoningEffort: reasoningEffort(req.reasoning) };
}
