/**
 * The guard for non-streamed answers: the whole upstream body is read and checked before the client gets
 * anything, and a garbage answer is retried (the same body plus `retry_sampling`), up to `1 + max_retries`
 * attempts.
 *
 * Checks, in order: each channel's text (content, reasoning, tool arguments) through a {@link LoopDetector}
 * (`push` all, then `finish`); a `"suspicious"` verdict goes to the validator when one is configured (confirmed
 * → garbage; anything else → fine); then the tool calls through a {@link ToolCallRepeatDetector}. With
 * `local_detection: false` and a validator, the validator reads the content instead (the seed's final check).
 *
 * The vetted answer is handed back as an {@link UpstreamResponse} that replays the bytes read, so the request
 * path answers it exactly as an unguarded one (passthrough bytes untouched, or converted).
 *
 * @module
 */

import type { ChunkReader, UpstreamResponse } from "../http/upstream_call.ts";
import { carriesData, type Channel, CHANNELS } from "./event_text.ts";
import {
  backoff,
  consultValidator,
  describeConfirmed,
  describeToolLoop,
  describeVerdict,
  type ExchangeOptions,
  exhaustedError,
  exhaustedMessage,
} from "./exchange.ts";
import { type AnswerCut, GARBAGE_HEADER } from "./length_cut.ts";
import { retryBody } from "./continuation.ts";
import { LoopDetector } from "./loop_detector.ts";
import { ToolCallRepeatDetector } from "./tool_call_repeat_detector.ts";
import { countOf } from "../observability/wording.ts";

/** Options of {@link vetAnswer}. */
export interface AnswerOptions extends ExchangeOptions {
  /** Reads a whole upstream body, mapping a failure mid-body to the request path's error. */
  readBody(reader: ChunkReader): Promise<Uint8Array<ArrayBuffer>>;
}

/** Garbage found in an answer. */
interface Finding {
  channel: Channel;
  reason: string;
  description: string;
  text: string;
  /** Where the loop starts, when known: a length cut ends the answer there. */
  cut: AnswerCut | undefined;
}

/**
 * Checks a 2xx non-streamed answer (`first`) and retries it while it is garbage. Returns the answer to send: the
 * first clean one, a retry's non-2xx answer (upstream errors are passed on, not retried), or, when every attempt
 * was garbage, the last one ended at its loop start as a length cut, with the {@link GARBAGE_HEADER}.
 *
 * @throws {ProxyError} with `on_exhausted: "error"`, when every attempt was garbage: see `exhaustedError`
 */
export async function vetAnswer(first: UpstreamResponse, options: AnswerOptions): Promise<UpstreamResponse> {
  const { guard, model, signal } = options;
  let upstream = first;
  for (let attempt = 1;; attempt++) {
    const reader = upstream.reader();
    const bytes = reader === null ? new Uint8Array(0) : await options.readBody(reader);
    const replay = replayResponse(upstream, bytes);
    if (upstream.status >= 300) return replay;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return replay; // Not JSON: the request path answers it as it would without the guard.
    }
    const finding = await inspect(parsed, options);
    if (finding === undefined) return replay;
    const exhausted = attempt >= guard.attempts;
    await guard.report({
      requestId: options.requestId,
      model,
      upstream: options.upstream,
      channel: finding.channel,
      reason: finding.reason,
      description: finding.description,
      attempt,
      outcome: exhausted
        ? `gave up after ${countOf(attempt, "attempt")}: ${GIVE_UP[guard.settings.onExhausted]}`
        : `retrying (attempt ${attempt + 1} of ${guard.attempts})`,
      text: finding.text,
    });
    if (exhausted) {
      guard.counters.exhausted(model);
      if (guard.settings.onExhausted === "error") throw exhaustedError(exhaustedMessage(finding.description, attempt));
      const cut = options.upstreamDialect.guard.cutAnswer(parsed as Record<string, unknown>, finding.cut);
      const headers = new Headers(upstream.headers);
      headers.set(GARBAGE_HEADER, "exhausted");
      return replayResponse({ ...upstream, headers }, new TextEncoder().encode(JSON.stringify(cut)));
    }
    guard.counters.retry(model);
    await backoff(guard.retryDelayMs(attempt), signal);
    signal.throwIfAborted();
    options.lifecycle?.emit({ type: "attempt", number: attempt + 1, reason: "garbage_retry" });
    upstream = await options.send(JSON.stringify(retryBody(options.body, options.retrySampling)), signal);
  }
}

/** The end of the give-up log line, per `on_exhausted`. */
const GIVE_UP = {
  truncate: "answering up to the loop start as a length cut",
  error: "answering with an error",
} as const;

/** Looks for garbage in a parsed answer; see the module documentation. */
async function inspect(parsed: unknown, options: ExchangeOptions): Promise<Finding | undefined> {
  const { guard, upstreamDialect, signal } = options;
  const answer = upstreamDialect.guard.answerText(parsed);
  if (guard.settings.localDetection) {
    for (const channel of CHANNELS) {
      const text = answer.text[channel];
      if (text === "") continue;
      const detector = new LoopDetector({ holdBackChars: 0, excerptChars: 2000, data: carriesData(channel) });
      detector.push(text);
      detector.finish();
      const verdict = detector.verdict;
      if (verdict === null) continue;
      const base = { channel, text, cut: { channel, at: verdict.start } };
      if (verdict.level === "loop") return { ...base, reason: verdict.reason, description: describeVerdict(verdict) };
      if (guard.validator === undefined) continue;
      const outcome = await consultValidator(options, verdict.excerpt, { reason: describeVerdict(verdict), signal });
      if (outcome.kind === "loop") {
        return { ...base, reason: "validator", description: describeConfirmed(verdict, outcome) };
      }
    }
  } else if (guard.validator !== undefined && answer.text.content !== "") {
    const outcome = await consultValidator(options, answer.text.content, { reason: "final check", signal });
    if (outcome.kind === "loop") {
      const confidence = `validator confidence ${outcome.confidence.toFixed(2)}`;
      const text = answer.text.content;
      return { channel: "content", reason: "validator", description: confidence, text, cut: undefined };
    }
  }
  const tools = new ToolCallRepeatDetector();
  for (const call of answer.toolCalls) {
    const verdict = tools.record(call.name, call.args);
    if (verdict === null) continue;
    return {
      channel: "tool",
      reason: verdict.reason,
      description: describeToolLoop(verdict),
      text: answer.text.tool,
      cut: { channel: "tool", call: verdict.firstRepeatIndex },
    };
  }
  return undefined;
}

/**
 * An {@link UpstreamResponse} whose body is `bytes`, already read from `source`. Like a live one, `reader()` always
 * gives the same reader and `body` is a stream over it.
 */
function replayResponse(source: UpstreamResponse, bytes: Uint8Array<ArrayBuffer>): UpstreamResponse {
  let sent = false;
  let chunks: ChunkReader | undefined;
  const reader = (): ChunkReader =>
    chunks ??= {
      read: (): Promise<ReadableStreamReadResult<Uint8Array>> => {
        if (sent) return Promise.resolve({ done: true, value: undefined });
        sent = true;
        return Promise.resolve({ done: false, value: bytes });
      },
      cancel: () => Promise.resolve(),
    };
  let body: ReadableStream<Uint8Array> | undefined;
  return {
    status: source.status,
    headers: source.headers,
    reader,
    get body() {
      return body ??= new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader().read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
      });
    },
    headersMs: source.headersMs,
    abort: source.abort,
  };
}
