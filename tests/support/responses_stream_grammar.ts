/**
 * A strict checker of OpenAI Responses API event streams, for the proxy's Responses-facing output.
 *
 * Grammar: every event is a JSON object whose `type` equals its `event:` line (when sent) and whose
 * `sequence_number` counts 0, 1, 2…; `response.created` comes first, then optionally `response.in_progress`; output
 * items open (`response.output_item.added`) at consecutive `output_index` values with fresh ids (and fresh
 * `call_id`s for function calls); every item event names an open item by `output_index` and its `item_id`; content
 * parts open at consecutive `content_index` values with a part of the item's kind (`output_text` in a message,
 * `reasoning_text` in a reasoning item); deltas go to an open part (or an open function call), their `….done` text
 * equals the deltas joined, and a part closes after its text; an item closes once, after its parts, with the same
 * id, type, `call_id`, text and arguments. The stream ends with exactly one terminal event: `response.completed` /
 * `response.incomplete` (every item closed, `output` listing them in order, usage, when sent, with integer counts), `response.failed`
 * (with an error) or `error`.
 *
 * @module
 */

import { type EventPosition, grammarFailure } from "./grammar_failure.ts";
import { isRecord, type JsonObject, tryParseJson } from "./json_guards.ts";
import type { SseEvent } from "./sse.ts";

/** A function call of a valid stream, reassembled. */
export interface ResponsesCallSummary {
  /** The call id the client answers with. */
  callId: string;
  /** The function name. */
  name: string;
  /** The argument text. */
  arguments: string;
}

/** What a valid Responses stream said, for assertions. */
export interface ResponsesStreamSummary {
  /** The response id. */
  id: string;
  /** The final status: `completed`, `incomplete` or `failed` (`undefined` after an `error` event). */
  status: string | undefined;
  /** All `output_text` deltas joined. */
  text: string;
  /** All `reasoning_text` deltas joined. */
  reasoning: string;
  /** Function calls in output order. */
  calls: ResponsesCallSummary[];
  /** The item types in output order. */
  items: string[];
  /** The usage of the terminal response, if any. */
  usage: JsonObject | undefined;
  /** The error of a failed response or an `error` event. */
  error: JsonObject | undefined;
}

/** One content part as the stream built it. */
interface PartState {
  type: string;
  text: string;
  textDone: boolean;
  done: boolean;
}

/** One output item as the stream built it. */
interface ItemState {
  id: string;
  type: string;
  callId?: string;
  name?: string;
  arguments: string;
  argumentsDone: boolean;
  parts: PartState[];
  done: boolean;
}

/** The part type each item type holds. */
const PART_TYPES: Record<string, string> = { message: "output_text", reasoning: "reasoning_text" };

/** The terminal lifecycle events and the status their response must have. */
const TERMINAL_STATUS: Record<string, string> = {
  "response.completed": "completed",
  "response.incomplete": "incomplete",
  "response.failed": "failed",
};

/** Walks a stream event by event, failing on the first violation. */
class ResponsesGrammar {
  #at: EventPosition = { index: -1, label: "" };
  #count = 0;
  #id: string | undefined;
  #ended = false;
  #status: string | undefined;
  #items: ItemState[] = [];
  #ids = new Set<string>();
  #callIds = new Set<string>();
  #usage: JsonObject | undefined;
  #error: JsonObject | undefined;

  #fail(problem: string): never {
    throw grammarFailure("Responses", this.#at, problem);
  }

  feed(event: SseEvent, index: number): void {
    const data = tryParseJson(event.data);
    const type = isRecord(data) && typeof data.type === "string" ? data.type : "?";
    this.#at = { index, label: type };
    if (!isRecord(data) || type === "?") this.#fail("data is not a JSON object with a type");
    if (this.#ended) this.#fail("event after the terminal event");
    if (event.event !== undefined && event.event !== type) this.#fail(`event: line "${event.event}" differs from type`);
    if (data.sequence_number !== this.#count) {
      this.#fail(`sequence_number ${data.sequence_number}, expected ${this.#count}`);
    }
    if (this.#count === 0 && type !== "response.created") this.#fail("the first event must be response.created");
    this.#count++;
    this.#dispatch(type, data);
  }

  #dispatch(type: string, data: JsonObject): void {
    switch (type) {
      case "response.created":
      case "response.in_progress":
        this.#lifecycle(type, data, "in_progress");
        return;
      case "response.completed":
      case "response.incomplete":
      case "response.failed":
        return this.#terminal(type, data);
      case "error":
        if (typeof data.message !== "string") this.#fail("error event without a message");
        this.#error = data;
        this.#ended = true;
        return;
      case "response.output_item.added":
        return this.#itemAdded(data);
      case "response.output_item.done":
        return this.#itemDone(data);
      case "response.content_part.added":
        return this.#partAdded(data);
      case "response.content_part.done":
        return this.#partDone(data);
      case "response.output_text.delta":
      case "response.reasoning_text.delta":
        return this.#textDelta(data, type === "response.output_text.delta" ? "output_text" : "reasoning_text");
      case "response.output_text.done":
      case "response.reasoning_text.done":
        return this.#textDone(data, type === "response.output_text.done" ? "output_text" : "reasoning_text");
      case "response.function_call_arguments.delta":
        return this.#argumentsDelta(data);
      case "response.function_call_arguments.done":
        return this.#argumentsDone(data);
      default:
        this.#fail(`unknown event type "${type}"`);
    }
  }

  #lifecycle(type: string, data: JsonObject, status: string): JsonObject {
    const response = data.response;
    if (!isRecord(response) || response.object !== "response") this.#fail(`${type} without a response object`);
    if (typeof response.id !== "string" || response.id === "") this.#fail("response without an id");
    this.#id ??= response.id;
    if (response.id !== this.#id) this.#fail(`response id "${response.id}" differs from "${this.#id}"`);
    if (response.status !== status) this.#fail(`${type} with status "${response.status}", expected "${status}"`);
    if (!Array.isArray(response.output)) this.#fail("response without an output array");
    return response;
  }

  #terminal(type: string, data: JsonObject): void {
    const response = this.#lifecycle(type, data, TERMINAL_STATUS[type]);
    this.#ended = true;
    this.#status = response.status as string;
    if (isRecord(response.usage)) this.#usage = response.usage;
    const output = response.output as unknown[];
    if (type === "response.failed") {
      if (!isRecord(response.error) || typeof response.error.message !== "string") {
        this.#fail("response.failed without error.message");
      }
      this.#error = response.error;
      return;
    }
    const open = this.#items.findIndex((item) => !item.done);
    if (open !== -1) this.#fail(`${type} while output item ${open} is open`);
    const ids = output.map((item) => isRecord(item) ? item.id : undefined);
    const expected = this.#items.map((item) => item.id);
    if (JSON.stringify(ids) !== JSON.stringify(expected)) {
      this.#fail(`output ids ${JSON.stringify(ids)} differ from the streamed items ${JSON.stringify(expected)}`);
    }
    const usage = response.usage;
    if (
      usage !== undefined && (!isRecord(usage) || !Number.isInteger(usage.input_tokens) ||
        !Number.isInteger(usage.output_tokens) || !Number.isInteger(usage.total_tokens))
    ) {
      this.#fail(`${type} with usage lacking integer input, output and total tokens`);
    }
    if (type === "response.completed") {
      for (const item of this.#items) {
        if (item.type === "function_call" && !isRecord(tryParseJson(item.arguments))) {
          this.#fail(`function call ${item.id} arguments are not a JSON object: ${JSON.stringify(item.arguments)}`);
        }
      }
    }
  }

  #item(data: JsonObject, open = true): ItemState {
    const item = Number.isInteger(data.output_index) ? this.#items[data.output_index as number] : undefined;
    if (item === undefined) this.#fail(`output_index ${data.output_index} names no item`);
    if ("item_id" in data && data.item_id !== item.id) {
      this.#fail(`item_id "${data.item_id}" is not the id of output item ${data.output_index} ("${item.id}")`);
    }
    if (open && item.done) this.#fail(`output item ${data.output_index} is already done`);
    return item;
  }

  #itemAdded(data: JsonObject): void {
    const { item } = data;
    if (data.output_index !== this.#items.length) {
      this.#fail(`output_index ${data.output_index}, expected ${this.#items.length}`);
    }
    if (!isRecord(item) || typeof item.id !== "string" || item.id === "") this.#fail("item without an id");
    if (this.#ids.has(item.id)) this.#fail(`item id "${item.id}" repeats`);
    if (!["message", "reasoning", "function_call"].includes(item.type as string)) {
      this.#fail(`unknown item type "${item.type}"`);
    }
    if (item.status !== "in_progress") this.#fail(`item added with status "${item.status}"`);
    this.#ids.add(item.id);
    const state: ItemState = {
      id: item.id,
      type: item.type as string,
      arguments: "",
      argumentsDone: false,
      parts: [],
      done: false,
    };
    if (item.type === "function_call") {
      if (typeof item.call_id !== "string" || item.call_id === "") this.#fail("function_call without a call_id");
      if (this.#callIds.has(item.call_id)) this.#fail(`call_id "${item.call_id}" repeats`);
      if (typeof item.name !== "string" || item.name === "") this.#fail("function_call without a name");
      if (item.arguments !== "") this.#fail("function_call added with arguments");
      this.#callIds.add(item.call_id);
      state.callId = item.call_id;
      state.name = item.name;
    } else if (!Array.isArray(item.content) || item.content.length !== 0) {
      this.#fail(`${item.type} item added with content`);
    }
    this.#items.push(state);
  }

  #itemDone(data: JsonObject): void {
    const state = this.#item(data);
    const { item } = data;
    if (!isRecord(item) || item.id !== state.id || item.type !== state.type) {
      this.#fail(`output_item.done changes the id or type of item ${data.output_index}`);
    }
    if (item.status !== "completed" && item.status !== "incomplete") {
      this.#fail(`item done with status "${item.status}"`);
    }
    if (state.type === "function_call") {
      if (!state.argumentsDone) this.#fail("function_call done before its arguments");
      if (item.call_id !== state.callId || item.name !== state.name || item.arguments !== state.arguments) {
        this.#fail("function_call done with another call_id, name or arguments");
      }
    } else {
      if (state.parts.length === 0 || state.parts.some((part) => !part.done)) {
        this.#fail(`${state.type} item done with no part or an open part`);
      }
      const texts = Array.isArray(item.content)
        ? item.content.map((part) => isRecord(part) ? part.text : undefined)
        : [];
      if (JSON.stringify(texts) !== JSON.stringify(state.parts.map((part) => part.text))) {
        this.#fail(`${state.type} item done with content that differs from the streamed text`);
      }
    }
    state.done = true;
  }

  #part(data: JsonObject, type: string): PartState {
    const item = this.#item(data);
    const part = Number.isInteger(data.content_index) ? item.parts[data.content_index as number] : undefined;
    if (part === undefined) this.#fail(`content_index ${data.content_index} names no part`);
    if (part.type !== type) this.#fail(`part ${data.content_index} is ${part.type}, not ${type}`);
    if (part.done) this.#fail(`part ${data.content_index} is already done`);
    return part;
  }

  #partAdded(data: JsonObject): void {
    const item = this.#item(data);
    const type = PART_TYPES[item.type];
    if (type === undefined) this.#fail(`a ${item.type} item has no content parts`);
    if (data.content_index !== item.parts.length) {
      this.#fail(`content_index ${data.content_index}, expected ${item.parts.length}`);
    }
    if (!isRecord(data.part) || data.part.type !== type || data.part.text !== "") {
      this.#fail(`a ${item.type} part must open as an empty ${type}`);
    }
    item.parts.push({ type, text: "", textDone: false, done: false });
  }

  #partDone(data: JsonObject): void {
    const item = this.#item(data);
    const part = this.#part(data, PART_TYPES[item.type]);
    if (!part.textDone) this.#fail("content part done before its text");
    if (!isRecord(data.part) || data.part.text !== part.text) this.#fail("content part done with other text");
    part.done = true;
  }

  #textDelta(data: JsonObject, type: string): void {
    const part = this.#part(data, type);
    if (part.textDone) this.#fail("text delta after the text is done");
    if (typeof data.delta !== "string") this.#fail("delta must be a string");
    part.text += data.delta;
  }

  #textDone(data: JsonObject, type: string): void {
    const part = this.#part(data, type);
    if (part.textDone) this.#fail("text done twice");
    if (data.text !== part.text) this.#fail(`done text ${JSON.stringify(data.text)} differs from the deltas`);
    part.textDone = true;
  }

  #call(data: JsonObject): ItemState {
    const item = this.#item(data);
    if (item.type !== "function_call") this.#fail(`arguments for a ${item.type} item`);
    if (item.argumentsDone) this.#fail("arguments after they are done");
    return item;
  }

  #argumentsDelta(data: JsonObject): void {
    const item = this.#call(data);
    if (typeof data.delta !== "string") this.#fail("delta must be a string");
    item.arguments += data.delta;
  }

  #argumentsDone(data: JsonObject): void {
    const item = this.#call(data);
    if (data.arguments !== item.arguments) this.#fail("done arguments differ from the deltas");
    item.argumentsDone = true;
  }

  finish(): ResponsesStreamSummary {
    this.#at = { index: -1, label: "" };
    if (!this.#ended) this.#fail("the stream ended without a terminal event");
    const partsText = (type: string) =>
      this.#items.flatMap((item) => item.parts).filter((part) => part.type === type).map((part) => part.text).join("");
    return {
      id: this.#id ?? "",
      status: this.#status,
      text: partsText("output_text"),
      reasoning: partsText("reasoning_text"),
      calls: this.#items.filter((item) => item.type === "function_call")
        .map((item) => ({ callId: item.callId!, name: item.name!, arguments: item.arguments })),
      items: this.#items.map((item) => item.type),
      usage: this.#usage,
      error: this.#error,
    };
  }
}

/**
 * Asserts that events form a valid Responses API event stream and returns what it said. Throws an
 * `AssertionError` naming the first offending event.
 *
 * @example
 * ```ts
 * const summary = assertValidResponsesStream(await readSse(response));
 * assert.equal(summary.status, "completed");
 * assert.deepEqual(summary.calls.map((call) => call.name), ["ls", "cat"]);
 * ```
 */
export function assertValidResponsesStream(events: readonly SseEvent[]): ResponsesStreamSummary {
  const grammar = new ResponsesGrammar();
  events.forEach((event, index) => grammar.feed(event, index));
  return grammar.finish();
}
