/**
 * Retries and continuations of a guarded request: the bodies re-sent upstream, and the splicing of a new
 * attempt's stream into the stream the client already reads.
 *
 * - A **retry** re-sends the upstream body (with `retry_sampling` merged in) when nothing of the answer reached
 *   the client: the new stream's opening (`message_start`, the OpenAI role chunk) is dropped, since the client
 *   has it, and OpenAI chunks keep the `id` the client saw.
 * - A **continuation** re-sends the body with the text the client already received as an assistant prefill, when
 *   only plain content text was sent. The new stream's opening and its first text block start are dropped and
 *   its block indices are moved onto the client's open text block, so the client reads one answer.
 *
 * @module
 */

import type { GuardDialect } from "../protocols/dialect.ts";
import { isJsonObject } from "../protocols/json_object.ts";
import type { SseEvent } from "../protocols/sse.ts";
import type { Delivery } from "./delivery.ts";
import { anthropicEventFacts, type EventFacts, openAIEventFacts } from "./event_text.ts";

/** An upstream request body. */
export type Body = Record<string, unknown>;

/** The body of a retry: `body` with the retry sampling parameters merged in (they win). */
export function retryBody(body: Body, sampling: Readonly<Record<string, unknown>>): Body {
  return { ...body, ...sampling };
}

/**
 * Whether an Anthropic upstream can continue a prefilled assistant message: it refuses one when extended thinking
 * is on (the turn would have to start with a thinking block).
 */
export function anthropicCanPrefill(body: Body): boolean {
  const thinking = body.thinking;
  const type = isJsonObject(thinking) ? thinking.type : null;
  return type !== "enabled" && type !== "adaptive";
}

/** A continuation request and what it prefills. */
export interface Continuation {
  /** The body to send. */
  body: Body;
  /**
   * Trailing whitespace was left out of the prefill (Anthropic rejects a final assistant message that ends with
   * whitespace); the client already has it, so leading whitespace of the continuation is dropped.
   */
  trimmed: boolean;
}

/**
 * The body of a continuation: `body` plus the retry sampling parameters, with `delivered` appended as assistant
 * text (merged into a final assistant message when the request already ends with one, i.e. the client's own
 * prefill). Returns `undefined` when there is nothing to prefill.
 */
export function continuationBody(
  dialect: Pick<GuardDialect, "prefill">,
  body: Body,
  options: { delivered: string; sampling: Readonly<Record<string, unknown>> },
): Continuation | undefined {
  const messages = Array.isArray(body.messages) ? [...body.messages] : [];
  const last = messages.at(-1) as Record<string, unknown> | undefined;
  const merge = last?.role === "assistant" && (typeof last.content === "string" || Array.isArray(last.content));
  let text = options.delivered;
  if (merge && typeof last.content === "string") text = last.content + text;
  const prefill = dialect.prefill(text);
  if (prefill.trim() === "") return undefined;
  let message: Record<string, unknown>;
  if (!merge) message = { role: "assistant", content: prefill };
  else if (typeof last.content === "string") message = { ...last, content: prefill };
  else message = { ...last, content: [...(last.content as unknown[]), { type: "text", text: prefill }] };
  if (merge) messages[messages.length - 1] = message;
  else messages.push(message);
  return { body: { ...retryBody(body, options.sampling), messages }, trimmed: prefill.length < text.length };
}

/** An event ready for the hold-back, with its facts. */
export interface SplicedEvent {
  /** The event as the client will get it. */
  event: SseEvent;
  /** Its facts. */
  facts: EventFacts;
}

/** Options of {@link AttemptSplicer}. */
export interface AttemptSplicerOptions {
  /** What the client has received so far (read when each event is mapped). */
  delivery: Delivery;
  /** This attempt continues the client's text (else it replaces an attempt that sent nothing of the answer). */
  continuation: boolean;
  /** Drop leading whitespace of the continuation (see {@link Continuation.trimmed}). */
  trimLeadingWhitespace: boolean;
}

/**
 * Maps the events of a retry or continuation onto the client's stream; see the module documentation. Each dialect
 * maps its own events ({@link OpenAIAttemptSplicer}, {@link AnthropicAttemptSplicer}); its `guard.splicer()` makes
 * the right one.
 */
export abstract class AttemptSplicer {
  /** What the client has received so far. */
  protected readonly delivery: Delivery;
  #trimPending: boolean;

  /** Creates the mapping for one attempt after the first; see {@link AttemptSplicerOptions}. */
  constructor(options: AttemptSplicerOptions) {
    this.delivery = options.delivery;
    this.#trimPending = options.trimLeadingWhitespace;
  }

  /** The events to queue for one upstream event of this attempt (none, the event itself, or rewritten ones). */
  map(event: SseEvent, facts: EventFacts): SplicedEvent[] {
    if (facts.kind === "start" && this.delivery.started) return [];
    return facts.json === undefined ? [{ event, facts }] : this.mapJson(event, facts, facts.json);
  }

  /** Maps one event whose data is a JSON object. */
  protected abstract mapJson(event: SseEvent, facts: EventFacts, json: Record<string, unknown>): SplicedEvent[];

  /** The facts of an event of this dialect. */
  protected abstract facts(event: SseEvent): EventFacts;

  /** Whether leading whitespace of the continuation is still to be dropped. */
  protected get trimPending(): boolean {
    return this.#trimPending;
  }

  /** Drops leading whitespace until the first other character of the continuation. */
  protected trim(text: string): string {
    if (!this.#trimPending) return text;
    const kept = text.trimStart();
    if (kept !== "") this.#trimPending = false;
    return kept;
  }

  /** `event` with `json` as its data, and its facts. */
  protected rebuilt(event: SseEvent, json: Record<string, unknown>): SplicedEvent {
    const rebuilt: SseEvent = { ...event, data: JSON.stringify(json) };
    return { event: rebuilt, facts: this.facts(rebuilt) };
  }
}

/** OpenAI chunks: a later attempt keeps the chunk `id` the client saw. */
export class OpenAIAttemptSplicer extends AttemptSplicer {
  #chunkId: string | undefined;

  /** See {@link AttemptSplicerOptions}. */
  constructor(options: AttemptSplicerOptions) {
    super(options);
    this.#chunkId = options.delivery.chunkId;
  }

  protected facts(event: SseEvent): EventFacts {
    return openAIEventFacts(event);
  }

  protected mapJson(event: SseEvent, facts: EventFacts, json: Record<string, unknown>): SplicedEvent[] {
    let changed = false;
    if (this.#chunkId !== undefined && json.id !== undefined && json.id !== this.#chunkId) {
      json.id = this.#chunkId;
      changed = true;
    }
    if (this.trimPending && facts.text.content !== "") {
      const delta = firstChoiceDelta(json);
      if (delta !== undefined) {
        delta.content = this.trim(facts.text.content);
        changed = true;
      }
    }
    return changed ? [this.rebuilt(event, json)] : [{ event, facts }];
  }
}

/** Anthropic events: a continuation's blocks move onto the client's open text block. */
export class AnthropicAttemptSplicer extends AttemptSplicer {
  /** Continuation: the client's open text block, until the first block of this attempt is mapped. */
  #clientIndex: number | undefined;
  #indexOffset = 0;

  /** See {@link AttemptSplicerOptions}. */
  constructor(options: AttemptSplicerOptions) {
    super(options);
    this.#clientIndex = options.continuation ? options.delivery.openTextIndex : undefined;
  }

  protected facts(event: SseEvent): EventFacts {
    return anthropicEventFacts(event);
  }

  protected mapJson(event: SseEvent, facts: EventFacts, json: Record<string, unknown>): SplicedEvent[] {
    const out: SplicedEvent[] = [];
    const clientIndex = this.#clientIndex;
    if (clientIndex !== undefined && facts.index !== undefined && facts.kind === "block_start") {
      this.#clientIndex = undefined;
      if (facts.blockType === "text") {
        // The client's text block is open: the continuation's text block flows into it.
        this.#indexOffset = clientIndex - facts.index;
        const text = this.trim(facts.text.content);
        if (text === "") return [];
        const delta = { type: "content_block_delta", index: clientIndex, delta: { type: "text_delta", text } };
        return [this.rebuilt({ event: "content_block_delta", data: "" }, delta)];
      }
      out.push(this.#closeClientBlock(clientIndex));
      this.#indexOffset = clientIndex + 1 - facts.index;
    } else if (clientIndex !== undefined && (facts.kind === "tail" || facts.kind === "done")) {
      this.#clientIndex = undefined;
      out.push(this.#closeClientBlock(clientIndex));
    }
    let changed = false;
    if (this.#indexOffset !== 0 && facts.index !== undefined) {
      json.index = facts.index + this.#indexOffset;
      changed = true;
    }
    if (this.trimPending && facts.text.content !== "" && facts.kind === "block_delta") {
      const delta = json.delta as Record<string, unknown>;
      delta.text = this.trim(facts.text.content);
      changed = true;
    }
    out.push(changed ? this.rebuilt(event, json) : { event, facts });
    return out;
  }

  #closeClientBlock(index: number): SplicedEvent {
    return this.rebuilt({ event: "content_block_stop", data: "" }, { type: "content_block_stop", index });
  }
}

function firstChoiceDelta(json: Record<string, unknown>): Record<string, unknown> | undefined {
  const choices = Array.isArray(json.choices) ? json.choices : [];
  const choice = choices[0];
  const delta = choice !== null && typeof choice === "object" ? (choice as Record<string, unknown>).delta : undefined;
  return delta !== null && typeof delta === "object" ? delta as Record<string, unknown> : undefined;
}
