/**
 * Wire types of the OpenAI Responses API (`POST /v1/responses`), as far as the proxy reads or writes them: the
 * request, its input items and tools, the Response object and the stream events the converter emits.
 *
 * Ground truth is the `openai` SDK's `resources/responses/responses.d.ts`. Fields the proxy does not interpret are
 * kept through index signatures; item and tool types the proxy does not know are typed as open objects with a
 * `type`, so a body of a newer API version still type-checks.
 *
 * @module
 */

import type { JsonObject } from "./openai.ts";

/** A role of an input message. */
export type ResponsesRole = "user" | "assistant" | "system" | "developer";

/** Text the client wrote (`input_text`) or the model wrote earlier (`output_text`). */
export interface ResponsesTextPart {
  type: "input_text" | "output_text";
  text: string;
  [key: string]: unknown;
}

/** An image given by URL (or `data:` URL) or by a file id of OpenAI's file store. */
export interface ResponsesImagePart {
  type: "input_image";
  image_url?: string | null;
  file_id?: string | null;
  detail?: "auto" | "low" | "high" | "original";
  [key: string]: unknown;
}

/** A file given inline (`file_data`, base64 `data:` URL), by URL or by file id. */
export interface ResponsesFilePart {
  type: "input_file";
  file_data?: string;
  file_id?: string | null;
  file_url?: string;
  filename?: string;
  [key: string]: unknown;
}

/** A refusal the model gave earlier. */
export interface ResponsesRefusalPart {
  type: "refusal";
  refusal: string;
}

/** Any content part of a message item. */
export type ResponsesContentPart =
  | ResponsesTextPart
  | ResponsesImagePart
  | ResponsesFilePart
  | ResponsesRefusalPart
  | (JsonObject & { type: string });

/** A message input item (`EasyInputMessage`, `ResponseInputItem.Message` or an earlier `ResponseOutputMessage`). */
export interface ResponsesMessageItem {
  type?: "message";
  role: ResponsesRole;
  content: string | ResponsesContentPart[];
  id?: string;
  status?: ResponsesItemStatus;
  [key: string]: unknown;
}

/** The status of an item. */
export type ResponsesItemStatus = "in_progress" | "completed" | "incomplete";

/** A function call the model made (output item, and input item when the client sends the history back). */
export interface ResponsesFunctionCallItem {
  type: "function_call";
  call_id: string;
  name: string;
  arguments: string;
  id?: string;
  status?: ResponsesItemStatus;
  [key: string]: unknown;
}

/** The result of a function call, sent by the client. */
export interface ResponsesFunctionCallOutputItem {
  type: "function_call_output";
  call_id: string;
  output: string | ResponsesContentPart[];
  id?: string | null;
  [key: string]: unknown;
}

/** A reasoning summary part. */
export interface ResponsesSummaryText {
  type: "summary_text";
  text: string;
}

/** A raw reasoning text part. */
export interface ResponsesReasoningText {
  type: "reasoning_text";
  text: string;
}

/** A reasoning item: summaries, raw reasoning text, or an opaque `encrypted_content` only OpenAI can read. */
export interface ResponsesReasoningItem {
  type: "reasoning";
  id: string;
  summary: ResponsesSummaryText[];
  content?: ResponsesReasoningText[];
  encrypted_content?: string | null;
  status?: ResponsesItemStatus;
  [key: string]: unknown;
}

/** Any input item: the kinds the converter maps, or another (built-in tool calls, `item_reference`, …). */
export type ResponsesInputItem =
  | ResponsesMessageItem
  | ResponsesOutputMessage
  | ResponsesFunctionCallItem
  | ResponsesFunctionCallOutputItem
  | ResponsesReasoningItem
  | (JsonObject & { type: string });

/** A function tool, in the Responses API's flat shape. */
export interface ResponsesFunctionTool {
  type: "function";
  name: string;
  description?: string | null;
  parameters?: JsonObject | null;
  strict?: boolean | null;
  [key: string]: unknown;
}

/** Any tool: a function tool or a built-in one (`web_search`, `mcp`, `custom`, `namespace`, …). */
export type ResponsesTool = ResponsesFunctionTool | (JsonObject & { type: string });

/** How the model may use tools. */
export type ResponsesToolChoice =
  | "none"
  | "auto"
  | "required"
  | { type: "function"; name: string }
  | { type: "allowed_tools"; mode: "auto" | "required"; tools: JsonObject[] }
  | (JsonObject & { type: string });

/** The format the answer text must have. */
export type ResponsesTextFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
    type: "json_schema";
    name: string;
    schema: JsonObject;
    description?: string;
    strict?: boolean | null;
  };

/** A reasoning effort of the Responses API. */
export type ResponsesReasoningEffort = "none" | "minimal" | "low" | "medium" | "high" | "xhigh";

/** A `POST /v1/responses` body. */
export interface ResponsesRequest {
  model: string;
  input?: string | ResponsesInputItem[];
  instructions?: string | null;
  tools?: ResponsesTool[];
  tool_choice?: ResponsesToolChoice;
  parallel_tool_calls?: boolean | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: { format?: ResponsesTextFormat; verbosity?: string | null } | null;
  reasoning?: { effort?: ResponsesReasoningEffort | string | null; summary?: string | null } | null;
  stream?: boolean | null;
  store?: boolean | null;
  previous_response_id?: string | null;
  user?: string;
  [key: string]: unknown;
}

/** Token usage of a response. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The answer text part of an output message. */
export interface ResponsesOutputText {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs?: unknown[];
}

/** An assistant message output item. */
export interface ResponsesOutputMessage {
  type: "message";
  id: string;
  role: "assistant";
  status: ResponsesItemStatus;
  content: Array<ResponsesOutputText | ResponsesRefusalPart>;
}

/** A function call output item (always with `id` and `status`). */
export type ResponsesOutputFunctionCall = ResponsesFunctionCallItem & { id: string; status: ResponsesItemStatus };

/** An output item the converter produces. */
export type ResponsesOutputItem = ResponsesOutputMessage | ResponsesOutputFunctionCall | ResponsesReasoningItem;

/** The status of a response. */
export type ResponsesStatus = "completed" | "failed" | "in_progress" | "cancelled" | "queued" | "incomplete";

/** The error of a failed response. */
export interface ResponsesError {
  code: string;
  message: string;
}

/** A Response object: the non-stream answer, and the `response` of the lifecycle stream events. */
export interface ResponsesObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponsesStatus;
  model: string;
  output: ResponsesOutputItem[];
  error: ResponsesError | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  instructions: string | null;
  metadata: Record<string, string> | null;
  parallel_tool_calls: boolean;
  temperature: number | null;
  top_p: number | null;
  max_output_tokens: number | null;
  tool_choice: ResponsesToolChoice;
  tools: ResponsesTool[];
  usage?: ResponsesUsage;
  [key: string]: unknown;
}

/** Fields every stream event has. */
interface EventBase {
  sequence_number: number;
}

/** Fields of every event about one output item. */
interface ItemEventBase extends EventBase {
  item_id: string;
  output_index: number;
}

/** A lifecycle event: the whole Response object as it stands. */
export interface ResponsesLifecycleEvent extends EventBase {
  type: "response.created" | "response.in_progress" | "response.completed" | "response.incomplete" | "response.failed";
  response: ResponsesObject;
}

/** An output item opened or finished. */
export interface ResponsesOutputItemEvent extends EventBase {
  type: "response.output_item.added" | "response.output_item.done";
  output_index: number;
  item: ResponsesOutputItem;
}

/** A content part of a message (`output_text`) or of a reasoning item (`reasoning_text`) opened or finished. */
export interface ResponsesContentPartEvent extends ItemEventBase {
  type: "response.content_part.added" | "response.content_part.done";
  content_index: number;
  part: ResponsesOutputText | ResponsesReasoningText;
}

/** A piece of answer text. */
export interface ResponsesTextDeltaEvent extends ItemEventBase {
  type: "response.output_text.delta";
  content_index: number;
  delta: string;
  logprobs: unknown[];
}

/** The whole answer text of one part. */
export interface ResponsesTextDoneEvent extends ItemEventBase {
  type: "response.output_text.done";
  content_index: number;
  text: string;
  logprobs: unknown[];
}

/** A piece of raw reasoning text. */
export interface ResponsesReasoningDeltaEvent extends ItemEventBase {
  type: "response.reasoning_text.delta";
  content_index: number;
  delta: string;
}

/** The whole raw reasoning text of one part. */
export interface ResponsesReasoningDoneEvent extends ItemEventBase {
  type: "response.reasoning_text.done";
  content_index: number;
  text: string;
}

/** A piece of a function call's arguments. */
export interface ResponsesArgumentsDeltaEvent extends ItemEventBase {
  type: "response.function_call_arguments.delta";
  delta: string;
}

/** A function call's whole arguments. */
export interface ResponsesArgumentsDoneEvent extends ItemEventBase {
  type: "response.function_call_arguments.done";
  arguments: string;
}

/** A stream-level error, sent when the stream cannot carry on (the SDK throws on it). */
export interface ResponsesErrorEvent extends EventBase {
  type: "error";
  code: string | null;
  message: string;
  param: string | null;
}

/** Every stream event the proxy writes (the converter) or may read (an upstream's `error` event). */
export type ResponsesStreamEvent =
  | ResponsesLifecycleEvent
  | ResponsesOutputItemEvent
  | ResponsesContentPartEvent
  | ResponsesTextDeltaEvent
  | ResponsesTextDoneEvent
  | ResponsesReasoningDeltaEvent
  | ResponsesReasoningDoneEvent
  | ResponsesArgumentsDeltaEvent
  | ResponsesArgumentsDoneEvent
  | ResponsesErrorEvent;
