/**
 * Orders the content blocks of a converted stream so they never overlap, whatever order the upstream's deltas
 * arrive in.
 *
 * An OpenAI stream can interleave reasoning, text and the arguments of several tool calls; an Anthropic stream
 * has one open block at a time (`content_block_start` → deltas → `content_block_stop`). The sequencer keeps the
 * blocks in the order they first appeared. The first one is open and its deltas pass straight through; deltas for
 * later blocks wait in that block until it opens. Nothing is dropped or attached to the wrong block: a tool call's
 * later arguments stay with that call even after other blocks have appeared (field note 7).
 *
 * When a block ends:
 * 1. A thinking or text run ends when any other block appears after it (the upstream moved on).
 * 2. A tool call ends when a later block exists and its arguments so far form a complete JSON object; with
 *    interleaved calls that is the moment its last argument byte arrived.
 * 3. Every block ends when {@linkcode BlockSequencer.finish} is called (the upstream's `finish_reason`).
 *
 * A thinking block closes with a `signature_delta` (field note 5), and a tool block opens only once its name is
 * known, or at the finish with {@link UNNAMED_TOOL_NAME} (field note 9).
 *
 * @module
 */

import type { AnthropicBlockDelta, AnthropicContentBlock, AnthropicStreamEvent } from "../../protocols/anthropic.ts";
import { SYNTHETIC_THINKING_SIGNATURE, toToolUseId, UNNAMED_TOOL_NAME } from "./synthetic.ts";
import { isCompleteJsonObject } from "./validation.ts";

/** The kinds of block a converted stream carries. */
export type BlockKind = "thinking" | "text" | "tool_use";

/** A content block in the making. Only the sequencer changes it; callers hold it as a handle. */
export interface SequencedBlock {
  /** What the block holds. */
  readonly kind: BlockKind;
  /** Tool calls: the upstream id, if one was sent. */
  id?: string;
  /** Tool calls: the function name, if one was sent. */
  name?: string;
  /** Tool calls: every argument byte received, for the completeness check. */
  args: string;
  /** Deltas received before the block opened. */
  pending: string;
  /** Whether its `content_block_start` went out. */
  started: boolean;
  /** Whether it can receive nothing more and closes when it reaches the front. */
  ended: boolean;
  /** Whether its `content_block_stop` went out. */
  closed: boolean;
}

function newBlock(kind: BlockKind): SequencedBlock {
  return { kind, args: "", pending: "", started: false, ended: false, closed: false };
}

function startBlock(block: SequencedBlock): AnthropicContentBlock {
  switch (block.kind) {
    case "thinking":
      return { type: "thinking", thinking: "", signature: "" };
    case "text":
      return { type: "text", text: "" };
    case "tool_use":
      return { type: "tool_use", id: toToolUseId(block.id), name: block.name ?? UNNAMED_TOOL_NAME, input: {} };
  }
}

function delta(kind: BlockKind, text: string): AnthropicBlockDelta {
  switch (kind) {
    case "thinking":
      return { type: "thinking_delta", thinking: text };
    case "text":
      return { type: "text_delta", text };
    case "tool_use":
      return { type: "input_json_delta", partial_json: text };
  }
}

/**
 * Emits Anthropic content-block events in a valid order from out-of-order upstream deltas.
 *
 * @example
 * ```ts
 * const events: AnthropicStreamEvent[] = [];
 * const sequencer = new BlockSequencer((event) => events.push(event));
 * sequencer.appendContent("thinking", "Plan");
 * sequencer.appendContent("text", "Done");
 * sequencer.finish();
 * // thinking start, thinking_delta, signature_delta, stop, text start, text_delta, stop
 * ```
 */
export class BlockSequencer {
  #emit: (event: AnthropicStreamEvent) => void;
  /** Blocks not yet closed, in order; the first is the open one once started. */
  #queue: SequencedBlock[] = [];
  /** The most recently appeared block, which a run of thinking or text continues. */
  #last: SequencedBlock | undefined;
  #nextIndex = 0;
  #emittedToolUse = false;

  /** Creates a sequencer that hands each event to `emit`. */
  constructor(emit: (event: AnthropicStreamEvent) => void) {
    this.#emit = emit;
  }

  /** Whether a `tool_use` block was started; the stop reason is then `tool_use`. */
  get emittedToolUse(): boolean {
    return this.#emittedToolUse;
  }

  /** Adds reasoning or answer text, continuing the current run of that kind or starting a new block. */
  appendContent(kind: "thinking" | "text", text: string): void {
    if (text === "") return;
    const last = this.#last;
    const block = last !== undefined && last.kind === kind && !last.ended ? last : this.#append(newBlock(kind));
    this.#feed(block, text);
  }

  /** Adds a new tool call block and returns its handle. */
  newToolCall(): SequencedBlock {
    return this.#append(newBlock("tool_use"));
  }

  /** Sets a tool call's name; the first name wins, as some servers repeat it on every delta. */
  nameToolCall(block: SequencedBlock, name: string): void {
    if (block.name !== undefined || name === "") return;
    block.name = name;
    this.#advance();
  }

  /**
   * Adds argument bytes to a tool call. Bytes for a call already closed (only possible after its arguments were a
   * complete object, so they could only corrupt it) are dropped.
   */
  appendToolArgs(block: SequencedBlock, args: string): void {
    if (args === "" || block.closed) return;
    block.args += args;
    this.#feed(block, args);
  }

  /** Ends every block and emits all that is left, in order. */
  finish(): void {
    for (const block of this.#queue) block.ended = true;
    this.#advance();
  }

  #append(block: SequencedBlock): SequencedBlock {
    // (1) A run of thinking or text ends when anything else appears after it.
    if (this.#last !== undefined && this.#last.kind !== "tool_use") this.#last.ended = true;
    this.#queue.push(block);
    this.#last = block;
    this.#advance();
    return block;
  }

  #feed(block: SequencedBlock, text: string): void {
    if (block.started) {
      this.#emit({ type: "content_block_delta", index: this.#nextIndex - 1, delta: delta(block.kind, text) });
      if (block.kind === "tool_use") this.#advance();
    } else {
      block.pending += text;
    }
  }

  #advance(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0];
      if (!head.started) {
        if (head.kind === "tool_use" && head.name === undefined && !head.ended) return;
        this.#start(head);
      }
      // (2) A tool call ends once a later block exists and its arguments are a whole object.
      if (!head.ended && head.kind === "tool_use" && this.#queue.length > 1 && isCompleteJsonObject(head.args)) {
        head.ended = true;
      }
      if (!head.ended) return;
      this.#close(head);
      this.#queue.shift();
    }
  }

  #start(block: SequencedBlock): void {
    block.started = true;
    if (block.kind === "tool_use") this.#emittedToolUse = true;
    this.#emit({ type: "content_block_start", index: this.#nextIndex++, content_block: startBlock(block) });
    if (block.pending !== "") {
      this.#emit({ type: "content_block_delta", index: this.#nextIndex - 1, delta: delta(block.kind, block.pending) });
      block.pending = "";
    }
  }

  #close(block: SequencedBlock): void {
    const index = this.#nextIndex - 1;
    if (block.kind === "thinking") {
      this.#emit({
        type: "content_block_delta",
        index,
        delta: { type: "signature_delta", signature: SYNTHETIC_THINKING_SIGNATURE },
      });
    }
    block.closed = true;
    this.#emit({ type: "content_block_stop", index });
  }
}
