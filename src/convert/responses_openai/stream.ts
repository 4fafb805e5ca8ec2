/**
 * Converts a parsed Chat Completions chunk stream into the Responses API event stream.
 *
 * Direction: the client speaks OpenAI Responses, the upstream OpenAI Chat (an Anthropic upstream's stream arrives
 * here already converted to chat chunks by `convert/openai_anthropic/`). Input and output are parsed server-sent
 * events; decoding and encoding bytes is the pipeline's job.
 *
 * @module
 */

import { isJsonObject } from "../../protocols/json_object.ts";
import { contentParts } from "../../protocols/openai_content.ts";
import type {
  ResponsesError,
  ResponsesItemStatus,
  ResponsesLifecycleEvent,
  ResponsesOutputFunctionCall,
  ResponsesOutputItem,
  ResponsesStreamEvent,
  ResponsesUsage,
} from "../../protocols/openai_responses_types.ts";
import { jsonSse, type SseEvent } from "../../protocols/sse.ts";
import { toolCallId, unixSeconds } from "../openai_anthropic/response.ts";
import {
  messageItem,
  newId,
  reasoningItem,
  responseObject,
  type ResponsesContext,
  type ResponseState,
  statusForFinishReason,
  toResponsesUsage,
} from "./response.ts";

/** An event without its `sequence_number`, which the converter adds when it emits it. */
type Unnumbered<E> = E extends unknown ? Omit<E, "sequence_number"> : never;

/** The open text item: an assistant message or a reasoning item, each with one content part. */
interface OpenText {
  kind: "message" | "reasoning";
  outputIndex: number;
  id: string;
  text: string;
}

/** An open function call, keyed by its chat tool-call index. */
interface OpenCall {
  outputIndex: number;
  item: ResponsesOutputFunctionCall;
}

/**
 * A `TransformStream` from chat completion chunk events to Responses events, each sent with its `event:` line
 * equal to its `type`, as OpenAI sends them.
 *
 * 1. The first upstream event → `response.created` and `response.in_progress` (status `in_progress`, no output).
 * 2. `delta.content` (or text parts of an array content) → a `message` item: `response.output_item.added`,
 *    `response.content_part.added` (`output_text`), then `response.output_text.delta` per piece.
 * 3. `delta.reasoning_content` / `delta.reasoning` (or thinking parts) → a `reasoning` item whose one content part
 *    is `reasoning_text`, streamed as `response.reasoning_text.delta`: chat reasoning is the model's raw
 *    reasoning, not a summary, and this is how OpenAI streams raw reasoning (gpt-oss); the SDK accumulates it into
 *    `item.content`, and Codex shows it with `show_raw_agent_reasoning`.
 *    A message or reasoning item closes (`….done`, `response.content_part.done`, `response.output_item.done`) when
 *    an item of another kind opens, so text after reasoning, or reasoning after text, opens a new item.
 * 4. Each chat tool-call index → one `function_call` item (`call_id` = the chat call id), its argument pieces
 *    `response.function_call_arguments.delta`; parallel calls interleave freely by index. Calls stay open until the
 *    end, then close in output order with `response.function_call_arguments.done` (`{}` streamed first when no
 *    argument text came) and `response.output_item.done`.
 * 5. `[DONE]`, or the end of a stream that sent a `finish_reason` → every open item closes, then
 *    `response.completed` (or `response.incomplete` for a `length` / `content_filter` finish, with
 *    `incomplete_details`) carrying all output items and the usage (chat usage mapped by `toResponsesUsage`).
 * 6. An error chunk (`{"error": {…}}`), an event that is not JSON, or a stream that ends without a finish →
 *    `response.failed` with `error: {code, message}` and the items so far (open ones left `in_progress`); the
 *    stream ends there. `response.failed` is what OpenAI sends when a response fails mid-way, and what Codex reads
 *    (and retries); the SDK's `finalResponse()` resolves with `status: "failed"`.
 *
 * Every event has the next `sequence_number` (0, 1, 2…); item events carry `output_index` and `item_id`, content
 * events `content_index` 0. Events after the end are ignored.
 *
 * @example
 * ```ts
 * const events = upstream.body!
 *   .pipeThrough(new TextDecoderStream())
 *   .pipeThrough(new EventSourceParserStream())
 *   .pipeThrough(new ChatToResponsesStream({ request }))
 *   .pipeThrough(new SseEncoderStream());
 * ```
 */
export class ChatToResponsesStream extends TransformStream<SseEvent, SseEvent> {
  /** Creates the converter for one response; `ctx` holds the client's request. */
  constructor(ctx: ResponsesContext) {
    const converter = new ResponsesEventConverter(ctx);
    const send = (events: ResponsesStreamEvent[], controller: TransformStreamDefaultController<SseEvent>) => {
      for (const event of events) controller.enqueue(jsonSse(event, event.type));
    };
    super({
      transform: (event, controller) => send(converter.convert(event), controller),
      flush: (controller) => send(converter.finish(), controller),
    });
  }
}

/** The state machine behind {@link ChatToResponsesStream}: one chat event in, zero or more Responses events out. */
class ResponsesEventConverter {
  readonly #ctx: ResponsesContext;
  readonly #id = newId("resp");
  readonly #createdAt = unixSeconds();
  #sequence = 0;
  #started = false;
  #ended = false;
  #finishReason: string | undefined;
  #usage: ResponsesUsage | undefined;
  readonly #output: ResponsesOutputItem[] = [];
  #text: OpenText | undefined;
  readonly #calls = new Map<number, OpenCall>();
  #out: ResponsesStreamEvent[] = [];

  /** Creates the converter for one response. */
  constructor(ctx: ResponsesContext) {
    this.#ctx = ctx;
  }

  /** Converts one upstream event (rules 1 to 6 of {@link ChatToResponsesStream}). */
  convert(event: SseEvent): ResponsesStreamEvent[] {
    if (this.#ended) return [];
    this.#start();
    const data = event.data.trim();
    if (data === "[DONE]") {
      this.#complete();
      return this.#flush();
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      this.#fail({ code: "server_error", message: "Upstream sent an event that is not JSON" });
      return this.#flush();
    }
    if (isJsonObject(chunk)) this.#chunk(chunk);
    return this.#flush();
  }

  /** Called when the upstream ends: complete when a finish came, else the stream was cut short (rule 6). */
  finish(): ResponsesStreamEvent[] {
    if (this.#ended) return [];
    this.#start();
    if (this.#finishReason !== undefined) this.#complete();
    else this.#fail({ code: "server_error", message: "Upstream stream ended before the answer finished" });
    return this.#flush();
  }

  #flush(): ResponsesStreamEvent[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #emit(event: Unnumbered<ResponsesStreamEvent>): void {
    this.#out.push({ ...event, sequence_number: this.#sequence++ } as ResponsesStreamEvent);
  }

  #lifecycle(type: ResponsesLifecycleEvent["type"], state: Omit<ResponseState, "id" | "createdAt">): void {
    const response = responseObject(this.#ctx, { id: this.#id, createdAt: this.#createdAt, ...state });
    this.#emit({ type, response: structuredClone(response) });
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lifecycle("response.created", { status: "in_progress", output: [] });
    this.#lifecycle("response.in_progress", { status: "in_progress", output: [] });
  }

  #chunk(chunk: Record<string, unknown>): void {
    if (isJsonObject(chunk.error)) {
      const { code, message } = chunk.error;
      this.#fail({
        code: typeof code === "string" ? code : "server_error",
        message: typeof message === "string" ? message : "Upstream failed",
      });
      return;
    }
    if (isJsonObject(chunk.usage)) this.#usage = toResponsesUsage(chunk.usage);
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isJsonObject(choice)) return;
    const delta = isJsonObject(choice.delta) ? choice.delta : {};
    for (const field of ["reasoning_content", "reasoning"]) {
      const value = delta[field];
      if (typeof value === "string") this.#textDelta("reasoning", value);
    }
    for (const part of contentParts(delta.content)) {
      this.#textDelta(part.kind === "thinking" ? "reasoning" : "message", part.text);
    }
    if (Array.isArray(delta.tool_calls)) {
      delta.tool_calls.forEach((call, position) => isJsonObject(call) && this.#callDelta(call, position));
    }
    if (typeof choice.finish_reason === "string") this.#finishReason = choice.finish_reason;
  }

  #textDelta(kind: OpenText["kind"], delta: string): void {
    if (delta === "") return;
    if (this.#text?.kind !== kind) {
      this.#closeText();
      this.#openText(kind);
    }
    const open = this.#text!;
    open.text += delta;
    const ids = { item_id: open.id, output_index: open.outputIndex, content_index: 0 };
    if (kind === "message") this.#emit({ type: "response.output_text.delta", ...ids, delta, logprobs: [] });
    else this.#emit({ type: "response.reasoning_text.delta", ...ids, delta });
  }

  #openText(kind: OpenText["kind"]): void {
    const open: OpenText = {
      kind,
      outputIndex: this.#output.length,
      id: newId(kind === "message" ? "msg" : "rs"),
      text: "",
    };
    // The item opens without content: `response.content_part.added` adds its one part.
    const item = { ...this.#textItem(open, "in_progress"), content: [] };
    this.#output.push(item);
    this.#text = open;
    this.#emit({ type: "response.output_item.added", output_index: open.outputIndex, item: structuredClone(item) });
    const part = kind === "message"
      ? { type: "output_text" as const, text: "", annotations: [] }
      : { type: "reasoning_text" as const, text: "" };
    this.#emit({
      type: "response.content_part.added",
      item_id: open.id,
      output_index: open.outputIndex,
      content_index: 0,
      part,
    });
  }

  #closeText(): void {
    const open = this.#text;
    if (open === undefined) return;
    this.#text = undefined;
    const ids = { item_id: open.id, output_index: open.outputIndex, content_index: 0 };
    const item = this.#textItem(open, "completed");
    if (open.kind === "message") {
      this.#emit({ type: "response.output_text.done", ...ids, text: open.text, logprobs: [] });
      const part = { type: "output_text" as const, text: open.text, annotations: [] };
      this.#emit({ type: "response.content_part.done", ...ids, part });
    } else {
      this.#emit({ type: "response.reasoning_text.done", ...ids, text: open.text });
      this.#emit({ type: "response.content_part.done", ...ids, part: { type: "reasoning_text", text: open.text } });
    }
    this.#output[open.outputIndex] = item;
    this.#emit({ type: "response.output_item.done", output_index: open.outputIndex, item: structuredClone(item) });
  }

  #textItem(open: OpenText, status: ResponsesItemStatus): ResponsesOutputItem {
    return open.kind === "message"
      ? messageItem(open.id, open.text, status)
      : reasoningItem(open.id, open.text, status);
  }

  #callDelta(call: Record<string, unknown>, position: number): void {
    const index = typeof call.index === "number" ? call.index : position;
    const fn = isJsonObject(call.function) ? call.function : {};
    let open = this.#calls.get(index);
    if (open === undefined) {
      this.#closeText();
      const item: ResponsesOutputFunctionCall = {
        type: "function_call",
        id: newId("fc"),
        call_id: toolCallId(call.id),
        name: typeof fn.name === "string" ? fn.name : "",
        arguments: "",
        status: "in_progress",
      };
      open = { outputIndex: this.#output.length, item };
      this.#calls.set(index, open);
      this.#output.push(item);
      this.#emit({ type: "response.output_item.added", output_index: open.outputIndex, item: structuredClone(item) });
    } else if (open.item.name === "" && typeof fn.name === "string") open.item.name = fn.name;
    if (typeof fn.arguments === "string") this.#argumentsDelta(open, fn.arguments);
  }

  #argumentsDelta(open: OpenCall, delta: string): void {
    if (delta === "") return;
    open.item.arguments += delta;
    this.#emit({
      type: "response.function_call_arguments.delta",
      item_id: open.item.id,
      output_index: open.outputIndex,
      delta,
    });
  }

  #closeCalls(): void {
    const calls = [...this.#calls.values()].sort((a, b) => a.outputIndex - b.outputIndex);
    this.#calls.clear();
    for (const open of calls) {
      if (open.item.arguments === "") this.#argumentsDelta(open, "{}");
      const ids = { item_id: open.item.id, output_index: open.outputIndex };
      this.#emit({ type: "response.function_call_arguments.done", ...ids, arguments: open.item.arguments });
      const item = { ...open.item, status: "completed" as const };
      this.#output[open.outputIndex] = item;
      this.#emit({ type: "response.output_item.done", output_index: open.outputIndex, item: structuredClone(item) });
    }
  }

  #complete(): void {
    this.#closeText();
    this.#closeCalls();
    this.#ended = true;
    const status = statusForFinishReason(this.#finishReason);
    const type = status.status === "incomplete" ? "response.incomplete" : "response.completed";
    this.#lifecycle(type, { ...status, output: this.#output, usage: this.#usage });
  }

  /** Ends the response as failed; items still open are kept with what they got, as `incomplete`. */
  #fail(error: ResponsesError): void {
    this.#ended = true;
    if (this.#text !== undefined) this.#output[this.#text.outputIndex] = this.#textItem(this.#text, "incomplete");
    for (const open of this.#calls.values()) this.#output[open.outputIndex] = { ...open.item, status: "incomplete" };
    this.#lifecycle("response.failed", { status: "failed", error, output: this.#output, usage: this.#usage });
  }
}
