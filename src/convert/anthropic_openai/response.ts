/**
 * Converts a non-streamed OpenAI chat completion into an Anthropic Messages response, for an Anthropic client in
 * front of an OpenAI upstream. Also holds the enum and usage mappings the stream converter shares.
 *
 * @module
 */

import type {
  AnthropicContentBlock,
  AnthropicResponse,
  AnthropicStopReason,
  AnthropicUsage,
} from "../../protocols/anthropic.ts";
import type { JsonObject, OpenAIChatResponse, OpenAIFinishReason, OpenAIUsage } from "../../protocols/openai.ts";
import { ProxyError } from "../../http/errors.ts";
import { textTokenWeight } from "../count_tokens.ts";
import { contentPieces } from "./content_parts.ts";
import { embeddedUpstreamError } from "./error.ts";
import { SYNTHETIC_THINKING_SIGNATURE, toMessageId, toToolUseId, UNNAMED_TOOL_NAME } from "./synthetic.ts";
import { ThinkTagSplitter } from "./think_tags.ts";
import { isJsonObject } from "../../protocols/json_object.ts";

/** What the converter knows about the client's request. */
export interface AnthropicResponseContext {
  /** The model the client asked for; the response names it, not the upstream's model. */
  model: string;
  /** The client's `stop_sequences`, to tell a stop sequence from a natural end. */
  stopSequences?: string[];
  /** Estimates the prompt's tokens, for an upstream that reports no usage; without it they count as 0. */
  estimateInputTokens?: () => number;
}

const STOP_REASONS: Readonly<Record<string, AnthropicStopReason>> = {
  stop: "end_turn",
  eos: "end_turn",
  end_turn: "end_turn",
  length: "max_tokens",
  max_tokens: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  tool_use: "tool_use",
  content_filter: "refusal",
  refusal: "refusal",
};

/**
 * Maps an OpenAI `finish_reason` to an Anthropic `stop_reason`: stop→end_turn, length→max_tokens,
 * tool_calls→tool_use, content_filter→refusal, plus the spellings some local servers use. A missing or unknown
 * reason is a natural end; callers still force `tool_use` when a tool call was emitted (field note 27).
 *
 * @example
 * ```ts
 * finishReasonToStopReason("length"); // "max_tokens"
 * ```
 */
export function finishReasonToStopReason(reason: OpenAIFinishReason | null | undefined): AnthropicStopReason {
  return (reason !== null && reason !== undefined && Object.hasOwn(STOP_REASONS, reason))
    ? STOP_REASONS[reason]
    : "end_turn";
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * Maps OpenAI usage to Anthropic usage.
 *
 * OpenAI counts cached prompt tokens inside `prompt_tokens`, while Anthropic's `input_tokens` excludes
 * `cache_read_input_tokens`; the cached part is moved, not added, so the total stays the same (field note 13).
 * DeepSeek reports the cached part as `prompt_cache_hit_tokens`.
 *
 * @example
 * ```ts
 * toAnthropicUsage({ prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 80 } });
 * // { input_tokens: 20, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 80 }
 * ```
 */
export function toAnthropicUsage(usage: OpenAIUsage): AnthropicUsage {
  const prompt = count(usage.prompt_tokens);
  const cached = Math.min(
    prompt,
    count(usage.prompt_tokens_details?.cached_tokens) ||
      count((usage as { prompt_cache_hit_tokens?: unknown }).prompt_cache_hit_tokens),
  );
  return {
    input_tokens: prompt - cached,
    output_tokens: count(usage.completion_tokens),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** Options of {@link matchStopSequence}. */
export interface StopSequenceOptions {
  /** Values upstreams use to name the stop string, from {@link reportedStopStrings}. */
  reported: readonly unknown[];
  /** The client's `stop_sequences`. */
  stopSequences?: readonly string[];
}

/**
 * Finds which of the client's stop sequences ended the output.
 *
 * An upstream may name it (vLLM's `stop_reason`, llama.cpp's `stopping_word`, or a `stop_sequence` field);
 * otherwise the output is checked for ending with one, for servers that keep it in the text. llama.cpp strips it
 * and names nothing, which leaves such a stop indistinguishable from `end_turn`.
 *
 * @example
 * ```ts
 * matchStopSequence("42</answer>", { reported: [], stopSequences: ["</answer>"] }); // "</answer>"
 * ```
 */
export function matchStopSequence(outputTail: string, options: StopSequenceOptions): string | null {
  const { reported, stopSequences = [] } = options;
  for (const value of reported) {
    if (typeof value === "string" && stopSequences.includes(value)) return value;
  }
  return stopSequences.find((sequence) => sequence !== "" && outputTail.endsWith(sequence)) ?? null;
}

/** The fields of a choice or response where upstreams name the stop string that ended the output. */
export function reportedStopStrings(...sources: Record<string, unknown>[]): unknown[] {
  return sources.flatMap((source) => [source.stop_reason, source.stopping_word, source.stop_sequence]);
}

/** The final stop reason and sequence of a message. */
export interface StopOutcome {
  /** Why the message ended. */
  stop_reason: AnthropicStopReason;
  /** The stop sequence that ended it, when `stop_reason` is `stop_sequence`. */
  stop_sequence: string | null;
}

/**
 * Decides a message's stop reason: `tool_use` whenever a tool call was emitted, whatever the upstream said;
 * `stop_sequence` when a natural end matched one of the client's stop sequences; else the mapped finish reason.
 */
export function resolveStop(
  finishReason: OpenAIFinishReason | null | undefined,
  options: { emittedToolUse: boolean; stopSequence: string | null },
): StopOutcome {
  if (options.emittedToolUse) return { stop_reason: "tool_use", stop_sequence: null };
  const mapped = finishReasonToStopReason(finishReason);
  if (mapped === "end_turn" && options.stopSequence !== null) {
    return { stop_reason: "stop_sequence", stop_sequence: options.stopSequence };
  }
  return { stop_reason: mapped, stop_sequence: null };
}

/**
 * Parses tool-call arguments into a `tool_use` input. Empty arguments give `{}`. Arguments that are not a JSON
 * object are kept whole as `{"_raw": "…"}`: the client's schema check then fails visibly and the model (and the
 * user) can see what was generated, where `{}` would hide it.
 */
export function parseToolInput(args: string | undefined): JsonObject {
  if (args === undefined || args.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (isJsonObject(parsed)) return parsed;
  } catch {
    // Not JSON: kept raw below.
  }
  return { _raw: args };
}

/** Appends a piece to the content, merging it into the previous block when that block is the same kind. */
function appendPiece(content: AnthropicContentBlock[], kind: "thinking" | "text", text: string): void {
  const last = content.at(-1);
  if (kind === "thinking") {
    if (last?.type === "thinking" && typeof last.thinking === "string") last.thinking += text;
    else content.push({ type: "thinking", thinking: text, signature: SYNTHETIC_THINKING_SIGNATURE });
  } else if (last?.type === "text" && typeof last.text === "string") {
    last.text += text;
  } else {
    content.push({ type: "text", text });
  }
}

type ChoiceMessage = OpenAIChatResponse["choices"][number]["message"];

/** The estimated output tokens of converted content, for an upstream that reports no usage. */
function outputTokenEstimate(content: readonly AnthropicContentBlock[]): number {
  let weight = 0;
  for (const block of content) {
    if (block.type === "text" && typeof block.text === "string") weight += textTokenWeight(block.text);
    else if (block.type === "thinking" && typeof block.thinking === "string") weight += textTokenWeight(block.thinking);
    else if (block.type === "tool_use") weight += textTokenWeight(JSON.stringify(block.input));
  }
  return Math.ceil(weight);
}

/** Removes a stop sequence the upstream left at the end of the last text block (dropping the block if emptied). */
function stripStopSequence(content: AnthropicContentBlock[], sequence: string): void {
  const last = content.at(-1);
  if (last?.type !== "text" || typeof last.text !== "string" || !last.text.endsWith(sequence)) return;
  last.text = last.text.slice(0, last.text.length - sequence.length);
  if (last.text === "") content.pop();
}

/** The first choice of a completion body, or a 502 {@link ProxyError} with the upstream's error when it has none. */
function firstChoice(resp: unknown): { resp: OpenAIChatResponse; choice: OpenAIChatResponse["choices"][number] } {
  if (!isJsonObject(resp)) {
    throw new ProxyError(502, "api_error", "Upstream answered with a body that is not an object");
  }
  if (resp.error !== undefined && resp.error !== null) {
    const { kind, message } = embeddedUpstreamError(resp.error);
    throw new ProxyError(502, kind, message);
  }
  const choices = Array.isArray(resp.choices) ? resp.choices.filter(isJsonObject) : [];
  const choice = choices.find((candidate) => (candidate.index ?? 0) === 0) ?? choices[0];
  if (choice === undefined) throw new ProxyError(502, "api_error", "Upstream response has no choices");
  return { resp: resp as OpenAIChatResponse, choice: choice as OpenAIChatResponse["choices"][number] };
}

/**
 * Converts an OpenAI chat completion into an Anthropic message.
 *
 * Blocks come in order: thinking (from `reasoning_content` or `reasoning`, a leading `<think>` in the content, or
 * `thinking` parts of an array content), text, then one `tool_use` per tool call. `annotations` are ignored. A stop
 * sequence the upstream left at the end of the text is removed. Without upstream usage, the tokens are estimated
 * (input by `ctx.estimateInputTokens`). Throws a 502 {@link ProxyError} when the body is not a completion: with
 * the upstream's message and mapped type when it is an `{"error": …}` body.
 *
 * @example
 * ```ts
 * const message = toAnthropicResponse(completion, { model: "claude-sonnet-4-5" });
 * message.content; // [{ type: "text", text: "Hello" }]
 * ```
 */
export function toAnthropicResponse(body: unknown, ctx: AnthropicResponseContext): AnthropicResponse {
  const { resp, choice } = firstChoice(body);
  const message: Partial<ChoiceMessage> = isJsonObject(choice.message) ? choice.message : {};
  const content: AnthropicContentBlock[] = [];

  const reasoning = message.reasoning_content || message.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") appendPiece(content, "thinking", reasoning);
  const splitter = new ThinkTagSplitter();
  let text = "";
  for (const piece of [...contentPieces(message.content, splitter), ...splitter.flush()]) {
    if (piece.kind === "text") text += piece.text;
    appendPiece(content, piece.kind, piece.text);
  }
  const refused = !content.some((block) => block.type === "text") && typeof message.refusal === "string" &&
    message.refusal !== "";
  if (refused) appendPiece(content, "text", message.refusal as string);

  const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls.filter((call) => isJsonObject(call)) : [];
  for (const call of toolCalls) {
    content.push({
      type: "tool_use",
      id: toToolUseId(call.id),
      name: call.function?.name || UNNAMED_TOOL_NAME,
      input: parseToolInput(call.function?.arguments),
    });
  }

  const stop = resolveStop(refused ? "content_filter" : choice.finish_reason, {
    emittedToolUse: toolCalls.length > 0,
    stopSequence: matchStopSequence(text, {
      reported: reportedStopStrings(choice, resp),
      stopSequences: ctx.stopSequences,
    }),
  });
  if (stop.stop_sequence !== null) stripStopSequence(content, stop.stop_sequence);
  const usage = isJsonObject(resp.usage) ? toAnthropicUsage(resp.usage) : {
    input_tokens: ctx.estimateInputTokens?.() ?? 0,
    output_tokens: outputTokenEstimate(content),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  return {
    id: toMessageId(resp.id),
    type: "message",
    role: "assistant",
    model: ctx.model,
    content,
    ...stop,
    usage,
  };
}
