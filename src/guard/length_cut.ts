/**
 * Ending an answer the way a length cut ends, when the garbage retries are used up (`validation.on_exhausted:
 * "truncate"`, the default): the answer stops where the loop began and says it ran out of tokens
 * (`finish_reason: "length"`, `stop_reason: "max_tokens"`), with usage. Clients take that as a complete answer
 * that was cut short, which none of them retries, unlike an `overloaded_error` / 529, which every one of them does.
 *
 * Both forms are written in the upstream's protocol, before any conversion:
 * - {@link cutOpenAIAnswer}, {@link cutAnthropicAnswer}: a whole (non-streamed) answer body, cut at the loop start.
 * - {@link openAILengthCutEvents}, {@link anthropicLengthCutEvents}: the events that end a stream whose client has
 *   everything before the loop start.

 *
 * Each dialect (`protocols/openai_chat.ts`, `protocols/anthropic_messages.ts`) offers its pair as `guard.cutAnswer`
 * and `guard.lengthCutEvents`.
 *
 * @module
 */

import { textTokenWeight } from "../convert/count_tokens.ts";
import { type ContentPart, readContentPart, withPartText } from "../protocols/openai_content.ts";
import type { SseEvent } from "../protocols/sse.ts";
import type { Delivery } from "./delivery.ts";
import { callArguments, type Channel, list, record } from "./event_text.ts";

/** The response header that tells a client its answer was ended by the garbage guard. */
export const GARBAGE_HEADER = "x-sampling-proxy-garbage";

/**
 * Where a whole answer is cut: at an offset of a channel's text (as `answerText` reads it: text blocks joined,
 * tool arguments joined by newlines), or before a tool call (the first repeat of a repeated call).
 */
export type AnswerCut = { channel: Channel; at: number } | { channel: "tool"; call: number };

/**
 * A copy of a whole OpenAI answer body ending at `cut` (everything after it is dropped; a tool call the cut falls
 * into is dropped whole, since a part of one is unusable), marked as a length cut. Without a cut only the finish
 * reason changes. Usage is kept: the tokens were generated.
 */
export function cutOpenAIAnswer(body: Record<string, unknown>, cut: AnswerCut | undefined): Record<string, unknown> {
  const choices = list(body.choices);
  const at = choices.findIndex((choice) => (record(choice)?.index ?? 0) === 0);
  const choice = record(choices[at]);
  if (choice === undefined) return body;
  const message = { ...record(choice.message) };
  const calls = list(message.tool_calls);
  let keptCalls = calls.length;
  if (cut !== undefined && "call" in cut) keptCalls = cut.call;
  else if (cut?.channel === "tool") keptCalls = callAt(calls.map((call) => callArguments(call).length), cut.at);
  else if (cut !== undefined) {
    keptCalls = 0;
    if (cut.channel === "content") message.content = cutContent(message.content, "text", cut.at);
    else {
      // The reasoning channel reads the reasoning field, then the reasoning parts of an array content.
      const field = message.reasoning_content ? "reasoning_content" : "reasoning";
      const reasoning = typeof message[field] === "string" ? message[field] : "";
      if (cut.at <= reasoning.length) {
        message[field] = reasoning.slice(0, cut.at);
        message.content = "";
      } else {
        message.content = cutContent(message.content, "thinking", cut.at - reasoning.length);
      }
    }
  }
  if (keptCalls === 0) delete message.tool_calls;
  else message.tool_calls = calls.slice(0, keptCalls);
  const out = [...choices];
  out[at] = { ...choice, message, finish_reason: "length" };
  return { ...body, choices: out };
}

/** {@link cutOpenAIAnswer} for an Anthropic answer body (a signed thinking block the cut falls into goes whole). */
export function cutAnthropicAnswer(body: Record<string, unknown>, cut: AnswerCut | undefined): Record<string, unknown> {
  const kept: unknown[] = [];
  const offsets: Record<Channel, number> = { content: 0, reasoning: 0, tool: 0 };
  let calls = 0;
  for (const block of list(body.content)) {
    const fields = record(block);
    const piece = anthropicPiece(fields);
    if (cut !== undefined && piece !== undefined && piece.channel === cut.channel) {
      if ("call" in cut) {
        if (calls++ >= cut.call) break;
      } else if (offsets[piece.channel] + piece.text.length > cut.at) {
        const text = piece.text.slice(0, cut.at - offsets[piece.channel]);
        if (piece.channel === "content" && text !== "") kept.push({ ...fields, text });
        break;
      }
      offsets[piece.channel] += piece.text.length + (piece.channel === "tool" ? 1 : 0);
    }
    kept.push(block);
  }
  return { ...body, content: kept, stop_reason: "max_tokens", stop_sequence: null };
}

/** The channel text of an Anthropic content block, as `answerText` reads it. */
function anthropicPiece(block: Record<string, unknown> | undefined): { channel: Channel; text: string } | undefined {
  if (block?.type === "text") return { channel: "content", text: String(block.text ?? "") };
  if (block?.type === "thinking") return { channel: "reasoning", text: String(block.thinking ?? "") };
  if (block?.type === "tool_use") return { channel: "tool", text: JSON.stringify(block.input ?? {}) };
  return undefined;
}

/** How many calls end before `offset` of their arguments joined by newlines. */
function callAt(lengths: number[], offset: number): number {
  let end = 0;
  for (let i = 0; i < lengths.length; i++) {
    end += lengths[i];
    if (offset < end) return i;
    end += 1;
  }
  return lengths.length;
}

/**
 * An OpenAI `content` (a string or an array of parts) ending at offset `at` of its `kind` text, as `answerText`
 * reads it: the part the offset falls into is cut there, later parts are dropped. Reasoning is not in a string.
 */
function cutContent(content: unknown, kind: ContentPart["kind"], at: number): unknown {
  if (!Array.isArray(content)) return kind === "text" && typeof content === "string" ? content.slice(0, at) : "";
  const kept: unknown[] = [];
  let offset = 0;
  for (const element of content) {
    const part = readContentPart(element);
    if (part?.kind === kind) {
      if (offset + part.text.length > at) {
        if (at > offset) kept.push(withPartText(element, part.text.slice(0, at - offset)));
        break;
      }
      offset += part.text.length;
    }
    kept.push(element);
  }
  return kept;
}

/** What the length-cut events need besides the delivery. */
export interface LengthCutOptions {
  /** OpenAI: send a usage chunk (the client asked for `stream_options.include_usage` and no converter counts). */
  includeUsage: boolean;
  /** The request body, for the estimate of the prompt's tokens in that usage chunk. */
  body: Record<string, unknown>;
}

/**
 * The events that end an Anthropic stream as a length cut, after what `delivery` says the client has: the open
 * blocks close, then `message_delta` (`stop_reason: "max_tokens"`, estimated output tokens) and `message_stop`.
 */
export function anthropicLengthCutEvents(delivery: Delivery, _options: LengthCutOptions): SseEvent[] {
  return [
    ...delivery.openBlocks.map((index) => anthropicEvent({ type: "content_block_stop", index })),
    anthropicEvent({
      type: "message_delta",
      delta: { stop_reason: "max_tokens", stop_sequence: null },
      usage: { output_tokens: Math.ceil(delivery.outputWeight) },
    }),
    anthropicEvent({ type: "message_stop" }),
  ];
}

/**
 * The events that end an OpenAI stream as a length cut: a `finish_reason: "length"` chunk, a usage chunk when asked
 * for (estimated), and `[DONE]`.
 */
export function openAILengthCutEvents(delivery: Delivery, options: LengthCutOptions): SseEvent[] {
  const outputTokens = Math.ceil(delivery.outputWeight);
  const head = { ...delivery.chunkHead, object: "chat.completion.chunk" };
  const events: SseEvent[] = [
    { data: JSON.stringify({ ...head, choices: [{ index: 0, delta: {}, finish_reason: "length" }] }) },
  ];
  if (options.includeUsage) {
    const promptTokens = Math.ceil(textTokenWeight(JSON.stringify(options.body.messages ?? [])));
    const usage = { prompt_tokens: promptTokens, completion_tokens: outputTokens };
    events.push({
      data: JSON.stringify({ ...head, choices: [], usage: { ...usage, total_tokens: promptTokens + outputTokens } }),
    });
  }
  events.push({ data: "[DONE]" });
  return events;
}

function anthropicEvent(data: Record<string, unknown> & { type: string }): SseEvent {
  return { event: data.type, data: JSON.stringify(data) };
}
