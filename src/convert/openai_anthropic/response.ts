/**
 * Converts a non-streamed Anthropic Messages response into an OpenAI chat completion.
 *
 * Direction: the client speaks OpenAI Chat, the upstream speaks Anthropic Messages. The small enum and usage
 * mappers are exported because the stream converter uses them too.
 *
 * @module
 */

import type {
  AnthropicContentBlock,
  AnthropicRedactedThinkingBlock,
  AnthropicResponse,
  AnthropicStopReason,
  AnthropicThinkingBlock,
  AnthropicToolUseBlock,
  AnthropicUsage,
} from "../../protocols/anthropic.ts";
import type { OpenAIChatResponse, OpenAIFinishReason, OpenAIToolCall, OpenAIUsage } from "../../protocols/openai.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import { notAMessageError } from "./error.ts";

/** Per-request facts the response converter needs. */
export interface ToOpenAIResponseContext {
  /** The model name the client asked for; echoed back instead of the upstream's name. */
  model: string;
  /** The client used legacy `functions`: a call comes back as `function_call`, not `tool_calls`. */
  legacyFunctions?: boolean;
}

/**
 * The finish reason of an answer to a legacy `functions` request: `function_call` where a tools request gets
 * `tool_calls`.
 */
export function legacyFinishReason(reason: OpenAIFinishReason): OpenAIFinishReason {
  return reason === "tool_calls" ? "function_call" : reason;
}

/** Anthropic usage as sent on the wire; newer APIs add a breakdown of the output tokens. */
export type AnthropicWireUsage = AnthropicUsage & {
  output_tokens_details?: { thinking_tokens?: number | null } | null;
};

/**
 * Maps an Anthropic stop reason to an OpenAI finish reason.
 *
 * `end_turn`, `stop_sequence` and `pause_turn` → `stop`; `max_tokens` and `model_context_window_exceeded` →
 * `length`; `tool_use` → `tool_calls`; `refusal` → `content_filter`. When the answer holds tool calls, a reason that
 * would map to `stop` (including unknown or missing ones) becomes `tool_calls`, so that clients run the calls
 * instead of dropping them (some Anthropic-compatible servers end tool turns with `end_turn`).
 *
 * @example
 * ```ts
 * stopReasonToFinishReason("max_tokens", false); // "length"
 * stopReasonToFinishReason("end_turn", true); // "tool_calls"
 * ```
 */
export function stopReasonToFinishReason(
  reason: AnthropicStopReason | string | null | undefined,
  hasToolCalls: boolean,
): OpenAIFinishReason {
  switch (reason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return hasToolCalls ? "tool_calls" : "stop";
  }
}

/**
 * Maps Anthropic usage to OpenAI usage.
 *
 * Anthropic's `input_tokens` excludes cached tokens, while OpenAI's `prompt_tokens` includes them, so cache reads
 * and cache writes are added to the prompt count and cache reads are also reported as `cached_tokens`.
 *
 * @example
 * ```ts
 * toOpenAIUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90 });
 * // { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_tokens_details: { cached_tokens: 90 } }
 * ```
 */
export function toOpenAIUsage(usage: AnthropicWireUsage): OpenAIUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = usage.input_tokens + cacheRead + (usage.cache_creation_input_tokens ?? 0);
  const out: OpenAIUsage = {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
  const thinking = usage.output_tokens_details?.thinking_tokens;
  if (typeof thinking === "number") out.completion_tokens_details = { reasoning_tokens: thinking };
  return out;
}

/**
 * Builds a chat completion id from the upstream message id, so logs of both sides can be matched; a random id is
 * used when the upstream sent none.
 *
 * @example
 * ```ts
 * chatCompletionId("msg_01XFDUDYJgAACzvnptvVoYEL"); // "chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL"
 * ```
 */
export function chatCompletionId(upstreamId: string | undefined): string {
  return `chatcmpl-${upstreamId || crypto.randomUUID()}`;
}

/**
 * Gives the id of a tool call: the upstream's, or a made-up `call_…` when an Anthropic-compatible server left it out,
 * since clients crash or fail the next turn on a call without an id (field note 9).
 *
 * @example
 * ```ts
 * toolCallId("toolu_01A"); // "toolu_01A"
 * ```
 */
export function toolCallId(upstreamId: unknown): string {
  return typeof upstreamId === "string" && upstreamId !== "" ? upstreamId : `call_${crypto.randomUUID()}`;
}

/** The current time in whole seconds, as OpenAI's `created` field. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Converts a Messages response into a chat completion.
 *
 * - `content`: the text blocks joined without separator (as a streaming client would concatenate them); `null`
 *   when there is no text but there are tool calls, `""` when there is neither.
 * - `reasoning_content`: the thinking blocks joined with a blank line; absent when there are none.
 * - `thinking_blocks`: the signed thinking and redacted-thinking blocks, verbatim (LiteLLM's convention). A client
 *   that sends the message back unchanged lets `toAnthropicRequest` return them to the upstream, which
 *   Anthropic requires to keep thinking on during a tool loop.
 * - `tool_calls`: one per `tool_use` block, `arguments` being the input as JSON text; for a legacy `functions`
 *   request, the first call as `function_call` instead, with `finish_reason: "function_call"`.
 * - Other blocks (server tools and their results) have no OpenAI equivalent and are left out.
 *
 * A body that is not a Messages response (an Anthropic error sent with status 200, or anything else) throws the
 * 502 `ProxyError` of `notAMessageError`, never a `TypeError`.
 *
 * @example
 * ```ts
 * const completion = toOpenAIResponse(message, { model: "claude-sonnet" });
 * completion.choices[0].message.content; // "Hello"
 * ```
 */
export function toOpenAIResponse(body: unknown, ctx: ToOpenAIResponseContext): OpenAIChatResponse {
  const resp = asMessage(body);
  const texts: string[] = [];
  const thoughts: string[] = [];
  const signed: Array<AnthropicThinkingBlock | AnthropicRedactedThinkingBlock> = [];
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of resp.content) {
    if (!isJsonObject(block)) continue;
    if (isBlock<AnthropicToolUseBlock>(block, "tool_use")) {
      toolCalls.push({
        id: toolCallId(block.id),
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    } else if (isBlock<AnthropicThinkingBlock>(block, "thinking")) {
      if (block.thinking !== "") thoughts.push(block.thinking);
      signed.push(block);
    } else if (isBlock<AnthropicRedactedThinkingBlock>(block, "redacted_thinking")) {
      signed.push(block);
    } else if (block.type === "text" && typeof block.text === "string") {
      texts.push(block.text);
    }
  }
  const message: OpenAIChatResponse["choices"][number]["message"] = {
    role: "assistant",
    content: texts.length === 0 && toolCalls.length > 0 ? null : texts.join(""),
    refusal: null,
  };
  if (thoughts.length > 0) message.reasoning_content = thoughts.join("\n\n");
  if (signed.length > 0) message.thinking_blocks = signed;
  const legacy = ctx.legacyFunctions === true;
  if (legacy && toolCalls.length > 0) message.function_call = toolCalls[0].function;
  else if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const finish = stopReasonToFinishReason(resp.stop_reason, toolCalls.length > 0);
  return {
    id: chatCompletionId(resp.id),
    object: "chat.completion",
    created: unixSeconds(),
    model: ctx.model,
    choices: [{ index: 0, message, finish_reason: legacy ? legacyFinishReason(finish) : finish }],
    usage: toOpenAIUsage(resp.usage),
  };
}

/** The body as a Messages response, or throws the 502 of {@link notAMessageError} when it is not one. */
function asMessage(body: unknown): AnthropicResponse {
  const fields = isJsonObject(body) ? body : {};
  if (!Array.isArray(fields.content) || fields.type === "error") throw notAMessageError(body);
  const usage = isJsonObject(fields.usage) ? fields.usage : {};
  return { ...fields, usage: { input_tokens: 0, output_tokens: 0, ...usage } } as AnthropicResponse;
}

/** Narrows a content block by its `type`. */
function isBlock<T extends AnthropicContentBlock>(block: AnthropicContentBlock, type: T["type"]): block is T {
  return block.type === type;
}
