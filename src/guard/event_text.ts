/**
 * What the garbage guard reads out of an upstream answer: the text of each channel (content, reasoning, tool
 * arguments) and where an event sits in its protocol's stream grammar.
 *
 * Works on the UPSTREAM's protocol (before any conversion): OpenAI chat completion chunks (`delta.content`,
 * `delta.reasoning_content` or `delta.reasoning`, `delta.tool_calls[].function.arguments`) and Anthropic Messages
 * events (`text_delta`, `thinking_delta`, `input_json_delta`, and text in a `content_block_start`). OpenAI content
 * given as an array of parts (Mistral) is read as the converter reads it (`protocols/openai_content.ts`): text parts
 * are content, `thinking` / `reasoning` parts are reasoning.
 *
 * @module
 */

import { isJsonObject } from "../protocols/json_object.ts";
import { contentParts } from "../protocols/openai_content.ts";
import type { SseEvent } from "../protocols/sse.ts";

/** A text channel of an answer; each has its own loop detector. */
export type Channel = "content" | "reasoning" | "tool";

/** Every channel, in the order an answer produces them. */
export const CHANNELS: readonly Channel[] = ["content", "reasoning", "tool"];

/**
 * Whether a channel carries data rather than prose: tool arguments are file contents and JSON, which repeat on
 * purpose, so their detector uses the `data` rules (see `LoopDetectorOptions.data`).
 */
export function carriesData(channel: Channel): boolean {
  return channel === "tool";
}

/**
 * Where an event sits in its stream's grammar.
 *
 * - `start`: `message_start`, or an OpenAI chunk that carries nothing (the role chunk).
 * - `ping`: an Anthropic `ping`.
 * - `block_start`, `block_delta`, `block_stop`: Anthropic content block events.
 * - `chunk`: an OpenAI chunk with text or tool calls.
 * - `tail`: an OpenAI chunk with only a finish reason or usage; an Anthropic `message_delta`.
 * - `done`: OpenAI `[DONE]`, Anthropic `message_stop`.
 * - `error`: an error event or chunk.
 * - `other`: anything else (not JSON, unknown types); passed on in order.
 */
export type EventKind =
  | "start"
  | "ping"
  | "block_start"
  | "block_delta"
  | "block_stop"
  | "chunk"
  | "tail"
  | "done"
  | "error"
  | "other";

/** What the guard needs to know about one upstream event. */
export interface EventFacts {
  /** The event's place in the grammar. */
  kind: EventKind;
  /** Text per channel; `""` for none. */
  text: Record<Channel, string>;
  /** The event opens or continues a tool call (OpenAI `tool_calls`, Anthropic `tool_use` block start). */
  tool: boolean;
  /** Anthropic content block index, for block events. */
  index?: number;
  /** Anthropic `content_block_start`: the block's type (`text`, `thinking`, `tool_use`, …). */
  blockType?: string;
  /** The event's data parsed as a JSON object, when it is one. */
  json?: Record<string, unknown>;
}

/** Whether an event carries anything of the answer itself (text, a tool call, a content block). */
export function isContentBearing(facts: EventFacts): boolean {
  return facts.tool || facts.text.content !== "" || facts.text.reasoning !== "" || facts.text.tool !== "" ||
    facts.kind === "block_start" || facts.kind === "block_delta" || facts.kind === "block_stop";
}

/** A complete tool call of a non-streamed answer. */
export interface ToolCallText {
  /** The tool's name. */
  name: string;
  /** The arguments: JSON text (OpenAI) or the parsed input (Anthropic). */
  args: unknown;
}

/** The text of a non-streamed answer, per channel, and its tool calls. */
export interface AnswerText {
  /** Text per channel; tool arguments of several calls are joined by newlines. */
  text: Record<Channel, string>;
  /** The tool calls in order. */
  toolCalls: ToolCallText[];
}

/** Reads the text of a non-streamed OpenAI `chat.completion` body. */
export function openAIAnswerText(body: unknown): AnswerText {
  const text = emptyText();
  const toolCalls: ToolCallText[] = [];
  const message = record(firstChoice(body)?.message);
  const { content, reasoning } = openAIText(message);
  addText(text, "content", content);
  addText(text, "reasoning", reasoning);
  for (const call of list(message?.tool_calls)) {
    toolCalls.push({ name: String(record(record(call)?.function)?.name ?? ""), args: callArguments(call) });
  }
  return withToolText(text, toolCalls);
}

/** Reads the text of a non-streamed Anthropic `message` body. */
export function anthropicAnswerText(body: unknown): AnswerText {
  const text = emptyText();
  const toolCalls: ToolCallText[] = [];
  for (const block of list(record(body)?.content)) {
    const fields = record(block);
    if (fields?.type === "text") addText(text, "content", fields.text);
    else if (fields?.type === "thinking") addText(text, "reasoning", fields.thinking);
    else if (fields?.type === "tool_use") {
      toolCalls.push({ name: String(fields.name ?? ""), args: fields.input ?? {} });
    }
  }
  return withToolText(text, toolCalls);
}

function addText(text: Record<Channel, string>, channel: Channel, piece: unknown): void {
  if (typeof piece === "string" && piece !== "") text[channel] += piece;
}

/** The answer with its tool arguments as the tool channel's text, several calls joined by newlines. */
function withToolText(text: Record<Channel, string>, toolCalls: ToolCallText[]): AnswerText {
  text.tool = toolCalls.map((call) => typeof call.args === "string" ? call.args : JSON.stringify(call.args))
    .join("\n");
  return { text, toolCalls };
}

/** Reads the facts of one OpenAI chat completion chunk. Never throws. */
export function openAIEventFacts(event: SseEvent): EventFacts {
  const facts: EventFacts = { kind: "other", text: emptyText(), tool: false };
  if (event.data.trim() === "[DONE]") return { ...facts, kind: "done" };
  const json = parseObject(event.data);
  if (json === undefined) return facts;
  facts.json = json;
  if (event.event === "error" || (json.error !== undefined && json.error !== null)) return { ...facts, kind: "error" };
  const choice = firstChoice(json);
  const delta = record(choice?.delta);
  const { content, reasoning } = openAIText(delta);
  facts.text.content = content;
  facts.text.reasoning = reasoning;
  const calls = list(delta?.tool_calls);
  if (calls.length > 0) {
    facts.tool = true;
    for (const call of calls) facts.text.tool += callArguments(call);
  }
  if (facts.tool || facts.text.content !== "" || facts.text.reasoning !== "") facts.kind = "chunk";
  else if (typeof choice?.finish_reason === "string" || record(json.usage) !== undefined) facts.kind = "tail";
  else facts.kind = "start";
  return facts;
}

/**
 * The content and reasoning text of an OpenAI message or delta. The converter reads `reasoning_content ||
 * reasoning` and the parts of an array `content`; so does the guard, so both see the same text.
 */
function openAIText(message: Record<string, unknown> | undefined): { content: string; reasoning: string } {
  const field = message?.reasoning_content || message?.reasoning;
  let reasoning = typeof field === "string" ? field : "";
  let content = "";
  for (const part of contentParts(message?.content)) {
    if (part.kind === "text") content += part.text;
    else reasoning += part.text;
  }
  return { content, reasoning };
}

/** Reads the facts of one Anthropic Messages event. Never throws. */
export function anthropicEventFacts(event: SseEvent): EventFacts {
  const facts: EventFacts = { kind: "other", text: emptyText(), tool: false };
  const json = parseObject(event.data);
  if (json === undefined) return facts;
  facts.json = json;
  if (typeof json.index === "number") facts.index = json.index;
  switch (json.type) {
    case "message_start":
      facts.kind = "start";
      break;
    case "ping":
      facts.kind = "ping";
      break;
    case "content_block_start": {
      facts.kind = "block_start";
      const block = record(json.content_block);
      facts.blockType = typeof block?.type === "string" ? block.type : "unknown";
      if (block?.type === "text" && typeof block.text === "string") facts.text.content = block.text;
      if (block?.type === "thinking" && typeof block.thinking === "string") facts.text.reasoning = block.thinking;
      facts.tool = block?.type === "tool_use";
      break;
    }
    case "content_block_delta": {
      facts.kind = "block_delta";
      const delta = record(json.delta);
      if (delta?.type === "text_delta" && typeof delta.text === "string") facts.text.content = delta.text;
      if (delta?.type === "thinking_delta" && typeof delta.thinking === "string") {
        facts.text.reasoning = delta.thinking;
      }
      if (delta?.type === "input_json_delta" && typeof delta.partial_json === "string") {
        facts.text.tool = delta.partial_json;
      }
      break;
    }
    case "content_block_stop":
      facts.kind = "block_stop";
      break;
    case "message_delta":
      facts.kind = "tail";
      break;
    case "message_stop":
      facts.kind = "done";
      break;
    case "error":
      facts.kind = "error";
      break;
  }
  return facts;
}

function emptyText(): Record<Channel, string> {
  return { content: "", reasoning: "", tool: "" };
}

function parseObject(data: string): Record<string, unknown> | undefined {
  try {
    return record(JSON.parse(data));
  } catch {
    return undefined;
  }
}

/** The `function.arguments` text of an OpenAI tool call or tool-call delta, or `""` when it has none. */
export function callArguments(call: unknown): string {
  const args = record(record(call)?.function)?.arguments;
  return typeof args === "string" ? args : "";
}

/** `value` as a JSON object, or `undefined` when it is not one. */
export function record(value: unknown): Record<string, unknown> | undefined {
  return isJsonObject(value) ? value : undefined;
}

/** `value` as an array, or `[]` when it is not one. */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The choice with index 0 (or the first one): the proxy serves one choice. */
function firstChoice(value: unknown): Record<string, unknown> | undefined {
  const choices = list(record(value)?.choices);
  return record(choices.find((choice) => (record(choice)?.index ?? 0) === 0) ?? choices[0]);
}
