/**
 * Converts a parsed Anthropic Messages event stream into OpenAI chat completion chunks.
 *
 * Direction: the client speaks OpenAI Chat, the upstream speaks Anthropic Messages. Input and output are parsed
 * server-sent events; decoding and encoding bytes is the pipeline's job.
 *
 * @module
 */

import { openaiErrorBody } from "../../http/errors.ts";
import type {
  AnthropicBlockDelta,
  AnthropicContentBlock,
  AnthropicStreamEvent,
  AnthropicToolUseBlock,
} from "../../protocols/anthropic.ts";
import type { OpenAIChatChunk, OpenAIErrorBody, OpenAIToolCallDelta } from "../../protocols/openai.ts";
import { jsonSse, type SseEvent } from "../../protocols/sse.ts";
import { anthropicErrorToOpenAI } from "./error.ts";
import {
  type AnthropicWireUsage,
  chatCompletionId,
  legacyFinishReason,
  stopReasonToFinishReason,
  toolCallId,
  toOpenAIUsage,
  unixSeconds,
} from "./response.ts";

/** Per-request facts the stream converter needs. */
export interface AnthropicToOpenAIStreamContext {
  /** The model name the client asked for; echoed in every chunk. */
  model: string;
  /** Whether the client asked for `stream_options.include_usage`: then a last chunk with `choices: []` has usage. */
  includeUsage: boolean;
  /** The client used legacy `functions`: the first call streams as `delta.function_call`, not `tool_calls`. */
  legacyFunctions?: boolean;
}

/** The event that ends a successful OpenAI stream. */
const DONE: SseEvent = { data: "[DONE]" };

type Delta = OpenAIChatChunk["choices"][number]["delta"];

/** What the converter remembers of one open `tool_use` block. */
interface ToolState {
  /** The OpenAI tool-call index: 0, 1, 2… in order of appearance. */
  index: number;
  /** The input sent in `content_block_start`, used when no `input_json_delta` carries any text. */
  input: unknown;
  /** Whether any argument text was sent. */
  sentArguments: boolean;
}

/**
 * A `TransformStream` from Anthropic stream events to OpenAI chunk events (`data:` lines only, no `event:` line).
 *
 * 1. `message_start` → the first chunk, `delta: {role: "assistant", content: ""}`.
 * 2. `text_delta` → `delta.content`; `thinking_delta` → `delta.reasoning_content`; `signature_delta`,
 *    `citations_delta`, `redacted_thinking` and server-tool blocks have no OpenAI equivalent and are dropped.
 * 3. Each `tool_use` block → one tool call with a stable `index` (0, 1, 2… in order of appearance); its first delta
 *    carries `id`, `type` and `function: {name, arguments: ""}`, then each `input_json_delta` a piece of
 *    `arguments`. A call whose input streamed no text gets `arguments: "{}"` (or its start input) when its block
 *    stops, so clients always receive parseable JSON.
 *    For a legacy `functions` request the first call streams as `delta.function_call` instead (`{name, arguments}`,
 *    then `{arguments}` pieces) and `tool_calls` becomes `function_call` as the finish reason.
 * 4. `message_delta` → a chunk with an empty delta and the `finish_reason` (see `stopReasonToFinishReason`).
 * 5. `message_stop` → when `includeUsage`, a chunk with `choices: []` and the usage (message_start's counts, raised
 *    by message_delta's cumulative counts); then `data: [DONE]`.
 * 6. An `error` event, an event that is not JSON or cannot be converted, or an upstream that ends before
 *    `message_stop` → one chunk `{"error": {message, type, param, code}}`, and the stream ends **without**
 *    `[DONE]`. The openai SDK throws an `APIError` on such a chunk; without it a truncated answer would look
 *    complete, since the SDK treats a stream that just ends as finished.
 *
 * `ping` and unknown event types are ignored; events after the end are ignored. All chunks share one `id`
 * (derived from the upstream message id) and one `created`.
 *
 * @example
 * ```ts
 * const chunks = upstream.body!
 *   .pipeThrough(new TextDecoderStream())
 *   .pipeThrough(new EventSourceParserStream())
 *   .pipeThrough(new AnthropicToOpenAIStream({ model: "claude-sonnet", includeUsage: true }))
 *   .pipeThrough(new SseEncoderStream());
 * ```
 */
export class AnthropicToOpenAIStream extends TransformStream<SseEvent, SseEvent> {
  /** Creates the converter for one response; `ctx` holds what the client asked for. */
  constructor(ctx: AnthropicToOpenAIStreamContext) {
    const converter = new ChunkConverter(ctx);
    super({
      transform(event, controller) {
        for (const out of converter.convert(event)) controller.enqueue(out);
      },
      flush(controller) {
        for (const out of converter.finish()) controller.enqueue(out);
      },
    });
  }
}

/** The state machine behind {@link AnthropicToOpenAIStream}: one Anthropic event in, zero or more chunks out. */
class ChunkConverter {
  readonly #model: string;
  readonly #includeUsage: boolean;
  readonly #legacyFunctions: boolean;
  readonly #created = unixSeconds();
  #id: string | undefined;
  #started = false;
  #ended = false;
  #finishSent = false;
  readonly #tools = new Map<number, ToolState>();
  #usage: AnthropicWireUsage = { input_tokens: 0, output_tokens: 0 };

  constructor(ctx: AnthropicToOpenAIStreamContext) {
    this.#model = ctx.model;
    this.#includeUsage = ctx.includeUsage;
    this.#legacyFunctions = ctx.legacyFunctions === true;
  }

  /** Converts one upstream event; any failure ends the stream with an error chunk (rule 6). */
  convert(event: SseEvent): SseEvent[] {
    if (this.#ended) return [];
    let parsed: AnthropicStreamEvent;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      return this.#fail(openaiErrorBody("api_error", "Upstream sent an event that is not JSON"));
    }
    try {
      return this.#dispatch(parsed);
    } catch (error) {
      return this.#fail(openaiErrorBody("api_error", `Cannot convert upstream event: ${(error as Error).message}`));
    }
  }

  /** Called when the upstream ends: a stream without `message_stop` was cut short (rule 6). */
  finish(): SseEvent[] {
    if (this.#ended) return [];
    return this.#fail(openaiErrorBody("api_error", "Upstream stream ended before message_stop"));
  }

  #dispatch(event: AnthropicStreamEvent): SseEvent[] {
    switch (event?.type) {
      case "message_start": // (1)
        this.#id ??= chatCompletionId(event.message?.id);
        this.#raiseUsage(event.message?.usage);
        return this.#start();
      case "content_block_start":
        return this.#blockStart(event.index, event.content_block);
      case "content_block_delta": // (2) (3)
        return this.#blockDelta(event.index, event.delta);
      case "content_block_stop":
        return this.#blockStop(event.index);
      case "message_delta": // (4)
        this.#raiseUsage(event.usage);
        return event.delta?.stop_reason ? this.#finishReason(event.delta.stop_reason) : [];
      case "message_stop": // (5)
        return this.#stop();
      case "error": // (6)
        return this.#fail(anthropicErrorToOpenAI(event.error));
      default:
        return [];
    }
  }

  #blockStart(index: number, block: AnthropicContentBlock): SseEvent[] {
    if (block.type === "text" && typeof block.text === "string" && block.text !== "") {
      return this.#delta({ content: block.text });
    }
    if (block.type === "thinking" && typeof block.thinking === "string" && block.thinking !== "") {
      return this.#delta({ reasoning_content: block.thinking });
    }
    if (block.type !== "tool_use") return [];
    const { id, name, input } = block as AnthropicToolUseBlock;
    const tool: ToolState = { index: this.#tools.size, input, sentArguments: false };
    this.#tools.set(index, tool);
    return this.#toolDelta({
      index: tool.index,
      id: toolCallId(id),
      type: "function",
      function: { name, arguments: "" },
    });
  }

  #blockDelta(index: number, delta: AnthropicBlockDelta): SseEvent[] {
    if (delta.type === "text_delta" && typeof delta.text === "string") return this.#delta({ content: delta.text });
    if (delta.type === "thinking_delta" && typeof delta.thinking === "string") {
      return this.#delta({ reasoning_content: delta.thinking });
    }
    const tool = this.#tools.get(index);
    if (delta.type !== "input_json_delta" || tool === undefined || typeof delta.partial_json !== "string") return [];
    if (delta.partial_json === "") return [];
    tool.sentArguments = true;
    return this.#toolDelta({ index: tool.index, function: { arguments: delta.partial_json } });
  }

  #blockStop(index: number): SseEvent[] {
    const tool = this.#tools.get(index);
    if (tool === undefined || tool.sentArguments) return [];
    tool.sentArguments = true;
    const input = typeof tool.input === "object" && tool.input !== null ? tool.input : {};
    return this.#toolDelta({ index: tool.index, function: { arguments: JSON.stringify(input) } });
  }

  #finishReason(reason: string | null): SseEvent[] {
    if (this.#finishSent) return [];
    this.#finishSent = true;
    const mapped = stopReasonToFinishReason(reason, this.#tools.size > 0);
    const finish = this.#legacyFunctions ? legacyFinishReason(mapped) : mapped;
    return [...this.#start(), jsonSse(this.#chunk({}, finish))];
  }

  #stop(): SseEvent[] {
    const out = this.#finishReason(null);
    if (this.#includeUsage) out.push(jsonSse({ ...this.#chunk(), choices: [], usage: toOpenAIUsage(this.#usage) }));
    out.push(DONE);
    this.#ended = true;
    return out;
  }

  #fail(body: OpenAIErrorBody): SseEvent[] {
    this.#ended = true;
    return [jsonSse(body)];
  }

  /** Emits the role chunk once, before any other chunk, even if the upstream skipped `message_start`. */
  #start(): SseEvent[] {
    if (this.#started) return [];
    this.#started = true;
    return [jsonSse(this.#chunk({ role: "assistant", content: "" }))];
  }

  #delta(delta: Delta): SseEvent[] {
    return [...this.#start(), jsonSse(this.#chunk(delta))];
  }

  #toolDelta(call: OpenAIToolCallDelta): SseEvent[] {
    if (!this.#legacyFunctions) return this.#delta({ tool_calls: [call] });
    // A legacy answer holds one call (parallel calls are off upstream): any further call is left out.
    return call.index === 0 ? this.#delta({ function_call: call.function }) : [];
  }

  #chunk(delta: Delta = {}, finishReason: string | null = null): OpenAIChatChunk {
    this.#id ??= chatCompletionId(undefined);
    return {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
  }

  /** Anthropic counts are cumulative: keep the largest value seen for each. */
  #raiseUsage(usage: Partial<AnthropicWireUsage> | undefined): void {
    if (usage === undefined || usage === null) return;
    const next: AnthropicWireUsage = { ...this.#usage };
    for (const key of ["input_tokens", "output_tokens"] as const) {
      const value = usage[key];
      if (typeof value === "number") next[key] = Math.max(next[key], value);
    }
    for (const key of ["cache_read_input_tokens", "cache_creation_input_tokens"] as const) {
      const value = usage[key];
      if (typeof value === "number") next[key] = Math.max(next[key] ?? 0, value);
    }
    const thinking = usage.output_tokens_details?.thinking_tokens;
    if (typeof thinking === "number") next.output_tokens_details = { thinking_tokens: thinking };
    this.#usage = next;
  }
}
