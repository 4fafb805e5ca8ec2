/**
 * Converts a streamed OpenAI chat completion into an Anthropic Messages event stream, for an Anthropic client in
 * front of an OpenAI upstream. Objects in, objects out: SSE parsing and encoding happen around it.
 *
 * The output follows the Messages stream grammar that Claude Code and the Anthropic SDK rely on:
 * `message_start`, then per block `content_block_start` → deltas → `content_block_stop` (thinking, text and one
 * `tool_use` block per call, never overlapping; see `block_sequencer.ts`), then `message_delta` with the stop
 * reason and usage, then `message_stop`; `ping` while the upstream is silent.
 *
 * Policies:
 * - `message_start` goes out on the first upstream chunk (or the first ping, if that comes earlier) with the
 *   caller's input-token estimate, as real usage arrives only at the end; `message_delta` waits for `[DONE]` or
 *   the end of the stream, because the usage chunk may follow the `finish_reason` chunk (field note 12).
 * - Data lines that are not JSON are skipped (a keep-alive or a proxy banner must not kill a good stream).
 * - An upstream `error` object ends the stream with an Anthropic `error` event (field note 11); so does an upstream
 *   whose last event is not a final one (`[DONE]`, a `finish_reason` chunk or the usage chunk after it; the rule
 *   passthrough uses too, `protocols/final_event.ts`), which is a connection that dropped cleanly.
 *
 * @module
 */

import type { AnthropicErrorType, AnthropicStreamEvent, AnthropicUsage } from "../../protocols/anthropic.ts";
import type { OpenAIChatChunk, OpenAIFinishReason, OpenAIToolCallDelta, OpenAIUsage } from "../../protocols/openai.ts";
import { isFinalEvent } from "../../protocols/final_event.ts";
import { jsonSse, type SseEvent } from "../../protocols/sse.ts";
import { anthropicErrorBody, errorKindForStatus } from "../../http/errors.ts";
import { textTokenWeight } from "../count_tokens.ts";
import { BlockSequencer } from "./block_sequencer.ts";
import { matchStopSequence, reportedStopStrings, resolveStop, toAnthropicUsage } from "./response.ts";
import { toMessageId } from "./synthetic.ts";
import { ThinkTagSplitter } from "./think_tags.ts";
import { ToolCallRouter } from "./tool_call_router.ts";
import { isJsonObject } from "./validation.ts";

/** What the stream converter knows about the client's request. */
export interface OpenAIToAnthropicStreamContext {
  /** The model the client asked for; every event names it, not the upstream's model. */
  model: string;
  /**
   * The local estimate of the prompt's tokens, shown in `message_start` until real usage arrives.
   *
   * @default {0}
   */
  inputTokens?: number;
  /** The client's `stop_sequences`, to tell a stop sequence from a natural end. */
  stopSequences?: string[];
  /**
   * Milliseconds of upstream silence after which a `ping` is sent; 0 disables pings.
   *
   * @default {10000}
   */
  pingIntervalMs?: number;
}

/** The message of the error sent when the upstream stream ends without finishing the response. */
export const INCOMPLETE_STREAM_MESSAGE = "Upstream stream ended before the response was complete";

const ANTHROPIC_ERROR_TYPES: ReadonlySet<string> = new Set<AnthropicErrorType>([
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "overloaded_error",
  "timeout_error",
]);

/** Builds the Anthropic error of an upstream's in-stream `error` value (llama.cpp and vLLM send `{message, code}`). */
function upstreamStreamError(error: unknown): AnthropicStreamEvent {
  const fields = isJsonObject(error) ? error : {};
  const message = typeof error === "string"
    ? error
    : typeof fields.message === "string" && fields.message !== ""
    ? fields.message
    : "Upstream reported an error";
  const status = [fields.code, fields.status].find((value) => typeof value === "number") as number | undefined;
  const body = anthropicErrorBody(status === undefined ? "api_error" : errorKindForStatus(status), message);
  if (typeof fields.type === "string" && ANTHROPIC_ERROR_TYPES.has(fields.type)) {
    body.error.type = fields.type as AnthropicErrorType;
  }
  return { type: "error", error: body.error };
}

/** The state of one converted stream; the {@link OpenAIToAnthropicStream} wrapper feeds it. */
class StreamConverter {
  #ctx: OpenAIToAnthropicStreamContext;
  #controller: TransformStreamDefaultController<SseEvent>;
  #sequencer: BlockSequencer;
  #router: ToolCallRouter;
  #splitter = new ThinkTagSplitter();
  #messageStarted = false;
  /** Set once `message_stop` or `error` went out; everything after is ignored. */
  #done = false;
  /** The last non-null `finish_reason`; `undefined` until one arrives. */
  #finishReason: OpenAIFinishReason | undefined;
  #reportedStop: unknown[] = [];
  #usage: OpenAIUsage | undefined;
  /** The end of the answer text, as long as the longest stop sequence. */
  #textTail = "";
  #tailLength: number;
  /** Estimated output tokens, for upstreams that send no usage. */
  #outputWeight = 0;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  /** The upstream's latest event: it alone tells whether the stream was complete (`protocols/final_event.ts`). */
  #last: SseEvent | undefined;

  constructor(ctx: OpenAIToAnthropicStreamContext, controller: TransformStreamDefaultController<SseEvent>) {
    this.#ctx = ctx;
    this.#controller = controller;
    this.#sequencer = new BlockSequencer((event) => this.#emit(event));
    this.#router = new ToolCallRouter(this.#sequencer);
    this.#tailLength = Math.max(0, ...(ctx.stopSequences ?? []).map((sequence) => sequence.length));
    this.#armPing();
  }

  /** Handles one upstream event. */
  push(event: SseEvent): void {
    if (this.#done) return;
    this.#last = event;
    this.#armPing();
    if (event.data.trim() === "[DONE]") return this.#complete(true);
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      return; // Not JSON: skipped, see the module documentation.
    }
    if (!isJsonObject(chunk)) return;
    if (chunk.error !== undefined && chunk.error !== null) return this.#fail(upstreamStreamError(chunk.error));
    if (event.event === "error") return this.#fail(upstreamStreamError(chunk));
    this.#handleChunk(chunk as Partial<OpenAIChatChunk>);
  }

  /** Handles the end of the upstream stream. */
  end(): void {
    if (this.#done) return;
    if (this.#last === undefined || !isFinalEvent("openai", this.#last)) {
      return this.#fail({ type: "error", error: anthropicErrorBody("api_error", INCOMPLETE_STREAM_MESSAGE).error });
    }
    this.#complete(false);
  }

  /** Stops the ping timer when the stream is cancelled or aborted. */
  dispose(): void {
    this.#done = true;
    clearTimeout(this.#pingTimer);
  }

  #handleChunk(chunk: Partial<OpenAIChatChunk>): void {
    this.#startMessage(chunk.id);
    if (isJsonObject(chunk.usage)) this.#usage = chunk.usage as OpenAIUsage;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice = choices.find((candidate) => (candidate?.index ?? 0) === 0);
    if (choice === undefined) return;
    const delta = isJsonObject(choice.delta) ? choice.delta : {};

    // Reasoning first, then content, then tool calls: the order in which one chunk's parts were generated.
    const reasoning = delta.reasoning_content || delta.reasoning;
    if (typeof reasoning === "string" && reasoning !== "") {
      this.#releaseHeldContent();
      this.#appendContent("thinking", reasoning);
    }
    if (typeof delta.content === "string") {
      for (const piece of this.#splitter.push(delta.content)) this.#appendContent(piece.kind, piece.text);
    }
    // `tool_calls: []` beside content means text only (vLLM): no tool block is opened (field note 3).
    const toolCalls = Array.isArray(delta.tool_calls)
      ? delta.tool_calls.filter((fragment): fragment is OpenAIToolCallDelta => isJsonObject(fragment))
      : [];
    if (toolCalls.length > 0) this.#releaseHeldContent();
    for (const fragment of toolCalls) {
      const args = fragment.function?.arguments;
      if (typeof args === "string") this.#outputWeight += textTokenWeight(args);
      this.#router.route(fragment);
    }

    if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") {
      this.#finishReason = choice.finish_reason;
      this.#reportedStop = reportedStopStrings(choice, chunk);
      this.#releaseHeldContent();
      this.#sequencer.finish();
    }
  }

  #appendContent(kind: "thinking" | "text", text: string): void {
    this.#outputWeight += textTokenWeight(text);
    if (kind === "text" && this.#tailLength > 0) this.#textTail = (this.#textTail + text).slice(-this.#tailLength);
    this.#sequencer.appendContent(kind, text);
  }

  /** Emits content the `<think>` splitter held back, before a delta of another kind overtakes it. */
  #releaseHeldContent(): void {
    for (const piece of this.#splitter.flush()) this.#appendContent(piece.kind, piece.text);
  }

  #startMessage(upstreamId: unknown): void {
    if (this.#messageStarted) return;
    this.#messageStarted = true;
    this.#emit({
      type: "message_start",
      message: {
        id: toMessageId(typeof upstreamId === "string" ? upstreamId : undefined),
        type: "message",
        role: "assistant",
        model: this.#ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: this.#ctx.inputTokens ?? 0,
          output_tokens: 0,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    });
  }

  #finalUsage(): AnthropicUsage {
    if (this.#usage !== undefined) return toAnthropicUsage(this.#usage);
    return {
      input_tokens: this.#ctx.inputTokens ?? 0,
      output_tokens: Math.ceil(this.#outputWeight),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    };
  }

  /** Closes every block and sends `message_delta` and `message_stop`; `terminate` closes the output right away. */
  #complete(terminate: boolean): void {
    this.#startMessage(undefined);
    this.#releaseHeldContent();
    this.#sequencer.finish();
    const stop = resolveStop(this.#finishReason, {
      emittedToolUse: this.#sequencer.emittedToolUse,
      stopSequence: matchStopSequence(this.#textTail, {
        reported: this.#reportedStop,
        stopSequences: this.#ctx.stopSequences,
      }),
    });
    this.#emit({ type: "message_delta", delta: stop, usage: this.#finalUsage() });
    this.#emit({ type: "message_stop" });
    this.dispose();
    if (terminate) this.#controller.terminate();
  }

  #fail(error: AnthropicStreamEvent): void {
    this.#emit(error);
    this.dispose();
    this.#controller.terminate();
  }

  #armPing(): void {
    const interval = this.#ctx.pingIntervalMs ?? 10_000;
    clearTimeout(this.#pingTimer);
    if (interval <= 0 || this.#done) return;
    this.#pingTimer = setTimeout(() => {
      this.#startMessage(undefined);
      this.#emit({ type: "ping" });
      this.#armPing();
    }, interval);
  }

  #emit(event: AnthropicStreamEvent): void {
    this.#controller.enqueue(jsonSse(event, event.type));
  }
}

/**
 * A TransformStream from parsed OpenAI chat-completion SSE events (chunks and `[DONE]`) to Anthropic Messages
 * stream events, each with its `event:` name.
 *
 * @example
 * ```ts
 * const events = upstream.body!
 *   .pipeThrough(new TextDecoderStream())
 *   .pipeThrough(new EventSourceParserStream())
 *   .pipeThrough(new OpenAIToAnthropicStream({ model: "claude-sonnet-4-5", inputTokens: 1200 }))
 *   .pipeThrough(new SseEncoderStream());
 * ```
 */
export class OpenAIToAnthropicStream extends TransformStream<SseEvent, SseEvent> {
  /** Creates a converter for one response to a request described by `ctx`. */
  constructor(ctx: OpenAIToAnthropicStreamContext) {
    let converter: StreamConverter;
    super({
      start(controller) {
        converter = new StreamConverter(ctx, controller);
      },
      transform(event) {
        converter.push(event);
      },
      flush() {
        converter.end();
      },
      cancel() {
        converter.dispose();
      },
    });
  }
}
