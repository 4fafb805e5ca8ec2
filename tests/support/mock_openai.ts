/**
 * OpenAI Chat Completions shapes for the mock upstream, as llama.cpp's `llama-server` and vLLM send them: stream
 * chunks, the non-stream body, usage and errors, plus the upstream quirks a scenario can switch on.
 *
 * @module
 */

import type { JsonObject } from "./json_guards.ts";
import type { PlannedUsage, ReplyPlan, StopKind } from "./mock_reply_plan.ts";
import { contentText, randomId, toolCallIdField } from "./mock_reply_plan.ts";
import type { Scenario } from "./mock_scenario.ts";
import { formatSse } from "./sse.ts";

/** How an OpenAI chat stream is shaped: the scenario's OpenAI quirks plus the request's usage wish. */
export interface OpenAIStreamOptions extends
  Pick<
    Scenario,
    "reasoningField" | "toolIndexMode" | "interleaveToolArgs" | "emptyToolCallsArray" | "boundaryChunk"
  > {
  /** Whether the request set `stream_options.include_usage` (llama-server sends usage only then). */
  includeUsage: boolean;
}

/** Maps a stop kind to OpenAI's `finish_reason`. */
function finishReason(plan: ReplyPlan): string {
  const reasons: Record<StopKind, string> = { end: "stop", length: "length", tools: "tool_calls" };
  return plan.finishReason ?? reasons[plan.stop];
}

/** Renders usage the OpenAI way; cached tokens are part of `prompt_tokens`. */
export function openAIUsage(usage: PlannedUsage): JsonObject {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    ...(usage.cachedTokens > 0 ? { prompt_tokens_details: { cached_tokens: usage.cachedTokens } } : {}),
  };
}

/** The `type` an OpenAI-style server puts on an error of this status. */
function errorType(status: number): string {
  const types: Record<number, string> = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    501: "not_supported_error",
    503: "unavailable_error",
  };
  return types[status] ?? "server_error";
}

/** Builds an OpenAI-style error body (llama-server's shape: `{error: {code, message, type}}`). */
export function openAIErrorBody(status: number, message: string): JsonObject {
  return { error: { code: status, message, type: errorType(status) } };
}

/** Builds the error event a llama-server stream ends with when generation fails mid-way. */
export function openAIStreamErrorEvent(message: string): string {
  return formatSse({ data: JSON.stringify(openAIErrorBody(500, message)) });
}

/** Lists each tool call's deltas (start, then argument pieces) with the index the quirk mode asks for. */
function toolCallDeltas(plan: ReplyPlan, mode: OpenAIStreamOptions["toolIndexMode"]): JsonObject[][] {
  return plan.toolCalls.map((call, position) => {
    const index = mode === "missing" ? {} : { index: mode === "always0" ? 0 : position };
    const start = {
      ...index,
      ...toolCallIdField(call.id, "call_"),
      type: "function",
      function: { name: call.name, arguments: "" },
    };
    return [start, ...call.argumentPieces.map((piece) => ({ ...index, function: { arguments: piece } }))];
  });
}

/** Orders per-call delta lists one call after the other, or round-robin when interleaving. */
function orderToolDeltas(perCall: JsonObject[][], interleave: boolean): JsonObject[] {
  if (!interleave) return perCall.flat();
  const longest = Math.max(0, ...perCall.map((deltas) => deltas.length));
  return Array.from({ length: longest }, (_, step) => perCall.flatMap((deltas) => deltas.slice(step, step + 1)))
    .flat();
}

/**
 * Generates the SSE pieces of a chat completion stream: a role chunk, reasoning, content, tool calls, the finish
 * chunk, an optional usage chunk with empty `choices`, then `data: [DONE]`. Lazy, so loops stop when the client does.
 */
export function* openAIChatStream(plan: ReplyPlan, options: OpenAIStreamOptions): Generator<string> {
  const { reasoningField = "reasoning_content", includeUsage } = options;
  const base = {
    id: randomId("chatcmpl-"),
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model: plan.model,
    system_fingerprint: "mock",
  };
  const chunk = (delta: JsonObject, reason: string | null = null) =>
    formatSse({
      data: JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: reason }] }),
    });
  const noTools = options.emptyToolCallsArray ? { tool_calls: [] } : {};
  let boundary = options.boundaryChunk ? plan.reasoning.at(-1) : undefined;
  yield chunk({ role: "assistant", content: null });
  for (const piece of boundary === undefined ? plan.reasoning : plan.reasoning.slice(0, -1)) {
    yield chunk({ [reasoningField]: piece, ...noTools });
  }
  for (const piece of plan.content) {
    const shared = boundary === undefined ? {} : { [reasoningField]: boundary };
    boundary = undefined;
    yield chunk({ ...shared, content: piece, ...noTools });
  }
  if (boundary !== undefined) yield chunk({ [reasoningField]: boundary, ...noTools });
  for (
    const delta of orderToolDeltas(toolCallDeltas(plan, options.toolIndexMode), options.interleaveToolArgs ?? false)
  ) {
    yield chunk({ tool_calls: [delta] });
  }
  yield chunk({}, finishReason(plan));
  if (includeUsage) yield formatSse({ data: JSON.stringify({ ...base, choices: [], usage: openAIUsage(plan.usage) }) });
  yield formatSse({ data: "[DONE]" });
}

/** Builds a non-stream `chat.completion` body (usage always included). */
export function openAIChatBody(plan: ReplyPlan, options: Pick<Scenario, "reasoningField"> = {}): JsonObject {
  const { reasoningField = "reasoning_content" } = options;
  const text = contentText(plan);
  const toolCalls = plan.toolCalls.map((call) => ({
    ...toolCallIdField(call.id, "call_"),
    type: "function",
    function: { name: call.name, arguments: call.argumentPieces.join("") },
  }));
  const message = {
    role: "assistant",
    content: text === "" && toolCalls.length > 0 ? null : text,
    ...(plan.reasoning.length > 0 ? { [reasoningField]: plan.reasoning.join("") } : {}),
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
  };
  return {
    id: randomId("chatcmpl-"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: plan.model,
    system_fingerprint: "mock",
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(plan) }],
    usage: openAIUsage(plan.usage),
  };
}
