/**
 * Anthropic Messages shapes for the mock upstream, as the real API sends them: the event stream (message_start,
 * content blocks with a ping after the first start, message_delta, message_stop), the non-stream message and errors.
 *
 * @module
 */

import type { JsonObject } from "./json_guards.ts";
import type { PlannedUsage, ReplyPlan, StopKind } from "./mock_reply_plan.ts";
import { contentText, randomId, toolCallIdField } from "./mock_reply_plan.ts";
import { formatSse } from "./sse.ts";

/** Maps a stop kind to Anthropic's `stop_reason`. */
function stopReason(plan: ReplyPlan): string {
  const reasons: Record<StopKind, string> = { end: "end_turn", length: "max_tokens", tools: "tool_use" };
  return plan.finishReason ?? reasons[plan.stop];
}

/** Makes an opaque thinking signature. */
function signature(): string {
  return btoa(`mock-signature-${crypto.randomUUID()}`);
}

/** Renders usage the Anthropic way; cache reads are not part of `input_tokens`. */
function anthropicUsage(usage: PlannedUsage, outputTokens: number): JsonObject {
  return {
    input_tokens: usage.promptTokens - usage.cachedTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cachedTokens,
    output_tokens: outputTokens,
  };
}

/** The Anthropic error `type` for a status. */
function errorType(status: number): string {
  const types: Record<number, string> = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
  };
  return types[status] ?? "api_error";
}

/** Builds an Anthropic error body: `{type: "error", error: {type, message}}`. */
export function anthropicErrorBody(status: number, message: string): JsonObject {
  return { type: "error", error: { type: errorType(status), message } };
}

/** Builds the `event: error` the Anthropic API sends when a stream fails mid-way (overloaded). */
export function anthropicStreamErrorEvent(message: string): string {
  return formatSse({ event: "error", data: JSON.stringify(anthropicErrorBody(529, message)) });
}

/** Formats one Anthropic event, naming the SSE event after its data's `type`. */
function event(data: JsonObject & { type: string }): string {
  return formatSse({ event: data.type, data: JSON.stringify(data) });
}

/** Maps pieces lazily. */
function* mapPieces<T>(pieces: Iterable<string>, map: (piece: string) => T): Generator<T> {
  for (const piece of pieces) yield map(piece);
}

/**
 * Generates the SSE pieces of a Messages stream: message_start, a signed thinking block, a text block, tool_use
 * blocks, message_delta and message_stop. Lazy, so loops stop when the client does.
 */
export function* anthropicMessageStream(plan: ReplyPlan): Generator<string> {
  let index = 0;
  let pinged = false;
  function* block(start: JsonObject, deltas: Iterable<JsonObject>): Generator<string> {
    yield event({ type: "content_block_start", index, content_block: start });
    if (!pinged) yield event({ type: "ping" });
    pinged = true;
    for (const delta of deltas) yield event({ type: "content_block_delta", index, delta });
    yield event({ type: "content_block_stop", index });
    index++;
  }
  const message = {
    id: randomId("msg_"),
    type: "message",
    role: "assistant",
    model: plan.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: anthropicUsage(plan.usage, 1),
  };
  yield event({ type: "message_start", message });
  if (plan.reasoning.length > 0) {
    yield* block({ type: "thinking", thinking: "", signature: "" }, [
      ...plan.reasoning.map((thinking) => ({ type: "thinking_delta", thinking })),
      { type: "signature_delta", signature: signature() },
    ]);
  }
  if (!plan.content[Symbol.iterator]().next().done) {
    yield* block({ type: "text", text: "" }, mapPieces(plan.content, (text) => ({ type: "text_delta", text })));
  }
  for (const call of plan.toolCalls) {
    yield* block({ type: "tool_use", ...toolCallIdField(call.id, "toolu_"), name: call.name, input: {} }, [
      { type: "input_json_delta", partial_json: "" },
      ...call.argumentPieces.map((partial_json) => ({ type: "input_json_delta", partial_json })),
    ]);
  }
  if (!pinged) yield event({ type: "ping" });
  const usage = { output_tokens: plan.usage.completionTokens };
  yield event({ type: "message_delta", delta: { stop_reason: stopReason(plan), stop_sequence: null }, usage });
  yield event({ type: "message_stop" });
}

/** Builds a non-stream `message` body; tool arguments must be JSON (an empty string counts as `{}`). */
export function anthropicMessageBody(plan: ReplyPlan): JsonObject {
  const text = contentText(plan);
  const content = [
    ...(plan.reasoning.length > 0
      ? [{ type: "thinking", thinking: plan.reasoning.join(""), signature: signature() }]
      : []),
    ...(text === "" ? [] : [{ type: "text", text }]),
    ...plan.toolCalls.map((call) => ({
      type: "tool_use",
      ...toolCallIdField(call.id, "toolu_"),
      name: call.name,
      input: JSON.parse(call.argumentPieces.join("") || "{}"),
    })),
  ];
  return {
    id: randomId("msg_"),
    type: "message",
    role: "assistant",
    model: plan.model,
    content,
    stop_reason: stopReason(plan),
    stop_sequence: null,
    usage: anthropicUsage(plan.usage, plan.usage.completionTokens),
  };
}
