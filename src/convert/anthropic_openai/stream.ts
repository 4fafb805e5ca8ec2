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
 * - With client `stop_sequences`, the last characters of the text (as many as the longest sequence) wait until the
 *   next delta or the finish, so a stop sequence the upstream left at the end is removed before the client sees it.
 * - Content given as an array of parts (Mistral) is read like a string, its `thinking` parts as reasoning.
 * - Data lines that are not JSON are skipped (a keep-alive or a proxy banner must not kill a good stream).
 * - An upstream `error` object ends the stream with an Anthropic `error` event (field note 11); so does an upstream
 *   whose last event is not a final one (`[DONE]`, a `finish_reason` chunk or the usage chunk after it; the rule
 *   passthrough uses too, `protocols/final_event.ts`), which is a connection that dropped cleanly.
 *
 * @module
 */

import type { AnthropicStreamEvent, AnthropicUsage } from "../../protocols/anthropic.ts";
import type { OpenAIChatChunk, OpenAIFinishReason, OpenAIToolCallDelta, OpenAIUsage } from "../../protocols/openai.ts";
import { isOpenAIFinalEvent } from "../../protocols/final_event.ts";
import { jsonSse, type SseEvent } from "../../protocols/sse.ts";
import { anthropicErrorBody } from "../../http/errors.ts";
import { textTokenWeight } from "../count_tokens.ts";
import { BlockSequencer } from "./block_sequencer.ts";
import { embeddedUpstreamError } from "./error.ts";
import { contentPieces } from "./content_parts.ts";
import { matchStopSequence, reportedStopStrings, resolveStop, type StopOutcome, toAnthropicUsage } from "./response.ts";
import { toMessageId } from "./synthetic.ts";
import { ThinkTagSplitter } from "./think_tags.ts";
import { ToolCallRouter } from "./tool_call_router.ts";
import { isJsonObject } from "../../protocols/json_object.ts";

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

/** Tells whether a UTF-16 code unit is the second half of a surrogate pair. */
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Builds the Anthropic error event of an upstream's in-stream `error` value. */
function upstreamStreamError(error: unknown): AnthropicStreamEvent {
  const { kind, message } = embeddedUpstreamError(error);
  return { type: "error", error: anthropicErrorBody(kind, message).error };
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
  /** The end of the answer text not sent yet (with stop sequences only), see `#appendContent`. */
  #heldText = "";
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
    if (this.#last === undefined || !isOpenAIFinalEvent(this.#last)) {
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
    for (const piece of contentPieces(delta.content, this.#splitter)) this.#appendContent(piece.kind, piece.text);
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
      this.#endContent();
    }
  }

  #appendContent(kind: "thinking" | "text", text: string): void {
    this.#outputWeight += textTokenWeight(text);
    if (kind === "thinking" || this.#tailLength === 0) {
      if (kind === "thinking") this.#releaseHeldText(null);
      return this.#sequencer.appendContent(kind, text);
    }
    this.#textTail = (this.#textTail + text).slice(-this.#tailLength);
    // The last characters wait, as they may be a stop sequence the upstream left in (a surrogate pair stays whole).
    const held = this.#heldText + text;
    let cut = Math.max(0, held.length - this.#tailLength);
    if (cut > 0 && isLowSurrogate(held.charCodeAt(cut))) cut--;
    this.#sequencer.appendContent("text", held.slice(0, cut));
    this.#heldText = held.slice(cut);
  }

  /** Emits the held end of the text, without `stopSequence` when it ends with it. */
  #releaseHeldText(stopSequence: string | null): void {
    const held = this.#heldText;
    this.#heldText = "";
    const strip = stopSequence !== null && held.endsWith(stopSequence);
    this.#sequencer.appendContent("text", strip ? held.slice(0, held.length - stopSequence.length) : held);
  }

  /** Emits content held back, before a delta of another kind overtakes it. */
  #releaseHeldContent(): void {
    for (const piece of this.#splitter.flush()) this.#appendContent(piece.kind, piece.text);
    this.#releaseHeldText(null);
  }

  /** Ends the content: held text goes out (without a stop sequence that ended the answer) and every block closes. */
  #endContent(): void {
    for (const piece of this.#splitter.flush()) this.#appendContent(piece.kind, piece.text);
    this.#releaseHeldText(this.#stop().stop_sequence);
    this.#sequencer.finish();
  }

  /** The stop reason and sequence, from what the upstream sent so far. */
  #stop(): StopOutcome {
    return resolveStop(this.#finishReason, {
      emittedToolUse: this.#sequencer.emittedToolUse,
      stopSequence: matchStopSequence(this.#textTail, {
        reported: this.#reportedStop,
        stopSequences: this.#ctx.stopSequences,
      }),
    });
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
    this.#endContent();
    this.#emit({ type: "message_delta", delta: this.#stop(), usage: this.#finalUsage() });
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
