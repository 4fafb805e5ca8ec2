/**
 * Token usage read out of upstream answers, one pure function per protocol shape, all into one neutral
 * {@link TokenUsage}:
 *
 * - OpenAI Chat: a body's `usage`, or the `usage` of a stream's final chunk (`stream_options.include_usage`):
 *   `prompt_tokens` (cached ones included), `completion_tokens`, `prompt_tokens_details.cached_tokens` (DeepSeek:
 *   `prompt_cache_hit_tokens`), `completion_tokens_details.reasoning_tokens`.
 * - Anthropic Messages: a body's `usage`, or a stream's `message_start` (`message.usage`) then `message_delta`
 *   (`usage`, whose counts are cumulative and replace the earlier ones): `input_tokens` (cache excluded),
 *   `output_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens`, `output_tokens_details.thinking_tokens`
 *   (as some Anthropic-compatible servers send it).
 *
 * `input` is every prompt token the model read, cached or not (OpenAI's `prompt_tokens`; Anthropic's three input
 * counts added up), so the same answer gives the same numbers whichever protocol reported it.
 *
 * @module
 */

import { isJsonObject } from "../protocols/json_object.ts";

/** Token counts of one upstream answer. */
export interface TokenUsage {
  /** Prompt tokens, cache reads and writes included. */
  input: number;
  /** Generated tokens, reasoning included. */
  output: number;
  /** Prompt tokens read from the prompt cache. */
  cacheRead: number;
  /** Prompt tokens written to the prompt cache. */
  cacheWrite: number;
  /** Generated tokens spent on reasoning (thinking). */
  reasoning: number;
}

/** No tokens. */
export const NO_USAGE: Readonly<TokenUsage> = Object.freeze({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
});

/**
 * The usage of an OpenAI chat completion body or stream chunk (its `usage` field); undefined when it has none.
 *
 * @example
 * ```ts
 * openaiChatUsage({ usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 80 } } });
 * // { input: 100, output: 5, cacheRead: 80, cacheWrite: 0, reasoning: 0 }
 * ```
 */
export function openaiChatUsage(body: unknown): TokenUsage | undefined {
  const usage = isJsonObject(body) ? body.usage : undefined;
  if (!isJsonObject(usage)) return undefined;
  const prompt = isJsonObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completion = isJsonObject(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  return {
    input: count(usage.prompt_tokens),
    output: count(usage.completion_tokens),
    cacheRead: count(prompt.cached_tokens) || count(usage.prompt_cache_hit_tokens),
    cacheWrite: count(prompt.cache_write_tokens),
    reasoning: count(completion.reasoning_tokens),
  };
}

/**
 * The usage of an Anthropic Messages body (its `usage` field); undefined when it has none.
 *
 * @example
 * ```ts
 * anthropicMessagesUsage({ usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90 } });
 * // { input: 100, output: 5, cacheRead: 90, cacheWrite: 0, reasoning: 0 }
 * ```
 */
export function anthropicMessagesUsage(body: unknown): TokenUsage | undefined {
  return anthropicUsageFields(isJsonObject(body) ? body.usage : undefined, undefined);
}

/**
 * The usage of an Anthropic Messages stream so far, after `event` (a parsed event's data): `message_start` gives
 * the first counts, each `message_delta` replaces the counts it carries (they are cumulative). Any other event
 * leaves `previous` as it is.
 *
 * @example
 * ```ts
 * const start = anthropicStreamUsage(undefined, { type: "message_start", message: { usage: { input_tokens: 12, output_tokens: 1 } } });
 * anthropicStreamUsage(start, { type: "message_delta", usage: { output_tokens: 40 } });
 * // { input: 12, output: 40, cacheRead: 0, cacheWrite: 0, reasoning: 0 }
 * ```
 */
export function anthropicStreamUsage(previous: TokenUsage | undefined, event: unknown): TokenUsage | undefined {
  if (!isJsonObject(event)) return previous;
  if (event.type === "message_start") {
    return anthropicUsageFields(isJsonObject(event.message) ? event.message.usage : undefined, previous);
  }
  if (event.type === "message_delta") return anthropicUsageFields(event.usage, previous);
  return previous;
}

/** Anthropic usage fields over `previous` (a field absent from `usage` keeps its earlier value). */
function anthropicUsageFields(usage: unknown, previous: TokenUsage | undefined): TokenUsage | undefined {
  if (!isJsonObject(usage)) return previous;
  const before = previous ?? NO_USAGE;
  const field = (key: string, fallback: number) => key in usage && usage[key] !== null ? count(usage[key]) : fallback;
  const cacheRead = field("cache_read_input_tokens", before.cacheRead);
  const cacheWrite = field("cache_creation_input_tokens", before.cacheWrite);
  const uncached = field("input_tokens", before.input - before.cacheRead - before.cacheWrite);
  const details = isJsonObject(usage.output_tokens_details) ? usage.output_tokens_details : undefined;
  return {
    input: uncached + cacheRead + cacheWrite,
    output: field("output_tokens", before.output),
    cacheRead,
    cacheWrite,
    reasoning: details && "thinking_tokens" in details ? count(details.thinking_tokens) : before.reasoning,
  };
}

/**
 * `a` plus `b`, field by field: the usage of several upstream answers for one request (a garbage retry, a
 * continuation).
 */
export function addUsage(a: Readonly<TokenUsage>, b: Readonly<TokenUsage>): TokenUsage {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite,
    reasoning: a.reasoning + b.reasoning,
  };
}

/** A token count: a finite non-negative integer, else 0. */
function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
