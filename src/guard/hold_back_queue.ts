/**
 * The hold-back of one streamed attempt: upstream events wait here until the loop detectors say their text may
 * reach the client.
 *
 * Each event's text is pushed to its channel's {@link LoopDetector} (created on first use, one per channel) and
 * the event is queued with the channel offsets its text ends at. {@link HoldBackQueue.release} hands out the
 * longest prefix of queued events whose text lies within every channel's `releasableLength()`. Events without
 * text (role chunk, finish, usage, `message_delta`, `ping`) keep their place behind held events. An Anthropic
 * `content_block_start` without text waits until the first event of its block is releasable, so when nothing was
 * released no block was opened either; an OpenAI chunk that opens a tool call without arguments waits likewise for
 * the first arguments.
 *
 * Without detectors (`detect: false`) every event is releasable at once.
 *
 * @module
 */

import { LoopDetector } from "./loop_detector.ts";
import type { LoopVerdict } from "./loop_verdict.ts";
import { carriesData, type Channel, CHANNELS, type EventFacts } from "./event_text.ts";
import type { SseEvent } from "../protocols/sse.ts";

/** An event waiting in the queue. */
export interface HeldEvent {
  /** The upstream event. */
  event: SseEvent;
  /** What it carries. */
  facts: EventFacts;
  /** Per channel with text: the channel offset just past this event's text. */
  ends: Partial<Record<Channel, number>>;
}

/** A verdict with the channel that raised it. */
export interface ChannelVerdict {
  /** The channel whose detector raised it. */
  channel: Channel;
  /** The detector's verdict. */
  verdict: LoopVerdict;
}

/** Options of {@link HoldBackQueue}. */
export interface HoldBackQueueOptions {
  /** Run loop detectors; without them nothing is held. @default true */
  detect?: boolean;
  /** The detectors' `holdBackChars`. @default 256 */
  holdBackChars?: number;
  /** The detectors' `excerptChars` (the text shown to the validator). @default 2000 */
  excerptChars?: number;
}

/** Compact the array once this many released entries sit at its front. */
const COMPACT_AT = 1024;

/** Holds back the events of one attempt; see the module documentation. */
export class HoldBackQueue {
  #detect: boolean;
  #holdBackChars: number;
  #excerptChars: number;
  #detectors: Partial<Record<Channel, LoopDetector>> = {};
  #offsets: Record<Channel, number> = { content: 0, reasoning: 0, tool: 0 };
  #queue: HeldEvent[] = [];
  #head = 0;
  #heldChars = 0;
  #finished = false;
  /** Channel offsets at which a pending suspicion is dismissed without a validator. */
  #dismissAt: Partial<Record<Channel, number>> = {};

  /** Creates an empty queue; see {@link HoldBackQueueOptions}. */
  constructor(options: HoldBackQueueOptions = {}) {
    const { detect = true, holdBackChars = 256, excerptChars = 2000 } = options;
    this.#detect = detect;
    this.#holdBackChars = holdBackChars;
    this.#excerptChars = excerptChars;
  }

  /** Characters of text in held events (for a cap while release is frozen). */
  get heldChars(): number {
    return this.#heldChars;
  }

  /** Events waiting. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** The channel's detector, when it exists. */
  detector(channel: Channel): LoopDetector | undefined {
    return this.#detectors[channel];
  }

  /** Queues an event and analyses its text; returns the verdicts this raised (usually none). */
  push(event: SseEvent, facts: EventFacts): ChannelVerdict[] {
    const ends: Partial<Record<Channel, number>> = {};
    const raised: ChannelVerdict[] = [];
    for (const channel of CHANNELS) {
      const text = facts.text[channel];
      if (text === "") continue;
      this.#offsets[channel] += text.length;
      ends[channel] = this.#offsets[channel];
      this.#heldChars += text.length;
      const verdict = this.#detectorFor(channel)?.push(text);
      if (verdict) raised.push({ channel, verdict });
      const dismissAt = this.#dismissAt[channel];
      if (dismissAt !== undefined && this.#offsets[channel] >= dismissAt) this.dismiss(channel);
    }
    this.#queue.push({ event, facts, ends });
    return raised;
  }

  /**
   * Marks the end of the attempt's text; returns the verdicts the last assessment raised. Suspicions waiting in
   * {@link dismissAfter} are dismissed.
   */
  finish(): ChannelVerdict[] {
    this.#finished = true;
    const raised: ChannelVerdict[] = [];
    for (const channel of CHANNELS) {
      const verdict = this.#detectors[channel]?.finish();
      if (this.#dismissAt[channel] !== undefined) this.dismiss(channel);
      if (verdict) raised.push({ channel, verdict });
    }
    return raised;
  }

  /** The validator found the channel's suspicion harmless: release resumes. */
  dismiss(channel: Channel): void {
    delete this.#dismissAt[channel];
    this.#detectors[channel]?.dismiss();
  }

  /**
   * Dismisses the channel's pending suspicion once `chars` more characters of it have been pushed without a
   * `"loop"` verdict, or at {@link finish}; at once when already finished. For runs without a validator: release
   * stays frozen meanwhile, so a loop that gets there is cut with none of its repeats sent, while a false
   * suspicion delays the text by `chars` at most.
   */
  dismissAfter(channel: Channel, chars: number): void {
    if (this.#finished) return this.dismiss(channel);
    this.#dismissAt[channel] = this.#offsets[channel] + chars;
  }

  /** Removes and returns the longest prefix of queued events that may reach the client now. */
  release(): HeldEvent[] {
    const out: HeldEvent[] = [];
    while (this.#head < this.#queue.length && this.#releasable(this.#head)) {
      const held = this.#queue[this.#head++];
      for (const channel of CHANNELS) this.#heldChars -= held.facts.text[channel].length;
      out.push(held);
    }
    if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  /** Drops every held event (the attempt was abandoned). */
  discard(): void {
    this.#queue = [];
    this.#head = 0;
    this.#heldChars = 0;
  }

  #detectorFor(channel: Channel): LoopDetector | undefined {
    if (!this.#detect) return undefined;
    return this.#detectors[channel] ??= new LoopDetector({
      holdBackChars: this.#holdBackChars,
      excerptChars: this.#excerptChars,
      data: carriesData(channel),
    });
  }

  #textReleasable(held: HeldEvent): boolean {
    for (const channel of CHANNELS) {
      const end = held.ends[channel];
      const detector = this.#detectors[channel];
      if (end !== undefined && detector !== undefined && end > detector.releasableLength()) return false;
    }
    return true;
  }

  #releasable(position: number): boolean {
    const held = this.#queue[position];
    if (!this.#textReleasable(held)) return false;
    const { facts } = held;
    if (Object.keys(held.ends).length > 0) return true;
    // A block opens only together with its first content, so that "nothing released" means "no block opened".
    // (An empty delta, like the real API's first `input_json_delta`, is not content; the block's stop is, for a block
    // that has none.)
    if (facts.kind === "block_start") {
      return this.#nextReleasable(
        position,
        (next) =>
          next.facts.index === facts.index && (Object.keys(next.ends).length > 0 || next.facts.kind === "block_stop"),
      );
    }
    // Likewise an OpenAI tool call opens only together with its first arguments: a model repeating one call is then
    // cut before the client has seen any of it, and the request can be retried transparently.
    if (facts.tool) return this.#nextReleasable(position, (next) => next.ends.tool !== undefined);
    return true;
  }

  /** Whether the first later event that `belongs` is releasable (at the end of the text: yes). */
  #nextReleasable(position: number, belongs: (next: HeldEvent) => boolean): boolean {
    for (let next = position + 1; next < this.#queue.length; next++) {
      const candidate = this.#queue[next];
      if (belongs(candidate)) return this.#textReleasable(candidate);
    }
    return this.#finished;
  }
}
