/**
 * Wire types of the OpenAI Chat Completions API, as far as the proxy reads or writes them.
 *
 * Fields the proxy does not interpret are kept through the index signatures, so a body survives a round trip.
 *
 * @module
 */

/** A JSON object whose keys the proxy does not all know. */
export type JsonObject = Record<string, unknown>;

/** A text part of a user or system message. */
export interface OpenAITextPart {
  type: "text";
  text: string;
}

/** An image part of a user message: a URL or a `data:` URL. */
export interface OpenAIImagePart {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}

/** Any content part the proxy may meet. */
export type OpenAIContentPart = OpenAITextPart | OpenAIImagePart | (JsonObject & { type: string });

/** A function call an assistant message asks for. */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** One message of a chat completion request. */
export interface OpenAIMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content?: string | OpenAIContentPart[] | null;
  name?: string;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
  /** Reasoning text of an earlier assistant turn (DeepSeek, GLM, llama.cpp, vLLM). */
  reasoning_content?: string | null;
  [key: string]: unknown;
}

/** A function tool offered to the model. */
export interface OpenAITool {
  type: "function";
  function: { name: string; description?: string; parameters?: JsonObject; strict?: boolean };
}

/** How the model may use tools. */
export type OpenAIToolChoice =
  | "auto"
  | "none"
  | "required"
  | { type: "function"; function: { name: string } };

/** A chat completion request body. */
export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string | string[];
  tools?: OpenAITool[];
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  user?: string;
  reasoning_effort?: "minimal" | "low" | "medium" | "high" | string;
  [key: string]: unknown;
}

/** Token usage of a completion. */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

/** Why a choice stopped. */
export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call" | string;

/** A non-streamed chat completion. */
export interface OpenAIChatResponse {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: "assistant";
      content: string | null;
      reasoning_content?: string | null;
      /** Some servers (vLLM, OpenRouter) name the reasoning field `reasoning`. */
      reasoning?: string | null;
      tool_calls?: OpenAIToolCall[];
      refusal?: string | null;
      [key: string]: unknown;
    };
    finish_reason: OpenAIFinishReason | null;
  }>;
  usage?: OpenAIUsage;
  [key: string]: unknown;
}

/** One tool-call fragment of a streamed delta; servers differ in which fields they repeat. */
export interface OpenAIToolCallDelta {
  index?: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/** One streamed chat completion chunk. */
export interface OpenAIChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: "assistant";
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: OpenAIToolCallDelta[] | null;
      [key: string]: unknown;
    };
    finish_reason: OpenAIFinishReason | null;
  }>;
  usage?: OpenAIUsage | null;
  [key: string]: unknown;
}

/** The body of an OpenAI error response. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param?: string | null; code?: string | number | null };
}
