/**
 * A strict checker of OpenAI Chat Completions chunk streams, for the proxy's OpenAI-facing output.
 *
 * Grammar: chunks sharing one `id` with `object: "chat.completion.chunk"` and one choice (index 0); the first delta
 * has `role: "assistant"`; tool calls open at consecutive indices with an id, `type: "function"` and a name, and keep
 * that id; exactly one chunk carries a `finish_reason`, and only an optional usage chunk (empty `choices`) may follow
 * it; `data: [DONE]` comes last. An error object (`{"error": {…}}`) may end the stream instead, optionally followed
 * by `[DONE]`.
 *
 * @module
 */

import { type EventPosition, grammarFailure } from "./grammar_failure.ts";
import { isRecord, type JsonObject, tryParseJson } from "./json_guards.ts";
import type { SseEvent } from "./sse.ts";

/** The finish reasons OpenAI clients know. */
const FINISH_REASONS = new Set(["stop", "length", "tool_calls", "content_filter", "function_call"]);

/** A tool call of a valid stream, reassembled. */
export interface OpenAIToolCallSummary {
  /** The stream index of the call. */
  index: number;
  /** The call id. */
  id: string;
  /** The function name. */
  name: string;
  /** The concatenated argument text (valid JSON when the stream completed). */
  arguments: string;
}

/** What a valid OpenAI stream said, for assertions. */
export interface OpenAIStreamSummary {
  /** The chunks' shared id, if any chunk came. */
  id: string | undefined;
  /** The first chunk's model, if any chunk came. */
  model: string | undefined;
  /** All `delta.content` joined. */
  text: string;
  /** All `delta.reasoning_content` and `delta.reasoning` joined. */
  reasoning: string;
  /** Tool calls in index order. */
  toolCalls: OpenAIToolCallSummary[];
  /** The finish reason, unless the stream ended with an error. */
  finishReason: string | undefined;
  /** The usage object, if one was sent. */
  usage: JsonObject | undefined;
  /** The error object, when the stream ended with one. */
  error: JsonObject | undefined;
}

/** Where the stream is in its grammar. */
type Phase = "chunks" | "finished" | "usage" | "errored" | "done";

/** Tells whether a value is absent, null or a string. */
function isOptionalString(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === "string";
}

/** Walks a stream event by event, failing on the first violation. */
class OpenAIGrammar {
  #at: EventPosition = { index: -1, label: "" };
  #phase: Phase = "chunks";
  #chunks = 0;
  #id: string | undefined;
  #model: string | undefined;
  #text: string[] = [];
  #reasoning: string[] = [];
  #toolCalls: OpenAIToolCallSummary[] = [];
  #finishReason: string | undefined;
  #usage: JsonObject | undefined;
  #error: JsonObject | undefined;

  #fail(problem: string): never {
    throw grammarFailure("OpenAI", this.#at, problem);
  }

  feed(event: SseEvent, index: number): void {
    this.#at = { index, label: event.data === "[DONE]" ? "[DONE]" : "chunk" };
    if (this.#phase === "done") this.#fail("event after [DONE]");
    if (event.data === "[DONE]") {
      if (this.#phase === "chunks") this.#fail("[DONE] before any finish_reason");
      this.#phase = "done";
      return;
    }
    if (this.#phase === "errored") this.#fail("event after the error");
    const data = tryParseJson(event.data);
    if (!isRecord(data)) this.#fail("data is neither a JSON object nor [DONE]");
    if ("error" in data) return this.#errorChunk(data.error);
    this.#checkEnvelope(data);
    const { choices } = data;
    if (!Array.isArray(choices)) this.#fail("choices must be an array");
    if (choices.length === 0) return this.#usageChunk(data.usage);
    if (this.#phase !== "chunks") this.#fail("choice chunk after the finish_reason chunk");
    if (choices.length !== 1) this.#fail(`expected one choice, got ${choices.length}`);
    this.#choice(choices[0]);
    if (isRecord(data.usage)) this.#usage = data.usage;
    this.#chunks++;
  }

  finish(): OpenAIStreamSummary {
    this.#at = { index: -1, label: "" };
    if (this.#phase !== "done" && this.#phase !== "errored") this.#fail("the stream ended without [DONE]");
    // A length cut may end inside a call's arguments, as it does for the real API.
    if (this.#phase === "done" && this.#finishReason !== "length") {
      for (const call of this.#toolCalls) {
        if (!isRecord(tryParseJson(call.arguments))) {
          this.#fail(`tool call ${call.index} arguments are not a JSON object: ${JSON.stringify(call.arguments)}`);
        }
      }
    }
    return {
      id: this.#id,
      model: this.#model,
      text: this.#text.join(""),
      reasoning: this.#reasoning.join(""),
      toolCalls: this.#toolCalls,
      finishReason: this.#finishReason,
      usage: this.#usage,
      error: this.#error,
    };
  }

  #errorChunk(error: unknown): void {
    if (!isRecord(error) || typeof error.message !== "string") this.#fail("error without a message string");
    this.#error = error;
    this.#phase = "errored";
  }

  #checkEnvelope(data: JsonObject): void {
    if (typeof data.id !== "string" || data.id === "") this.#fail("chunk without an id");
    this.#id ??= data.id;
    if (data.id !== this.#id) this.#fail(`chunk id "${data.id}" differs from "${this.#id}"`);
    if (data.object !== "chat.completion.chunk") this.#fail(`object must be "chat.completion.chunk"`);
    if (typeof data.model !== "string") this.#fail("chunk without a model");
    if (typeof data.created !== "number") this.#fail("chunk without a numeric created");
    this.#model ??= data.model;
  }

  #usageChunk(usage: unknown): void {
    if (!isRecord(usage)) this.#fail("chunk with empty choices but no usage");
    if (this.#phase !== "finished") this.#fail("usage chunk before the finish_reason chunk or repeated");
    this.#usage = usage;
    this.#phase = "usage";
  }

  #choice(choice: unknown): void {
    if (!isRecord(choice) || choice.index !== 0) this.#fail("choice must be an object with index 0");
    const { delta, finish_reason: reason } = choice;
    if (!isRecord(delta)) this.#fail("choice without a delta object");
    if (this.#chunks === 0 && delta.role !== "assistant") this.#fail(`the first delta must have role "assistant"`);
    if (delta.role !== undefined && delta.role !== "assistant") this.#fail(`delta role "${delta.role}"`);
    for (const field of ["content", "reasoning_content", "reasoning"]) {
      const value = delta[field];
      if (!isOptionalString(value)) this.#fail(`delta.${field} must be a string or null`);
      if (typeof value === "string") (field === "content" ? this.#text : this.#reasoning).push(value);
    }
    if (delta.tool_calls !== undefined && delta.tool_calls !== null) {
      if (!Array.isArray(delta.tool_calls)) this.#fail("delta.tool_calls must be an array");
      delta.tool_calls.forEach((call) => this.#toolCall(call));
    }
    if (reason === null || reason === undefined) return;
    if (typeof reason !== "string" || !FINISH_REASONS.has(reason)) this.#fail(`unknown finish_reason "${reason}"`);
    this.#finishReason = reason;
    this.#phase = "finished";
  }

  #toolCall(call: unknown): void {
    if (!isRecord(call) || !Number.isInteger(call.index)) this.#fail("tool call delta without an integer index");
    const fn = isRecord(call.function) ? call.function : {};
    if (!isOptionalString(fn.arguments)) this.#fail("tool call arguments must be a string");
    const known = this.#toolCalls.find((existing) => existing.index === call.index);
    if (known === undefined) {
      if (call.index !== this.#toolCalls.length) {
        this.#fail(`tool call index ${call.index} opened, expected ${this.#toolCalls.length}`);
      }
      if (typeof call.id !== "string" || call.id === "") this.#fail(`tool call ${call.index} opened without an id`);
      if (call.type !== "function") this.#fail(`tool call ${call.index} opened without type "function"`);
      if (typeof fn.name !== "string" || fn.name === "") this.#fail(`tool call ${call.index} opened without a name`);
      this.#toolCalls.push({
        index: this.#toolCalls.length,
        id: call.id,
        name: fn.name,
        arguments: fn.arguments ?? "",
      });
      return;
    }
    if (call.id !== undefined && call.id !== known.id) {
      this.#fail(`tool call ${known.index} changed its id from "${known.id}" to "${call.id}"`);
    }
    if (fn.name !== undefined && fn.name !== known.name) this.#fail(`tool call ${known.index} changed its name`);
    known.arguments += fn.arguments ?? "";
  }
}

/**
 * Asserts that events form a valid OpenAI chat completion chunk stream and returns what it said. Throws an
 * `AssertionError` naming the first offending event.
 *
 * @example
 * ```ts
 * const summary = assertValidOpenAIStream(await readSse(response));
 * assert.equal(summary.finishReason, "tool_calls");
 * assert.deepEqual(JSON.parse(summary.toolCalls[0].arguments), { city: "Paris" });
 * ```
 */
export function assertValidOpenAIStream(events: readonly SseEvent[]): OpenAIStreamSummary {
  const grammar = new OpenAIGrammar();
  events.forEach((event, index) => grammar.feed(event, index));
  return grammar.finish();
}
