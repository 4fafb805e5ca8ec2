/**
 * A strict checker of the Anthropic Messages streaming grammar, as strict as Claude Code is when it reads a stream
 * (field notes 1a: duplicate `message_start`, deltas for blocks never started, unsigned thinking, malformed
 * `tool_use` blocks all break it). Every conversion test runs the proxy's output through it.
 *
 * Grammar: `message_start`, then content blocks numbered 0, 1, 2… each `content_block_start` → deltas of the
 * block's type → `content_block_stop` (never overlapping), then one `message_delta`, then `message_stop`. `ping` may
 * come anywhere after `message_start`. An `error` event may end the stream at any point instead.
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import { type EventPosition, grammarFailure } from "./grammar_failure.ts";
import { isRecord, type JsonObject, tryParseJson } from "./json_guards.ts";
import type { SseEvent } from "./sse.ts";

export { assertValidOpenAIStream } from "./openai_stream_grammar.ts";
export type { OpenAIStreamSummary, OpenAIToolCallSummary } from "./openai_stream_grammar.ts";

/** The stop reasons Claude Code knows. */
const STOP_REASONS = new Set(["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"]);

/** The delta types each block type accepts. */
const DELTA_TYPES: Record<string, readonly string[]> = {
  text: ["text_delta"],
  thinking: ["thinking_delta", "signature_delta"],
  redacted_thinking: [],
  tool_use: ["input_json_delta"],
};

/** The field that carries the text of each non-signature delta type. */
const PART_FIELDS: Record<string, string> = {
  text_delta: "text",
  thinking_delta: "thinking",
  input_json_delta: "partial_json",
};

/** One content block of a valid stream, reassembled. */
export type AnthropicBlockSummary =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "redacted_thinking"; data: string }
  | { type: "tool_use"; id: string; name: string; input: JsonObject };

/** A tool call of a valid stream. */
export interface AnthropicToolUseSummary {
  /** The `toolu_…` (or `call_…`) id. */
  id: string;
  /** The tool name. */
  name: string;
  /** The parsed input. */
  input: JsonObject;
}

/** What a valid Anthropic stream said, for assertions. */
export interface AnthropicStreamSummary {
  /** `message.id` of `message_start`, if the stream got that far. */
  messageId: string | undefined;
  /** `message.model` of `message_start`, if the stream got that far. */
  model: string | undefined;
  /** Completed content blocks in index order. */
  blocks: AnthropicBlockSummary[];
  /** All text blocks joined. */
  text: string;
  /** All thinking blocks joined. */
  thinking: string;
  /** The tool_use blocks. */
  toolUses: AnthropicToolUseSummary[];
  /** `message_delta.delta.stop_reason`, unless the stream ended with an error. */
  stopReason: string | undefined;
  /** Numeric usage fields of `message_start`, overridden by those of `message_delta`. */
  usage: Record<string, number>;
  /** The `error` event's error, when the stream ended with one. */
  error: { type: string; message: string } | undefined;
}

/** A block between its start and its stop. */
interface OpenBlock {
  index: number;
  start: JsonObject;
  type: string;
  parts: string[];
  signature: string | undefined;
}

/** Where the stream is in its grammar. */
type Phase = "before-start" | "blocks" | "after-delta" | "ended";

/** Copies the numeric fields of a usage object. */
function numericFields(usage: JsonObject): Record<string, number> {
  return Object.fromEntries(Object.entries(usage).filter((entry) => typeof entry[1] === "number")) as Record<
    string,
    number
  >;
}

/** Tells whether a value is a string with at least one character. */
function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/** Walks a stream event by event, failing on the first violation. */
class AnthropicGrammar {
  #at: EventPosition = { index: -1, label: "" };
  #phase: Phase = "before-start";
  #open: OpenBlock | undefined;
  #blocks: AnthropicBlockSummary[] = [];
  #messageId: string | undefined;
  #model: string | undefined;
  #stopReason: string | undefined;
  #usage: Record<string, number> = {};
  #error: AnthropicStreamSummary["error"];

  #fail(problem: string): never {
    throw grammarFailure("Anthropic", this.#at, problem);
  }

  feed(event: SseEvent, index: number): void {
    const data = tryParseJson(event.data);
    this.#at = { index, label: event.event ?? "unnamed" };
    if (!isRecord(data) || typeof data.type !== "string") this.#fail("data is not a JSON object with a string type");
    if (this.#phase === "ended") this.#fail("event after the end of the stream");
    if (event.event !== data.type) this.#fail(`event line "${event.event}" does not match data type "${data.type}"`);
    if (data.type === "error") return this.#errorEvent(data);
    if (data.type === "message_start") return this.#messageStart(data);
    if (this.#phase === "before-start") this.#fail("the first event must be message_start");
    switch (data.type) {
      case "ping":
        return;
      case "content_block_start":
        return this.#blockStart(data);
      case "content_block_delta":
        return this.#blockDelta(data);
      case "content_block_stop":
        return this.#blockStop(data);
      case "message_delta":
        return this.#messageDelta(data);
      case "message_stop":
        if (this.#phase !== "after-delta") this.#fail("message_stop before message_delta");
        this.#phase = "ended";
        return;
      default:
        this.#fail(`unknown event type "${data.type}"`);
    }
  }

  finish(): AnthropicStreamSummary {
    this.#at = { index: -1, label: "" };
    if (this.#phase !== "ended") this.#fail("the stream ended without message_stop or an error event");
    const blocks = this.#blocks;
    return {
      messageId: this.#messageId,
      model: this.#model,
      blocks,
      text: blocks.map((block) => block.type === "text" ? block.text : "").join(""),
      thinking: blocks.map((block) => block.type === "thinking" ? block.thinking : "").join(""),
      toolUses: blocks.flatMap((block) =>
        block.type === "tool_use" ? [{ id: block.id, name: block.name, input: block.input }] : []
      ),
      stopReason: this.#stopReason,
      usage: this.#usage,
      error: this.#error,
    };
  }

  #errorEvent(data: JsonObject): void {
    const { error } = data;
    if (!isRecord(error) || typeof error.type !== "string" || typeof error.message !== "string") {
      this.#fail("error event without error.type and error.message strings");
    }
    this.#error = { type: error.type, message: error.message };
    this.#phase = "ended";
  }

  #messageStart(data: JsonObject): void {
    if (this.#phase !== "before-start") this.#fail("duplicate message_start");
    const { message } = data;
    if (!isRecord(message)) this.#fail("message_start without a message object");
    if (typeof message.id !== "string" || !message.id.startsWith("msg_")) this.#fail("message.id must start with msg_");
    if (message.type !== "message") this.#fail(`message.type must be "message"`);
    if (message.role !== "assistant") this.#fail(`message.role must be "assistant"`);
    if (typeof message.model !== "string") this.#fail("message.model must be a string");
    if (!isDeepStrictEqual(message.content, [])) this.#fail("message.content must be []");
    if (!isRecord(message.usage) || typeof message.usage.input_tokens !== "number") {
      this.#fail("message.usage must be an object with a numeric input_tokens");
    }
    this.#messageId = message.id;
    this.#model = message.model;
    this.#usage = numericFields(message.usage);
    this.#phase = "blocks";
  }

  #blockStart(data: JsonObject): void {
    if (this.#phase !== "blocks") this.#fail("content_block_start after message_delta");
    if (this.#open !== undefined) this.#fail(`content_block_start while block ${this.#open.index} is still open`);
    if (data.index !== this.#blocks.length) {
      this.#fail(`content_block_start index ${data.index}, expected ${this.#blocks.length}`);
    }
    const start = data.content_block;
    if (!isRecord(start) || typeof start.type !== "string" || !(start.type in DELTA_TYPES)) {
      this.#fail("content_block must be a text, thinking, redacted_thinking or tool_use block");
    }
    if (start.type === "text" && typeof start.text !== "string") this.#fail("text block start without a text string");
    if (start.type === "thinking" && typeof start.thinking !== "string") {
      this.#fail("thinking block start without a thinking string");
    }
    if (start.type === "redacted_thinking" && !isNonEmptyString(start.data)) {
      this.#fail("redacted_thinking block without data");
    }
    if (start.type === "tool_use") this.#checkToolUseStart(start);
    this.#open = { index: this.#blocks.length, start, type: start.type, parts: [], signature: undefined };
  }

  #checkToolUseStart(start: JsonObject): void {
    if (!isNonEmptyString(start.id) || !/^(toolu_|call_)/.test(start.id)) {
      this.#fail("tool_use block id must start with toolu_ or call_");
    }
    if (!isNonEmptyString(start.name)) this.#fail("tool_use block without a name");
    if (!isDeepStrictEqual(start.input, {})) this.#fail("tool_use block start input must be {}");
  }

  #openBlock(index: unknown, what: string): OpenBlock {
    if (this.#open === undefined) this.#fail(`${what} for block ${index} but no block is open`);
    if (index !== this.#open.index) this.#fail(`${what} for block ${index} but block ${this.#open.index} is open`);
    return this.#open;
  }

  #blockDelta(data: JsonObject): void {
    const block = this.#openBlock(data.index, "delta");
    const { delta } = data;
    if (!isRecord(delta) || typeof delta.type !== "string") this.#fail("delta without a type");
    if (!DELTA_TYPES[block.type].includes(delta.type)) this.#fail(`${delta.type} inside a ${block.type} block`);
    if (delta.type === "signature_delta") {
      if (!isNonEmptyString(delta.signature)) this.#fail("signature_delta without a signature");
      if (block.signature !== undefined) this.#fail("second signature_delta in one thinking block");
      block.signature = delta.signature;
      return;
    }
    const field = PART_FIELDS[delta.type];
    const part = delta[field];
    if (typeof part !== "string") this.#fail(`${delta.type} without a ${field} string`);
    if (block.signature !== undefined) this.#fail("thinking_delta after the signature_delta");
    block.parts.push(part);
  }

  #blockStop(data: JsonObject): void {
    const block = this.#openBlock(data.index, "content_block_stop");
    this.#open = undefined;
    const { start } = block;
    const joined = block.parts.join("");
    if (block.type === "text") this.#blocks.push({ type: "text", text: `${start.text}${joined}` });
    if (block.type === "redacted_thinking") this.#blocks.push({ type: "redacted_thinking", data: `${start.data}` });
    if (block.type === "thinking") {
      if (block.signature === undefined) this.#fail("thinking block closed without a signature_delta");
      this.#blocks.push({ type: "thinking", thinking: `${start.thinking}${joined}`, signature: block.signature });
    }
    if (block.type === "tool_use") {
      // The API sends a single empty partial_json for a tool without arguments.
      const input = tryParseJson(joined === "" ? "{}" : joined);
      if (!isRecord(input)) this.#fail(`tool_use input is not a JSON object: ${JSON.stringify(joined)}`);
      this.#blocks.push({ type: "tool_use", id: `${start.id}`, name: `${start.name}`, input });
    }
  }

  #messageDelta(data: JsonObject): void {
    if (this.#phase !== "blocks") this.#fail("duplicate message_delta");
    if (this.#open !== undefined) this.#fail(`message_delta while block ${this.#open.index} is still open`);
    const { delta, usage } = data;
    if (!isRecord(delta) || typeof delta.stop_reason !== "string" || !STOP_REASONS.has(delta.stop_reason)) {
      this.#fail(`delta.stop_reason must be one of ${[...STOP_REASONS].join(", ")}`);
    }
    if (!isRecord(usage) || typeof usage.output_tokens !== "number") {
      this.#fail("message_delta without a numeric usage.output_tokens");
    }
    this.#stopReason = delta.stop_reason;
    this.#usage = { ...this.#usage, ...numericFields(usage) };
    this.#phase = "after-delta";
  }
}

/**
 * Asserts that events form a valid Anthropic Messages stream and returns what it said. Throws an `AssertionError`
 * naming the first offending event.
 *
 * @example
 * ```ts
 * const summary = assertValidAnthropicStream(await readSse(response));
 * assert.equal(summary.stopReason, "tool_use");
 * assert.deepEqual(summary.toolUses[0].input, { command: "ls" });
 * ```
 */
export function assertValidAnthropicStream(events: readonly SseEvent[]): AnthropicStreamSummary {
  const grammar = new AnthropicGrammar();
  events.forEach((event, index) => grammar.feed(event, index));
  return grammar.finish();
}
