/**
 * What has reached the client of a guarded stream, in upstream-protocol terms: whether anything of the answer
 * was sent, which content text, which blocks are open. It decides what may happen after a loop is cut: a
 * transparent retry (nothing sent yet), a continuation (only plain content text in one text block was sent), or
 * neither.
 *
 * @module
 */

import { textTokenWeight } from "../convert/count_tokens.ts";
import { CHANNELS, type EventFacts, isContentBearing } from "./event_text.ts";

/** What a dialect's stream shape means for a delivery (its `guard.delivery`). */
export interface DeliveryRules {
  /**
   * Content text sits in numbered content blocks (Anthropic): a continuation can extend only a single text block
   * that is still open.
   */
  readonly textInBlocks: boolean;
  /** Chunks carry `id`, `created` and `model` (OpenAI), which the chunks the proxy writes repeat. */
  readonly chunkHead: boolean;
}

/** Everything sent to the client so far, across attempts. */
export class Delivery {
  #rules: DeliveryRules;
  #text = "";
  #other = false;
  #content = false;
  #started = false;
  #ended = false;
  #textBlocks = 0;
  #openTextIndex: number | undefined;
  #openBlocks = new Set<number>();
  #chunkHead: Record<string, unknown> | undefined;
  #outputWeight = 0;

  /** Starts with nothing delivered, for a stream of a dialect with these `rules`. */
  constructor(rules: DeliveryRules) {
    this.#rules = rules;
  }

  /** Content text sent so far (the text a continuation prefills). */
  get text(): string {
    return this.#text;
  }

  /** Whether anything of the answer was sent (text, a tool call, a content block). */
  get contentSent(): boolean {
    return this.#content;
  }

  /** Whether the stream's opening (`message_start`, the OpenAI role chunk) was sent. */
  get started(): boolean {
    return this.#started;
  }

  /** Whether the stream's final event (`[DONE]`, `message_stop`) or an error event was sent. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The `id` of the OpenAI chunks the client received, so later attempts can keep it. */
  get chunkId(): string | undefined {
    return this.#chunkHead?.id as string | undefined;
  }

  /** OpenAI: `id`, `created` and `model` of the first chunk the client received, for chunks the proxy writes. */
  get chunkHead(): Readonly<Record<string, unknown>> {
    return this.#chunkHead ?? {};
  }

  /** Anthropic: the indices of the content blocks the client has open. */
  get openBlocks(): number[] {
    return [...this.#openBlocks];
  }

  /** The estimated tokens of every text sent (content, reasoning, tool arguments), as a fraction. */
  get outputWeight(): number {
    return this.#outputWeight;
  }

  /** Anthropic: the index of the client's open text block, if one is open. */
  get openTextIndex(): number | undefined {
    return this.#openTextIndex;
  }

  /**
   * Whether a continuation can extend what was sent: some content text, and nothing else of the answer (no
   * reasoning, no tool call, and for Anthropic exactly one text block, still open).
   */
  get continuable(): boolean {
    if (this.#text === "" || this.#other) return false;
    return !this.#rules.textInBlocks || (this.#textBlocks === 1 && this.#openTextIndex !== undefined);
  }

  /** Records one event sent to the client. */
  record(facts: EventFacts): void {
    if (isContentBearing(facts)) this.#content = true;
    this.#text += facts.text.content;
    for (const channel of CHANNELS) this.#outputWeight += textTokenWeight(facts.text[channel]);
    if (facts.text.reasoning !== "" || facts.text.tool !== "" || facts.tool) this.#other = true;
    switch (facts.kind) {
      case "start":
        this.#started = true;
        break;
      case "block_start":
        if (facts.index !== undefined) this.#openBlocks.add(facts.index);
        if (facts.blockType === "text") {
          this.#textBlocks++;
          this.#openTextIndex = facts.index;
        } else {
          this.#other = true;
        }
        break;
      case "block_stop":
        if (facts.index !== undefined) this.#openBlocks.delete(facts.index);
        if (facts.index === this.#openTextIndex) this.#openTextIndex = undefined;
        break;
      case "done":
      case "error":
        this.#ended = true;
        break;
    }
    if (this.#rules.chunkHead && this.#chunkHead === undefined && typeof facts.json?.id === "string") {
      this.#started = true;
      const { id, created, model } = facts.json;
      this.#chunkHead = { id, created, model };
    }
  }
}
