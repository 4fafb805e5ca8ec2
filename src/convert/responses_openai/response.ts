/**
 * Converts a non-streamed chat completion into a Responses API Response object. The Response envelope, ids, usage
 * and status mappers are exported because the stream converter builds the same objects.
 *
 * Direction: the client speaks OpenAI Responses, the upstream OpenAI Chat (an Anthropic upstream's answer arrives
 * here already converted to chat by `convert/openai_anthropic/`).
 *
 * @module
 */

import { ProxyError } from "../../http/errors.ts";
import { isJsonObject } from "../../protocols/json_object.ts";
import type { JsonObject, OpenAIFinishReason, OpenAIUsage } from "../../protocols/openai.ts";
import { contentParts } from "../../protocols/openai_content.ts";
import { toolCallId, unixSeconds } from "../openai_anthropic/response.ts";
import type {
  ResponsesError,
  ResponsesObject,
  ResponsesOutputFunctionCall,
  ResponsesOutputItem,
  ResponsesOutputMessage,
  ResponsesReasoningItem,
  ResponsesRequest,
  ResponsesStatus,
  ResponsesUsage,
} from "../../protocols/openai_responses_types.ts";

/** Per-request facts the response converters need: the client's request, echoed in the Response object. */
export interface ResponsesContext {
  /** The Responses request as the client sent it (its `model` is the name echoed back). */
  request: ResponsesRequest;
}

/** The facts of one Response object that the envelope does not take from the request. */
export interface ResponseState {
  /** The response id (`resp_…`). */
  id: string;
  /** Creation time in whole seconds. */
  createdAt: number;
  /** The response status. */
  status: ResponsesStatus;
  /** The output items so far. */
  output: ResponsesOutputItem[];
  /** Why the answer is incomplete, when it is. */
  incomplete?: "max_output_tokens" | "content_filter";
  /** The error of a failed response. */
  error?: ResponsesError;
  /** Token usage, once known. */
  usage?: ResponsesUsage;
}

/**
 * A new id with an OpenAI-style prefix (`resp`, `msg`, `rs`, `fc`): unique, so ids never repeat inside a response
 * or across the responses a client keeps.
 *
 * @example
 * ```ts
 * newId("msg"); // "msg_6f1c…" (32 hex digits)
 * ```
 */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * Builds a Response object: the state's fields, and the request's settings echoed as the API does (`instructions`,
 * `tools`, `tool_choice`, sampling, `metadata`).
 */
export function responseObject(ctx: ResponsesContext, state: ResponseState): ResponsesObject {
  const req = ctx.request;
  const out: ResponsesObject = {
    id: state.id,
    object: "response",
    created_at: state.createdAt,
    status: state.status,
    model: req.model,
    output: state.output,
    error: state.error ?? null,
    incomplete_details: state.incomplete === undefined ? null : { reason: state.incomplete },
    instructions: typeof req.instructions === "string" ? req.instructions : null,
    metadata: isJsonObject(req.metadata) ? req.metadata as Record<string, string> : null,
    parallel_tool_calls: req.parallel_tool_calls !== false,
    temperature: typeof req.temperature === "number" ? req.temperature : null,
    top_p: typeof req.top_p === "number" ? req.top_p : null,
    max_output_tokens: typeof req.max_output_tokens === "number" ? req.max_output_tokens : null,
    tool_choice: req.tool_choice ?? "auto",
    tools: Array.isArray(req.tools) ? req.tools : [],
  };
  if (state.usage !== undefined) out.usage = state.usage;
  return out;
}

/**
 * Maps a chat finish reason to the response status: `length` → `incomplete` (`max_output_tokens`),
 * `content_filter` → `incomplete` (`content_filter`), anything else (stop, tool calls, unknown) → `completed`.
 */
export function statusForFinishReason(
  reason: OpenAIFinishReason | null | undefined,
): Pick<ResponseState, "status" | "incomplete"> {
  if (reason === "length") return { status: "incomplete", incomplete: "max_output_tokens" };
  if (reason === "content_filter") return { status: "incomplete", incomplete: "content_filter" };
  return { status: "completed" };
}

/** Reads a count, treating anything that is not a finite number as 0. */
function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * Maps chat usage to Responses usage: prompt → input tokens (with `cached_tokens`), completion → output tokens
 * (with `reasoning_tokens`); `total_tokens` is the upstream's, or their sum.
 *
 * @example
 * ```ts
 * toResponsesUsage({ prompt_tokens: 10, completion_tokens: 5 }).total_tokens; // 15
 * ```
 */
export function toResponsesUsage(usage: Partial<OpenAIUsage> | JsonObject): ResponsesUsage {
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  const detail = (details: unknown, field: string) => isJsonObject(details) ? count(details[field]) : 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: detail(usage.prompt_tokens_details, "cached_tokens") },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: detail(usage.completion_tokens_details, "reasoning_tokens") },
    total_tokens: typeof usage.total_tokens === "number" ? usage.total_tokens : input + output,
  };
}

/** A reasoning output item holding `text` as one raw `reasoning_text` part. */
export function reasoningItem(
  id: string,
  text: string,
  status: ResponsesReasoningItem["status"],
): ResponsesReasoningItem {
  return { type: "reasoning", id, summary: [], content: [{ type: "reasoning_text", text }], status };
}

/** An assistant message output item holding `text` as one `output_text` part. */
export function messageItem(
  id: string,
  text: string,
  status: ResponsesOutputMessage["status"],
): ResponsesOutputMessage {
  return { type: "message", id, role: "assistant", status, content: [{ type: "output_text", text, annotations: [] }] };
}

/** The error to answer when an upstream's 200 body is not a chat completion (a 502 quoting its start). */
function notAChatCompletion(body: unknown): ProxyError {
  const error = isJsonObject(body) && isJsonObject(body.error) && typeof body.error.message === "string"
    ? body.error.message
    : `Upstream answered with a body that is not a chat completion: ${JSON.stringify(body)?.slice(0, 200)}`;
  return new ProxyError(502, "api_error", error);
}

/** The string form of a reasoning field (`reasoning_content` or `reasoning`), or "" for anything else. */
function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * Converts a chat completion (its first choice) into a Response object.
 *
 * Output items, in order: a `reasoning` item when there is reasoning (`reasoning_content`, `reasoning`, or thinking
 * parts of an array `content`), as one raw `reasoning_text` part; a `message` item with the answer text (and a
 * `refusal` part for `refusal`), left out only when the answer is tool calls alone; one `function_call` item per
 * tool call, with the upstream's call id as `call_id`. Status and usage as in {@link statusForFinishReason} and
 * {@link toResponsesUsage}. A body that is not a chat completion → 502.
 *
 * @example
 * ```ts
 * const response = toResponsesObject(completion, { request: { model: "qwen", input: "Hi" } });
 * response.output[0]; // { type: "message", role: "assistant", content: [{ type: "output_text", text: "Hello" … }] … }
 * ```
 */
export function toResponsesObject(body: unknown, ctx: ResponsesContext): ResponsesObject {
  const choice = isJsonObject(body) && Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isJsonObject(choice) || !isJsonObject(choice.message)) throw notAChatCompletion(body);
  const message = choice.message;
  const parts = contentParts(message.content);
  const answer = parts.filter((part) => part.kind === "text").map((part) => part.text).join("");
  const reasoning = text(message.reasoning_content) || text(message.reasoning) ||
    parts.filter((part) => part.kind === "thinking").map((part) => part.text).join("");
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isJsonObject) : [];
  const output: ResponsesOutputItem[] = [];
  if (reasoning !== "") output.push(reasoningItem(newId("rs"), reasoning, "completed"));
  const refusal = text(message.refusal);
  if (answer !== "" || refusal !== "" || calls.length === 0) {
    const item = messageItem(newId("msg"), answer, "completed");
    if (refusal !== "") item.content.push({ type: "refusal", refusal });
    output.push(item);
  }
  for (const call of calls) {
    const fn = isJsonObject(call.function) ? call.function : {};
    const item: ResponsesOutputFunctionCall = {
      type: "function_call",
      id: newId("fc"),
      call_id: toolCallId(call.id),
      name: text(fn.name),
      arguments: text(fn.arguments) || "{}",
      status: "completed",
    };
    output.push(item);
  }
  const created = isJsonObject(body) && typeof body.created === "number" ? body.created : unixSeconds();
  const usage = isJsonObject(body) && isJsonObject(body.usage) ? toResponsesUsage(body.usage) : undefined;
  return responseObject(ctx, {
    id: newId("resp"),
    createdAt: created,
    ...statusForFinishReason(choice.finish_reason as OpenAIFinishReason | null),
    output,
    usage,
  });
}
