/**
 * The request lifecycle: one typed event stream per request that the log line, metrics, traces and the status page
 * subscribe to, so that a new observer is one subscriber and no new code in the request path.
 *
 * A proxy has one {@link Lifecycle}; subscribers register with it once, at start. Each request gets a
 * {@link RequestLifecycle} from {@link Lifecycle.begin}, carried by the handler (and handed to the guard), which
 * emits, in order:
 *
 * | event | when | data |
 * | --- | --- | --- |
 * | `received` | the handler took the request | kind, client dialect |
 * | `routed` | upstream and plan chosen | model, upstream, mode, client and upstream dialect |
 * | `admitted` | a concurrency slot and the throttle's turn were granted | upstream model, queue wait |
 * | `upstream_headers` | an upstream answered (each attempt) | status, time to headers |
 * | `attempt` | a garbage retry or continuation starts attempt n ≥ 2 | number, reason |
 * | `usage` | an upstream answer's body ended (each attempt that reported usage) | tokens |
 * | `first_byte` | the response (status, headers) went to the client | time since received |
 * | `finished` | the body ended: complete, error or cancelled | status, bytes, duration, reason |
 *
 * `first_byte` can come before the `usage` and `attempt` events of a stream. Requests that fail early skip the
 * events they never reached; `finished` always comes, exactly once, and nothing after it.
 *
 * Cost: with no subscriber an event is one object and an empty loop. A subscriber that throws is logged once
 * (per subscriber) and never affects the request or the other subscribers.
 *
 * The request's facts gathered from the events (model, upstream, status, usage, …) stay readable on the
 * {@link RequestLifecycle}, so a subscriber that only needs the end (the log line) needs no state of its own.
 *
 * @module
 */

import { ProxyError } from "../http/errors.ts";
import type { WireProtocol } from "../policy/sampling.ts";
import type { Logger } from "./logger.ts";
import { addUsage, type TokenUsage } from "./usage.ts";

/** What kind of request it is. */
export type RequestKind = "generation" | "count_tokens" | "models";

/** Passthrough when the upstream speaks the client's protocol, converted otherwise. */
export type RequestMode = "passthrough" | "converted";

/** Why another upstream attempt was made. */
export type AttemptReason = "garbage_retry" | "continuation";

/** How a request ended. */
export type RequestOutcome = "complete" | "error" | "cancelled";

/** One event of a request's lifecycle; see the module documentation for the order. */
export type LifecycleEvent =
  | { readonly type: "received"; readonly kind: RequestKind; readonly dialect: WireProtocol }
  | {
    readonly type: "routed";
    /** The model the client asked for. */
    readonly model: string;
    readonly upstream: string;
    readonly mode: RequestMode;
    readonly dialect: WireProtocol;
    readonly upstreamDialect: WireProtocol;
  }
  | {
    readonly type: "admitted";
    /** The model name sent upstream (after renames), which the slot was taken for. */
    readonly upstreamModel: string;
    /** Milliseconds spent waiting for the slot and the throttle. */
    readonly waitMs: number;
  }
  | { readonly type: "upstream_headers"; readonly status: number; readonly headersMs: number }
  | { readonly type: "attempt"; readonly number: number; readonly reason: AttemptReason }
  | { readonly type: "usage"; readonly usage: TokenUsage }
  | { readonly type: "first_byte"; readonly ms: number }
  | {
    readonly type: "finished";
    readonly outcome: RequestOutcome;
    /** The status the client got, when one was decided. */
    readonly status: number | undefined;
    /** Body bytes of a generation answer relayed or converted for the client (0 for answers the proxy made). */
    readonly bytes: number;
    readonly durationMs: number;
    /** Why it did not complete. */
    readonly detail: string | undefined;
  };

/** Sees every event of every request; `request` holds the facts so far. Must not throw (it is caught if it does). */
export type LifecycleSubscriber = (event: LifecycleEvent, request: RequestLifecycle) => void;

/** The proxy's lifecycle hub: its subscribers, and a {@link RequestLifecycle} per request. */
export class Lifecycle {
  #subscribers: LifecycleSubscriber[] = [];
  #failed = new Set<LifecycleSubscriber>();
  #logger: Logger;

  /** A hub that logs subscriber failures to `logger`. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a subscriber for every later request (register at start). */
  subscribe(subscriber: LifecycleSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  /** Whether anyone listens (so callers can skip work only a subscriber would use). */
  get listening(): boolean {
    return this.#subscribers.length > 0;
  }

  /** Starts a request's lifecycle and emits its `received` event. */
  begin(id: string, request: { kind: RequestKind; dialect: WireProtocol }): RequestLifecycle {
    const lifecycle = new RequestLifecycle(id, request, this);
    lifecycle.emit({ type: "received", kind: request.kind, dialect: request.dialect });
    return lifecycle;
  }

  /** Hands `event` to every subscriber; one that throws is logged the first time and skipped. */
  deliver(event: LifecycleEvent, request: RequestLifecycle): void {
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(event, request);
      } catch (error) {
        if (this.#failed.has(subscriber)) continue;
        this.#failed.add(subscriber);
        const detail = error instanceof Error ? error.stack ?? error.message : String(error);
        this.#logger.log("error", `A lifecycle subscriber failed (logged once): ${detail}`, request.id);
      }
    }
  }
}

/**
 * One request's lifecycle: its facts and its single finish. The handler sets the facts it learns before the
 * matching event (the model before routing completes, the upstream URL before the call), so that a request that
 * fails early still reports them.
 */
export class RequestLifecycle {
  /** The proxy's request id, `req-7`. */
  readonly id: string;
  readonly kind: RequestKind;
  /** The client's protocol. */
  readonly dialect: WireProtocol;
  /** `performance.now()` when the request was received. */
  readonly started = performance.now();
  /** The model the client asked for. */
  model?: string;
  /** The model name sent upstream, when known. */
  upstreamModel?: string;
  /** The upstream's name. */
  upstream?: string;
  mode?: RequestMode;
  /** The status the client gets (the upstream's, or the proxy's error status). */
  status?: number;
  /** The upstream URL called, set once the call is made; masked only where a line shows it. */
  url?: string;
  /** Milliseconds from received to the response handed to the client. */
  firstByteMs?: number;
  /** The tokens of every upstream answer of this request, added up; undefined while none reported usage. */
  usage?: TokenUsage;
  /** Body bytes relayed to the client so far. */
  bytes = 0;
  #hub: Lifecycle;
  #cleanups: Array<() => void> = [];
  #finished = false;

  /** Use {@link Lifecycle.begin}. */
  constructor(id: string, request: { kind: RequestKind; dialect: WireProtocol }, hub: Lifecycle) {
    this.id = id;
    this.kind = request.kind;
    this.dialect = request.dialect;
    this.#hub = hub;
  }

  /** Whether anyone listens. */
  get listening(): boolean {
    return this.#hub.listening;
  }

  /** Counts `bytes` more body bytes relayed to the client (a callback: it is handed to the stream's end). */
  readonly sent = (bytes: number): void => {
    this.bytes += bytes;
  };

  /** Records the facts `event` carries and hands it to the subscribers; nothing is emitted after `finished`. */
  emit(event: LifecycleEvent): void {
    if (this.#finished) return;
    switch (event.type) {
      case "routed":
        this.model = event.model;
        this.upstream = event.upstream;
        this.mode = event.mode;
        break;
      case "admitted":
        this.upstreamModel = event.upstreamModel;
        break;
      case "usage":
        this.usage = this.usage === undefined ? event.usage : addUsage(this.usage, event.usage);
        break;
      case "first_byte":
        this.firstByteMs = event.ms;
        break;
    }
    this.#hub.deliver(event, this);
  }

  /** Emits `first_byte` now (the response goes to the client). */
  responded(): void {
    this.emit({ type: "first_byte", ms: performance.now() - this.started });
  }

  /** Registers work for the finish (slot release, throttle end, pending usage), run in reverse order. */
  onFinish(cleanup: () => void): void {
    this.#cleanups.unshift(cleanup);
  }

  /** Runs the cleanups and emits `finished`; later calls do nothing. */
  finish(outcome: RequestOutcome, detail?: string): void {
    if (this.#finished) return;
    for (const cleanup of this.#cleanups) cleanup();
    // A whole answer finishes just before its response is handed over.
    if (this.firstByteMs === undefined) this.responded();
    const event: LifecycleEvent = {
      type: "finished",
      outcome,
      status: this.status,
      bytes: this.bytes,
      durationMs: performance.now() - this.started,
      detail,
    };
    this.#finished = true;
    this.#hub.deliver(event, this);
  }
}

/** What {@link observeAnswer} needs of a request. */
export interface ObservedRequest {
  readonly kind: RequestKind;
  /** The client's protocol. */
  readonly dialect: WireProtocol;
  /** The client's signal: an answer that failed after the client went away was cancelled. */
  readonly signal: AbortSignal;
}

/**
 * Runs `answer` (a request answered whole: count_tokens, a model list) inside a lifecycle: `received`, what
 * `answer` emits itself (`routed`), `first_byte`, then `finished` with the response's status, or, when it throws,
 * `finished` as an error with the {@link ProxyError}'s status (the error is rethrown).
 */
export async function observeAnswer(
  lifecycle: Lifecycle,
  id: string,
  request: ObservedRequest,
  answer: (events: RequestLifecycle) => Promise<Response>,
): Promise<Response> {
  const events = lifecycle.begin(id, request);
  try {
    const response = await answer(events);
    events.status = response.status;
    events.responded();
    events.finish("complete");
    return response;
  } catch (error) {
    if (error instanceof ProxyError) events.status = error.status;
    const detail = error instanceof Error ? error.message : String(error);
    events.finish(request.signal.aborted ? "cancelled" : "error", detail);
    throw error;
  }
}
