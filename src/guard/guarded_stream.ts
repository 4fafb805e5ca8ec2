/**
 * A guarded stream: the upstream's events are held back until the loop detectors release them, a loop is cut
 * before the client receives its repeats, and the answer is retried or continued in the same client stream.
 *
 * Pipeline (`pipeline/response_pipeline.ts`): upstream bytes → decode → {@link GuardedStreamSource} (in the
 * upstream's dialect) → the converter, if any → encode → keep-alives → end guard → client.
 *
 * One attempt, decision by decision:
 * 1. Each event's text goes to its channel's detector (see `hold_back_queue.ts`); released events go on.
 * 2. A `"loop"` verdict acts at once. A `"suspicious"` one asks the validator, when configured, while release
 *    stays frozen (reading goes on, up to a cap); confirmed → act; no loop or validator failure (fail open) →
 *    `dismiss()`. Without a validator release stays frozen for a grace ({@link suspicionGrace}), then `dismiss()`.
 * 3. With `mid_stream_validation_enabled`, the validator also reads the content every N words, in the
 *    background (release is not frozen); a loop verdict acts.
 * 4. Acting: abort the upstream request, drop the held events, write a failure dump, count, log. Then:
 *    (a) attempts left and nothing of the answer reached the client → retry transparently;
 *    (b) attempts left and only plain content text reached the client → continue it with an assistant prefill;
 *    (c) otherwise (attempts used up, or what was sent cannot be continued) → with `on_exhausted: "truncate"`
 *        (the default) release the text before the loop start and end the stream as a length cut
 *        (`length_cut.ts`); with `"error"` end it with an error event no client retries.
 * 5. At the upstream's end the detectors finish and the rest is released. An upstream that ends without its
 *    final event gets an error event (passthrough; a converter reports that itself).
 *
 * Errors are neutral (kind, message, code) and sent in-band as the upstream dialect's error event
 * (`Dialect.errorEvent`), which the converter (if any) translates, so its stream ends in its own grammar: Anthropic
 * clients get an `api_error` event with `error.code: "garbage_detected"`, OpenAI clients an error chunk of type
 * `server_error` with code `garbage_detected`. The response headers went
 * out with the first attempt, so a stream carries no `x-sampling-proxy-garbage` header: its finish reason and the
 * incident's log line tell.
 *
 * @module
 */

import { type ErrorKind, errorKindForStatus, upstreamErrorMessage } from "../http/errors.ts";
import { streamFailure } from "../http/stream_end.ts";
import { readAll, type UpstreamResponse } from "../http/upstream_call.ts";
import { decodeEvents, eventStream, eventStreamHeaders, isEventStream } from "../pipeline/response_pipeline.ts";
import type { SseEvent } from "../protocols/sse.ts";
import { type AttemptSplicer, continuationBody, retryBody } from "./continuation.ts";
import { Delivery } from "./delivery.ts";
import { type Channel, type EventFacts, record } from "./event_text.ts";
import {
  backoff,
  consultValidator,
  describeConfirmed,
  describeToolLoop,
  describeVerdict,
  type ExchangeOptions,
  exhaustedMessage,
  GARBAGE_CODE,
  NO_RETRY,
  type ValidatorOutcome,
} from "./exchange.ts";
import { HoldBackQueue } from "./hold_back_queue.ts";
import type { StreamedToolCalls } from "./streamed_tool_calls.ts";
import type { ToolCallLoopVerdict } from "./tool_call_repeat_detector.ts";
import type { LoopVerdict } from "./loop_verdict.ts";
import { countWords } from "./text_stats.ts";
import { countOf } from "../observability/wording.ts";

/** Text read on while release is frozen for the validator; beyond it reading pauses until the verdict. */
const MAX_FROZEN_CHARS = 262_144;
/** Content kept for the background validator checks (it reads 6,000 characters). */
const TAIL_CHARS = 6000;

type Wake =
  | { type: "read"; result: ReadableStreamReadResult<SseEvent> }
  | { type: "read_failed"; error: unknown }
  | { type: "check"; channel: Channel; verdict: LoopVerdict; outcome: ValidatorOutcome }
  | { type: "periodic"; outcome: ValidatorOutcome };

/** A finding that ends an attempt. */
interface Finding {
  channel: Channel;
  reason: string;
  description: string;
  text: string;
  /** From a detector verdict: the text before the repetition may still be released. */
  cutAtVerdict: boolean;
}

/** One upstream attempt. */
interface Attempt {
  number: number;
  upstream: UpstreamResponse;
  reader: ReadableStreamDefaultReader<SseEvent>;
  queue: HoldBackQueue;
  /** This attempt's tool calls, for the repeated-call check. */
  toolCalls: StreamedToolCalls;
  splicer: AttemptSplicer | undefined;
  /** Aborts this attempt's validator checks. */
  checks: AbortController;
  pendingRead: Promise<Wake> | undefined;
  suspicions: Map<Channel, Promise<Wake>>;
  periodic: Promise<Wake> | undefined;
  ended: boolean;
  words: number;
  nextCheckAt: number;
  tail: string;
}

/** Whether the local detectors run (`validation.local_detection`). */
function localDetection(options: ExchangeOptions): boolean {
  return options.guard.settings.localDetection;
}

/** A repeated tool call as a finding; nothing before it is held back for a cut, the calls are whole. */
function toolLoopFinding(verdict: ToolCallLoopVerdict): Finding {
  return {
    channel: "tool",
    reason: verdict.reason,
    description: describeToolLoop(verdict),
    text: verdict.excerpt,
    cutAtVerdict: false,
  };
}

/** What to do after a finding. */
type Plan =
  | { kind: "retry"; body: Record<string, unknown>; outcome: string }
  | { kind: "continue"; body: Record<string, unknown>; trimmed: boolean; outcome: string }
  | { kind: "stop"; message: string; outcome: string }
  | { kind: "cut"; outcome: string };

/**
 * The guard's event source for one client stream (upstream-protocol events); see the module documentation.
 * Pull-based: upstream reads follow the client's demand.
 */
class GuardedStreamSource implements UnderlyingDefaultSource<SseEvent> {
  #options: ExchangeOptions;
  #delivery: Delivery;
  #attempt: Attempt;
  #out: ReadableStreamDefaultController<SseEvent> | undefined;
  #emitted = 0;
  #closed = false;
  #cancel = new AbortController();
  #signal: AbortSignal;

  /** Starts guarding `first`, the first attempt's streamed response. */
  constructor(first: UpstreamResponse, options: ExchangeOptions) {
    this.#options = options;
    this.#delivery = new Delivery(options.upstreamDialect.guard.delivery);
    this.#signal = AbortSignal.any([options.signal, this.#cancel.signal]);
    this.#attempt = this.#newAttempt(1, first, undefined);
  }

  /** Keeps the output controller. */
  start(controller: ReadableStreamDefaultController<SseEvent>): void {
    this.#out = controller;
  }

  /** Works until at least one event went out or the stream ended. */
  async pull(): Promise<void> {
    const before = this.#emitted;
    while (!this.#closed && this.#emitted === before) await this.#advance();
  }

  /** The client went away: stop the upstream and every check. */
  cancel(reason: unknown): void {
    this.#closed = true;
    this.#cancel.abort(reason);
    this.#stop(this.#attempt, reason);
  }

  async #advance(): Promise<void> {
    const attempt = this.#attempt;
    const wake = await this.#next(attempt);
    if (this.#closed || attempt !== this.#attempt) return;
    switch (wake.type) {
      case "read":
        attempt.pendingRead = undefined;
        if (wake.result.done) return await this.#upstreamEnded(attempt);
        return await this.#onEvent(attempt, wake.result.value);
      case "read_failed":
        return this.#terminate(streamFailure(wake.error));
      case "check":
        attempt.suspicions.delete(wake.channel);
        return await this.#onCheck(attempt, wake);
      case "periodic":
        attempt.periodic = undefined;
        if (wake.outcome.kind !== "loop") return;
        return await this.#abandon(attempt, {
          channel: "content",
          reason: "validator",
          description: `periodic validator check; confidence ${wake.outcome.confidence.toFixed(2)}` +
            (wake.outcome.issue ? `: ${wake.outcome.issue.slice(0, 120)}` : ""),
          text: attempt.tail,
          cutAtVerdict: false,
        });
    }
  }

  /** The next thing to handle: an upstream event (unless frozen past the cap) or a validator verdict. */
  #next(attempt: Attempt): Promise<Wake> {
    const waits = [...attempt.suspicions.values()];
    if (attempt.periodic) waits.push(attempt.periodic);
    const frozen = attempt.suspicions.size > 0 && attempt.queue.heldChars >= MAX_FROZEN_CHARS;
    if (!attempt.ended && !frozen) {
      attempt.pendingRead ??= attempt.reader.read().then(
        (result): Wake => ({ type: "read", result }),
        (error: unknown): Wake => ({ type: "read_failed", error }),
      );
      waits.push(attempt.pendingRead);
    }
    // Nothing left to wait for means the attempt is over: handle it as the upstream's end.
    if (waits.length === 0) return Promise.resolve({ type: "read", result: { done: true, value: undefined } });
    return Promise.race(waits);
  }

  async #onEvent(attempt: Attempt, event: SseEvent): Promise<void> {
    const facts = this.#options.upstreamDialect.guard.eventFacts(event);
    const items = attempt.splicer ? attempt.splicer.map(event, facts) : [{ event, facts }];
    for (const item of items) {
      // Checked before the event is queued, so the event that completes a repeated call never goes out.
      const repeated = localDetection(this.#options) ? attempt.toolCalls.push(item.facts) : null;
      if (repeated) return await this.#abandon(attempt, toolLoopFinding(repeated));
      this.#watchWords(attempt, item.facts.text.content);
      for (const found of attempt.queue.push(item.event, item.facts)) {
        if (await this.#onVerdict(attempt, found.channel, found.verdict)) return;
      }
    }
    this.#release(attempt);
  }

  /** Handles a detector verdict; true when the attempt was abandoned. */
  async #onVerdict(attempt: Attempt, channel: Channel, verdict: LoopVerdict): Promise<boolean> {
    if (verdict.level === "loop") {
      await this.#abandon(attempt, {
        channel,
        reason: verdict.reason,
        description: describeVerdict(verdict),
        text: verdict.excerpt,
        cutAtVerdict: true,
      });
      return true;
    }
    const { guard, requestId } = this.#options;
    if (guard.validator === undefined) {
      // Without a second opinion the suspicion is dropped, but only after a grace (see `suspicionGrace`).
      const grace = suspicionGrace(verdict.period);
      guard.log(
        "info",
        `Suspicion in ${channel} (${describeVerdict(verdict)}), no validator: grace ${grace}`,
        requestId,
      );
      attempt.queue.dismissAfter(channel, grace);
      return false;
    }
    const reason = describeVerdict(verdict);
    attempt.suspicions.set(
      channel,
      consultValidator(this.#options, verdict.excerpt, { reason, signal: attempt.checks.signal })
        .then((outcome): Wake => ({ type: "check", channel, verdict, outcome })),
    );
    return false;
  }

  async #onCheck(attempt: Attempt, wake: Extract<Wake, { type: "check" }>): Promise<void> {
    const { outcome, verdict, channel } = wake;
    if (outcome.kind === "loop") {
      return await this.#abandon(attempt, {
        channel,
        reason: "validator",
        description: describeConfirmed(verdict, outcome),
        text: verdict.excerpt,
        cutAtVerdict: false,
      });
    }
    attempt.queue.dismiss(channel);
    this.#release(attempt);
    if (attempt.ended && attempt.suspicions.size === 0) this.#complete(attempt);
  }

  async #upstreamEnded(attempt: Attempt): Promise<void> {
    attempt.ended = true;
    // A background check cannot hold anything back any more: the rest of the text goes out now.
    attempt.periodic = undefined;
    const repeated = localDetection(this.#options) ? attempt.toolCalls.finish() : null;
    if (repeated) return await this.#abandon(attempt, toolLoopFinding(repeated));
    for (const found of attempt.queue.finish()) {
      if (await this.#onVerdict(attempt, found.channel, found.verdict)) return;
    }
    this.#release(attempt);
    if (attempt.suspicions.size === 0) this.#complete(attempt);
  }

  /** The attempt ended cleanly: everything goes out, then the stream closes. */
  #complete(attempt: Attempt): void {
    this.#release(attempt);
    this.#stop(attempt, undefined);
    if (!this.#delivery.ended && this.#options.converter === undefined) {
      return this.#terminate({ kind: "api_error", message: "Upstream stream ended before the response was complete" });
    }
    this.#close();
  }

  #release(attempt: Attempt): void {
    for (const held of attempt.queue.release()) this.#deliver(held.event, held.facts);
  }

  #deliver(event: SseEvent, facts: EventFacts): void {
    if (this.#closed) return;
    this.#delivery.record(facts);
    this.#out?.enqueue(event);
    this.#emitted++;
  }

  /** Background validation every N words of content (`mid_stream_validation_*`). */
  #watchWords(attempt: Attempt, text: string): void {
    const every = this.#options.guard.settings.midStreamWords;
    if (every === 0 || text === "" || this.#options.guard.validator === undefined) return;
    attempt.tail += text;
    if (attempt.tail.length > 2 * TAIL_CHARS) attempt.tail = attempt.tail.slice(-TAIL_CHARS);
    attempt.words += countWords(text);
    if (attempt.words < attempt.nextCheckAt) return;
    // As in the seed: a check still running skips this interval, and the next trigger point moves on anyway.
    attempt.nextCheckAt = attempt.words + every;
    if (attempt.periodic !== undefined) return;
    const reason = `periodic check after ${attempt.words} words`;
    attempt.periodic = consultValidator(this.#options, attempt.tail, { reason, signal: attempt.checks.signal })
      .then((outcome): Wake => ({ type: "periodic", outcome }));
  }

  /** (4) Ends the attempt after a finding and decides what comes next. */
  async #abandon(attempt: Attempt, finding: Finding): Promise<void> {
    this.#stop(attempt, new Error("Garbage output detected"));
    // The text before the repetition is good; when the client already has part of the answer it is kept.
    if (finding.cutAtVerdict && this.#delivery.contentSent) this.#release(attempt);
    const { guard, model } = this.#options;
    const plan = this.#plan(attempt.number, finding);
    // A length cut ends the answer at the loop start: the text before it goes out in any case.
    if (finding.cutAtVerdict && plan.kind === "cut") this.#release(attempt);
    attempt.queue.discard();
    await guard.report({
      requestId: this.#options.requestId,
      model,
      upstream: this.#options.upstream,
      channel: finding.channel,
      reason: finding.reason,
      description: finding.description,
      attempt: attempt.number,
      outcome: plan.outcome,
      text: finding.text,
      details: { "Delivered characters": this.#delivery.text.length },
    });
    if (this.#closed) return;
    if (plan.kind === "stop" || plan.kind === "cut") guard.counters.exhausted(model);
    if (plan.kind === "stop") return this.#terminate({ kind: "api_error", message: plan.message, code: GARBAGE_CODE });
    if (plan.kind === "cut") return this.#endAsLengthCut();
    if (plan.kind === "retry") guard.counters.retry(model);
    else guard.counters.continuation(model);
    await this.#startAttempt(attempt.number + 1, plan);
  }

  #plan(failed: number, finding: Finding): Plan {
    const { guard, upstreamDialect, body, retrySampling } = this.#options;
    const next = `attempt ${failed + 1} of ${guard.attempts}`;
    if (failed >= guard.attempts) {
      return this.#giveUp(exhaustedMessage(finding.description, failed), `gave up after ${countOf(failed, "attempt")}`);
    }
    if (!this.#delivery.contentSent) {
      return { kind: "retry", body: retryBody(body, retrySampling), outcome: `retrying (${next})` };
    }
    const continuation = this.#delivery.continuable && upstreamDialect.guard.canPrefill(body)
      ? continuationBody(upstreamDialect.guard, body, {
        delivered: this.#delivery.text,
        sampling: retrySampling,
      })
      : undefined;
    if (continuation !== undefined) {
      return {
        kind: "continue",
        body: continuation.body,
        trimmed: continuation.trimmed,
        outcome: `continuing after ${this.#delivery.text.length} delivered characters (${next})`,
      };
    }
    return this.#giveUp(
      `Garbage output detected (${finding.description}) after part of the answer was sent; ` +
        `that part cannot be continued; ${NO_RETRY}`,
      "stopped: the part already sent cannot be continued",
    );
  }

  /** No further attempt: a length cut or an error, per `on_exhausted`. */
  #giveUp(message: string, outcome: string): Plan {
    if (this.#options.guard.settings.onExhausted === "error") {
      return { kind: "stop", message, outcome: `${outcome}; ending the stream with an error` };
    }
    return { kind: "cut", outcome: `${outcome}; ending the answer at the loop start as a length cut` };
  }

  /** Ends the client's stream as a length cut after what it already has (see `length_cut.ts`). */
  #endAsLengthCut(): void {
    const { upstreamDialect: { guard }, converter, body } = this.#options;
    const includeUsage = converter === undefined && record(body.stream_options)?.include_usage === true;
    for (const event of guard.lengthCutEvents(this.#delivery, { includeUsage, body })) {
      this.#deliver(event, guard.eventFacts(event));
    }
    this.#close();
  }

  async #startAttempt(number: number, plan: Extract<Plan, { kind: "retry" | "continue" }>): Promise<void> {
    const { guard, send } = this.#options;
    let response: UpstreamResponse;
    try {
      await backoff(guard.retryDelayMs(number - 1), this.#signal);
      this.#signal.throwIfAborted();
      const reason = plan.kind === "retry" ? "garbage_retry" : "continuation";
      this.#options.lifecycle?.emit({ type: "attempt", number, reason });
      response = await send(JSON.stringify(plan.body), this.#signal);
    } catch (error) {
      if (this.#signal.aborted) return this.#close();
      return this.#terminate(streamFailure(error));
    }
    if (this.#closed) return response.abort(this.#signal.reason);
    if (response.status >= 300 || response.body === null || !isEventStream(response.headers)) {
      const text = await readText(response);
      return this.#terminate({
        kind: response.status >= 300 ? errorKindForStatus(response.status) : "api_error",
        message: response.status >= 300
          ? `Retry failed: ${upstreamErrorMessage(text, response.status)}`
          : "Retry failed: the upstream did not answer with an event stream",
      });
    }
    this.#attempt = this.#newAttempt(
      number,
      response,
      this.#options.upstreamDialect.guard.splicer({
        delivery: this.#delivery,
        continuation: plan.kind === "continue",
        trimLeadingWhitespace: plan.kind === "continue" && plan.trimmed,
      }),
    );
  }

  #newAttempt(number: number, upstream: UpstreamResponse, splicer: AttemptSplicer | undefined): Attempt {
    const { settings } = this.#options.guard;
    const body = upstream.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    return {
      number,
      upstream,
      reader: decodeEvents(body, this.#options.maxEventBytes ?? Infinity).getReader(),
      queue: new HoldBackQueue({ detect: settings.localDetection, holdBackChars: settings.holdBackChars }),
      toolCalls: this.#options.upstreamDialect.guard.toolCalls(),
      splicer,
      checks: new AbortController(),
      pendingRead: undefined,
      suspicions: new Map(),
      periodic: undefined,
      ended: false,
      words: 0,
      nextCheckAt: settings.midStreamWords,
      tail: "",
    };
  }

  /** Stops the attempt's upstream request and validator checks. */
  #stop(attempt: Attempt, reason: unknown): void {
    attempt.checks.abort(reason);
    attempt.suspicions.clear();
    attempt.periodic = undefined;
    attempt.pendingRead = undefined;
    if (!attempt.ended) attempt.upstream.abort(reason);
    attempt.ended = true;
    attempt.reader.cancel(reason).catch(() => {});
  }

  /**
   * Ends the client's stream with a neutral error, as the upstream dialect's error event (the converter, if any,
   * translates it into the client's).
   */
  #terminate(error: { kind: ErrorKind; message: string; code?: string }): void {
    if (this.#closed) return;
    this.#stop(this.#attempt, new Error(error.message));
    this.#out?.enqueue(this.#options.upstreamDialect.errorEvent(error));
    this.#emitted++;
    this.#options.onEnd("error", new Error(error.message));
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out?.close();
  }
}

/**
 * How much more text a suspicion holds release for when there is no validator: eight repeats of its unit, at least
 * 512 and at most 4,096 characters. A real loop reaches the detector's `"loop"` level within about five repeats
 * (a 29-character sentence: 145 characters; a 2-character "ha": 120), so it is cut with none of its repeats sent;
 * dismissing at once instead lets repeats through until the loop level doubles (eight copies of a short sentence).
 */
export function suspicionGrace(period: number): number {
  return Math.min(4096, Math.max(512, 8 * period));
}

async function readText(response: UpstreamResponse): Promise<string> {
  const reader = response.reader();
  if (reader === null) return "";
  try {
    return new TextDecoder().decode(await readAll(reader));
  } catch {
    return "";
  }
}

/**
 * The client's response for a guarded stream whose first attempt answered `first` (a 2xx event stream); see the
 * module documentation.
 */
export function guardedStreamResponse(first: UpstreamResponse, options: ExchangeOptions): Response {
  const { converter, clientDialect, guard } = options;
  // The source ends the request itself when it sends an error event; the end guard would then report "complete".
  let ended = false;
  const onEnd: ExchangeOptions["onEnd"] = (outcome, error) => {
    if (ended) return;
    ended = true;
    options.onEnd(outcome, error);
  };
  const source = new GuardedStreamSource(first, { ...options, onEnd });
  const events = new ReadableStream<SseEvent>(source, { highWaterMark: 0 });
  const body = eventStream(events, {
    client: clientDialect,
    converter,
    keepAliveMs: guard.settings.keepAliveMs,
    end: { onEnd, stop: options.stop, onSent: options.lifecycle?.sent },
  });
  return new Response(body, { status: first.status, headers: eventStreamHeaders(first.headers) });
}
