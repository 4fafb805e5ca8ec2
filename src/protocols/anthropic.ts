/**
 * Wire types of the Anthropic Messages API, as far as the proxy reads or writes them.
 *
 * @module
 */

import type { JsonObject } from "./openai.ts";

/** Prompt-cache marker on a block; never sent to an OpenAI upstream. */
export interface AnthropicCacheControl {
  type: "ephemeral";
  ttl?: string;
}

/** A text block. */
export interface AnthropicTextBlock {
  type: "text";
  text: string;
  cache_control?: AnthropicCacheControl;
  citations?: unknown[] | null;
}

/** An image block, inline (base64) or by URL. */
export interface AnthropicImageBlock {
  type: "image";
  source:
    | { type: "base64"; media_type: string; data: string }
    | { type: "url"; url: string };
  cache_control?: AnthropicCacheControl;
}

/** A document block; only plain-text sources can be converted. */
export interface AnthropicDocumentBlock {
  type: "document";
  source:
    | { type: "text"; media_type: "text/plain"; data: string }
    | { type: "base64"; media_type: string; data: string }
    | { type: "url"; url: string }
    | { type: "content"; content: string | AnthropicContentBlock[] };
  title?: string | null;
  context?: string | null;
  cache_control?: AnthropicCacheControl;
}

/** A tool call made by the assistant. */
export interface AnthropicToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: JsonObject;
  cache_control?: AnthropicCacheControl;
}

/** The result of a tool call, sent by the user. */
export interface AnthropicToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content?: string | Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock>;
  is_error?: boolean;
  cache_control?: AnthropicCacheControl;
}

/** Extended thinking produced by the assistant; the signature makes it verifiable upstream. */
export interface AnthropicThinkingBlock {
  type: "thinking";
  thinking: string;
  signature: string;
}

/** Thinking the upstream encrypted; it can only go back to the same upstream. */
export interface AnthropicRedactedThinkingBlock {
  type: "redacted_thinking";
  data: string;
}

/** Any content block the proxy may meet. */
export type AnthropicContentBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicDocumentBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock
  | (JsonObject & { type: string });

/** One message of a Messages request. */
export interface AnthropicMessage {
  role: "user" | "assistant";
  content: string | AnthropicContentBlock[];
}

/** A client tool; server tools have a `type` and no `input_schema`. */
export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema?: JsonObject;
  type?: string;
  cache_control?: AnthropicCacheControl;
  [key: string]: unknown;
}

/** How the model may use tools. */
export type AnthropicToolChoice =
  | { type: "auto"; disable_parallel_tool_use?: boolean }
  | { type: "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

/** Extended-thinking switch of a request. */
export type AnthropicThinkingConfig =
  | { type: "enabled"; budget_tokens: number }
  | { type: "disabled" }
  | { type: "adaptive" };

/** A Messages request body. */
export interface AnthropicRequest {
  model: string;
  messages: AnthropicMessage[];
  max_tokens: number;
  system?: string | AnthropicTextBlock[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  thinking?: AnthropicThinkingConfig;
  metadata?: { user_id?: string };
  [key: string]: unknown;
}

/** Why the assistant stopped. */
export type AnthropicStopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

/** Token usage of a message. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** A non-streamed Messages response. */
export interface AnthropicResponse {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** A delta inside a `content_block_delta` event. */
export type AnthropicBlockDelta =
  | { type: "text_delta"; text: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: "input_json_delta"; partial_json: string };

/** One event of a Messages stream; the SSE `event:` line carries the same `type`. */
export type AnthropicStreamEvent =
  | { type: "message_start"; message: AnthropicResponse }
  | { type: "content_block_start"; index: number; content_block: AnthropicContentBlock }
  | { type: "content_block_delta"; index: number; delta: AnthropicBlockDelta }
  | { type: "content_block_stop"; index: number }
  | {
    type: "message_delta";
    delta: { stop_reason: AnthropicStopReason | null; stop_sequence: string | null };
    usage: Partial<AnthropicUsage> & { output_tokens: number };
  }
  | { type: "message_stop" }
  | { type: "ping" }
  | { type: "error"; error: AnthropicErrorBody["error"] };

/** Error types of the Anthropic API. */
export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error"
  | "timeout_error";

/** The body of an Anthropic error response. */
export interface AnthropicErrorBody {
  type: "error";
  error: { type: AnthropicErrorType; message: string };
}

/** The body of a `count_tokens` request: a Messages request without `max_tokens`. */
export type AnthropicCountTokensRequest =
  & Pick<AnthropicRequest, "model" | "messages" | "system" | "tools" | "tool_choice" | "thinking">
  & Record<string, unknown>;
