/**
 * A dialect: everything the proxy knows about one wire protocol (OpenAI Chat Completions, Anthropic Messages, …),
 * behind one interface, so that nothing outside a dialect file (and `registry.ts`, which picks one) tests which
 * protocol it is. Code elsewhere asks the dialect object: its routes, its error shapes, when its stream is
 * complete, the text of its events, its continuation body, its upstream credentials, its keep-alive bytes.
 *
 * A third protocol is one more file implementing {@link Dialect}, its name in {@link DialectName}, its entry in
 * the registry, and its converters (see `docs/adding-a-protocol.md`).
 *
 * @module
 */

import type { TokenUsage } from "../observability/usage.ts";
import type { ErrorKind } from "../http/errors.ts";
import type { AttemptSplicer, AttemptSplicerOptions } from "../guard/continuation.ts";
import type { Delivery, DeliveryRules } from "../guard/delivery.ts";
import type { AnswerText, EventFacts } from "../guard/event_text.ts";
import type { AnswerCut, LengthCutOptions } from "../guard/length_cut.ts";
import type { StreamedToolCalls } from "../guard/streamed_tool_calls.ts";
import type { SseEvent } from "./sse.ts";

/** The name of a dialect, as upstreams list them in `protocols`. */
export type DialectName = "openai_chat" | "anthropic_messages";

/** Every dialect name, in the order the config's legacy booleans map to them. */
export const DIALECT_NAMES: readonly DialectName[] = ["openai_chat", "anthropic_messages"];

/** The neutral error a dialect renders: kind, message and the optional machine-readable code. */
export interface DialectError {
  /** What went wrong, independent of protocol. */
  kind: ErrorKind;
  /** Human-readable message. */
  message: string;
  /** A machine-readable code (OpenAI `code`; Anthropic `error.code`), e.g. `garbage_detected`. */
  code?: string;
}

/** What the garbage guard needs of a dialect: the facts of its events and answers, and how to continue one. */
export interface GuardDialect {
  /** The facts of one streamed event. Never throws. */
  eventFacts(event: SseEvent): EventFacts;
  /** The text per channel and tool calls of a non-streamed answer body. */
  answerText(body: unknown): AnswerText;
  /** A whole answer body cut at `cut` and marked as a length cut (see `guard/length_cut.ts`). */
  cutAnswer(body: Record<string, unknown>, cut: AnswerCut | undefined): Record<string, unknown>;
  /** The events that end a stream as a length cut after what `delivery` says the client has. */
  lengthCutEvents(delivery: Delivery, options: LengthCutOptions): SseEvent[];
  /** Whether the upstream can continue a prefilled assistant message of this request body. */
  canPrefill(body: Record<string, unknown>): boolean;
  /** The assistant prefill for text already delivered (Anthropic rejects trailing whitespace). */
  prefill(text: string): string;
  /** What decides whether a delivered answer may be continued. */
  readonly delivery: DeliveryRules;
  /** A new assembler of one attempt's streamed tool calls. */
  toolCalls(): StreamedToolCalls;
  /** A new splicer that maps a retry's or continuation's events onto the client's stream. */
  splicer(options: AttemptSplicerOptions): AttemptSplicer;
}

/** Upstream credentials in a dialect's header. */
export interface DialectAuth {
  /** Moves a client's credential header to this dialect's header (a converted request). */
  adoptCredentials(headers: Headers): void;
  /** Sets the proxy's own key, and any header the dialect requires (e.g. `anthropic-version`). */
  setCredentials(headers: Headers, apiKey: string | undefined): void;
}

/** One wire protocol; see the module documentation. */
export interface Dialect {
  /** The dialect's name. */
  readonly name: DialectName;
  /** The short word used in log lines and on the status page (`openai`, `anthropic`). */
  readonly label: string;
  /** The generation endpoint its clients call, relative to the API root (`chat/completions`, `messages`). */
  readonly endpoint: string;
  /** Whether a request path belongs to this dialect (its error answers take this dialect's shape). */
  ownsPath(path: string): boolean;
  /** Whether request headers identify a client of this dialect on a path no dialect owns. */
  ownsHeaders(headers: Headers): boolean;
  /** The JSON error body for `error`. */
  errorBody(error: DialectError): unknown;
  /** The SSE event that ends a started stream with `error`. */
  errorEvent(error: DialectError): SseEvent;
  /** Whether `event`, the last event of a stream, ends it as complete (or as an explicit error). */
  isFinalEvent(event: SseEvent): boolean;
  /** Keep-alive bytes for a client idle while the answer is held back; `begun` once any bytes went out. */
  keepAlive(begun: boolean): Uint8Array;
  /** Upstream request credentials. */
  readonly auth: DialectAuth;
  /** What the garbage guard reads and writes in this dialect. */
  readonly guard: GuardDialect;
  /** Token usage as this dialect reports it, read for the request lifecycle. */
  readonly usage: DialectUsage;
}

/** Where a dialect reports token usage (see `observability/usage_tap.ts`). */
export interface DialectUsage {
  /** The usage of a whole answer body, when it reports one. */
  body(body: unknown): TokenUsage | undefined;
  /** The usage after one stream event's `data` (parsed JSON), given the usage so far. */
  event(previous: TokenUsage | undefined, data: unknown): TokenUsage | undefined;
}
