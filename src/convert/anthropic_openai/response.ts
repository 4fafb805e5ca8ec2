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
import { SYNTHETIC_THINKING_SIGNATURE, toMessageId, toToolUseId, UNNAMED_TOOL_NAME } from "./synthetic.ts";
import { ThinkTagSplitter } from "./think_tags.ts";

/** What the converter knows about the client's request. */
export interface AnthropicResponseContext {
  /** The model the client asked for; the response names it, not the upstream's model. */
  model: string;
  /** The client's `stop_sequences`, to tell a stop sequence from a natural end. */
  stopSequences?: string[];
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
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as JsonObject;
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

/**
 * Converts an OpenAI chat completion into an Anthropic message.
 *
 * Blocks come in order: thinking (from `reasoning_content` or `reasoning`, or a leading `<think>` in the content),
 * text, then one `tool_use` per tool call. `annotations` are ignored. Throws a 502 {@link ProxyError} when the
 * completion has no choice.
 *
 * @example
 * ```ts
 * const message = toAnthropicResponse(completion, { model: "claude-sonnet-4-5" });
 * message.content; // [{ type: "text", text: "Hello" }]
 * ```
 */
export function toAnthropicResponse(resp: OpenAIChatResponse, ctx: AnthropicResponseContext): AnthropicResponse {
  const choice = resp.choices?.find((candidate) => (candidate.index ?? 0) === 0) ?? resp.choices?.[0];
  if (choice === undefined) throw new ProxyError(502, "api_error", "Upstream response has no choices");
  const message = choice.message ?? { role: "assistant", content: null };
  const content: AnthropicContentBlock[] = [];

  const reasoning = message.reasoning_content || message.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") appendPiece(content, "thinking", reasoning);
  const splitter = new ThinkTagSplitter();
  const text = typeof message.content === "string" ? message.content : "";
  for (const piece of [...splitter.push(text), ...splitter.flush()]) appendPiece(content, piece.kind, piece.text);
  const refused = !content.some((block) => block.type === "text") && typeof message.refusal === "string" &&
    message.refusal !== "";
  if (refused) appendPiece(content, "text", message.refusal as string);

  const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
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
  return {
    id: toMessageId(resp.id),
    type: "message",
    role: "assistant",
    model: ctx.model,
    content,
    ...stop,
    usage: toAnthropicUsage(resp.usage ?? { prompt_tokens: 0, completion_tokens: 0 }),
  };
}
