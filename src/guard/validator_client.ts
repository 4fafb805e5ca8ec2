/**
 * The second opinion: asks a small "validator" LLM whether a text is stuck in a repetition loop.
 *
 * Called only when the local detector is in doubt (a `"suspicious"` verdict). Improves on the seed's validator:
 * only the end of the text is sent (never the whole answer), `temperature: 0` and a small `max_tokens`, a JSON
 * schema for OpenAI-compatible servers, tolerant parsing of the reply, real timeouts, and failures reported as
 * failures (`{ok: false}`) instead of silently passing, so the caller decides whether to fail open.
 *
 * The validator server is an upstream like any other (`config.validator`, built from the `validation` keys by the
 * config loader), called through the one upstream client (`upstream/client.ts`): URL rules (`…/api/paas/v4` →
 * `…/v4/chat/completions`), credentials, headers, its own connect / response / idle / total timeouts, response
 * size limit. An unset `validator_api_key_env` fails each check (the guard fails open), not the proxy's start.
 * The request streams (`stream: true`), so the response headers come as soon as the server accepts it;
 * `timeoutMs` bounds the whole call.
 *
 * @module
 */

import { ANTHROPIC_MESSAGES } from "../protocols/anthropic_messages.ts";
import { OPENAI_CHAT } from "../protocols/openai_chat.ts";
import type { UpstreamConfig, ValidationConfig } from "../config/config.ts";
import { ProxyError } from "../http/errors.ts";
import { type UpstreamResponse, UpstreamTimeoutError } from "../http/upstream_call.ts";
import { SseParserStream } from "../http/sse_parser.ts";
import { UpstreamClient } from "../upstream/client.ts";
import { buildLoopPrompt, LOOP_ANSWER_SCHEMA, parseLoopAnswer } from "./validator_prompt.ts";

/** Options of {@link createValidator}. */
export interface ValidatorOptions {
  /**
   * The validator server, as an upstream: its API root, key, extra headers and timeouts. It speaks Anthropic
   * Messages when `supportsAnthropic` is set, else OpenAI Chat Completions.
   */
  upstream: UpstreamConfig;
  /** Model name sent to the server. */
  model: string;
  /** Time allowed for the whole call. @default the upstream's response timeout */
  timeoutMs?: number;
  /** A "loop" answer below this confidence counts as "not a loop" (`validation.confidence_threshold`). */
  confidenceThreshold: ValidationConfig["confidenceThreshold"];
  /** Characters from the end of the text sent to the validator. @default 6000 */
  excerptChars?: number;
  /** `max_tokens` of the validator request. @default 256 */
  maxTokens?: number;
  /** The upstream client the calls go through (the proxy context's). @default a client with `globalThis.fetch` */
  client?: UpstreamClient;
  /** Clock for the latency measurement, in milliseconds. @default performance.now */
  now?: () => number;
}

/** Options of one {@link Validator.check}. */
export interface ValidatorCheckOptions {
  /** Aborts the call (e.g. the client went away). */
  signal?: AbortSignal;
  /** Why the detector flagged the text, e.g. `"periodic-tail, period 61"`; quoted in the prompt. */
  reason?: string;
}

/** The validator's decision, after the confidence threshold. */
export interface LoopAssessment {
  /** A loop, with at least the threshold confidence. */
  isLoop: boolean;
  /** The confidence the model stated, 0 to 1. */
  confidence: number;
  /** What the model says repeats, or `null`. */
  issue: string | null;
}

/** Why a check failed. */
export type ValidatorErrorKind = "http" | "timeout" | "network" | "parse" | "aborted";

/**
 * The outcome of one check. `ok: false` means the validator could not answer; the caller decides whether that
 * means "pass the text through" (fail open) or not.
 */
export type ValidatorVerdict =
  | { ok: true; verdict: LoopAssessment; latencyMs: number }
  | { ok: false; kind: ValidatorErrorKind; error: string; latencyMs: number };

/** A validator client; see {@link createValidator}. */
export interface Validator {
  /** Asks whether `text` (only its end is sent) is stuck in a loop. Never throws. */
  check(text: string, options?: ValidatorCheckOptions): Promise<ValidatorVerdict>;
}

/** Largest single event of the validator's stream: its deltas are a few characters each. */
const MAX_EVENT_BYTES = 1024 * 1024;

/** Longest reply text kept; a verdict is a few dozen characters. */
const MAX_REPLY_CHARS = 16_384;
/** Longest error body quoted in an error message. */
const MAX_ERROR_BODY_CHARS = 300;

/**
 * Creates a validator client.
 *
 * @throws {RangeError} when a timeout, the threshold or a size is out of range
 *
 * @example Ask the validator of a loaded config
 * ```ts ignore
 * import { createValidator } from "./validator_client.ts";
 * const validator = createValidator({ upstream: config.validator!, model: "qwen3-4b", confidenceThreshold: 0.85 });
 * const result = await validator.check(text, { reason: "periodic-tail, period 61" });
 * if (result.ok && result.verdict.isLoop) console.log("loop:", result.verdict.issue);
 * ```
 */
export function createValidator(options: ValidatorOptions): Validator {
  const {
    upstream,
    model,
    timeoutMs = upstream.responseTimeoutMs,
    confidenceThreshold,
    excerptChars = 6000,
    maxTokens = 256,
    client = new UpstreamClient(),
    now = () => performance.now(),
  } = options;
  requirePositive("timeoutMs", timeoutMs);
  requirePositive("excerptChars", excerptChars);
  requirePositive("maxTokens", maxTokens);
  if (!(confidenceThreshold >= 0 && confidenceThreshold <= 1)) {
    throw new RangeError(
      `Cannot create a validator: confidenceThreshold must be from 0 to 1: received ${confidenceThreshold}`,
    );
  }
  const anthropic = upstream.supportsAnthropic;
  const dialect = anthropic ? ANTHROPIC_MESSAGES : OPENAI_CHAT;
  const plan = {
    endpoint: anthropic ? "messages" : "chat/completions",
    incoming: new Headers({ accept: "text/event-stream" }),
    protocols: { client: dialect, upstream: dialect },
  } as const;

  return {
    async check(text, checkOptions = {}) {
      const started = now();
      const truncated = text.length > excerptChars;
      const excerpt = (truncated ? "[…] " + text.slice(text.length - excerptChars) : text).toWellFormed();
      const prompt = buildLoopPrompt(excerpt, { truncated, reason: checkOptions.reason });
      const outcome = await ask({
        send: (body, signal) => client.prepare(upstream, plan).send(body, signal),
        anthropic,
        body: anthropic ? anthropicBody(model, prompt, maxTokens) : openAIBody(model, prompt, maxTokens),
        timeoutMs,
        signal: checkOptions.signal,
      });
      const latencyMs = Math.max(0, now() - started);
      if (!outcome.ok) return { ...outcome, latencyMs };
      try {
        const answer = parseLoopAnswer(outcome.reply);
        const isLoop = answer.isLoop && answer.confidence >= confidenceThreshold;
        return { ok: true, verdict: { isLoop, confidence: answer.confidence, issue: answer.issue }, latencyMs };
      } catch (error) {
        return { ok: false, kind: "parse", error: errorMessage(error), latencyMs };
      }
    },
  };
}

function openAIBody(model: string, prompt: string, maxTokens: number): Record<string, unknown> {
  return {
    model,
    messages: [{ role: "user", content: prompt }],
    temperature: 0,
    max_tokens: maxTokens,
    stream: true,
    response_format: {
      type: "json_schema",
      json_schema: { name: "loop_verdict", strict: true, schema: LOOP_ANSWER_SCHEMA },
    },
  };
}

function anthropicBody(model: string, prompt: string, maxTokens: number): Record<string, unknown> {
  return {
    model,
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
    messages: [{ role: "user", content: prompt }],
  };
}

interface ValidatorRequest {
  /** Posts the body through the upstream client. */
  send(body: string, signal: AbortSignal): Promise<UpstreamResponse>;
  anthropic: boolean;
  body: Record<string, unknown>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

type Reply = { ok: true; reply: string } | { ok: false; kind: ValidatorErrorKind; error: string };

/** Sends the request and collects the reply text, mapping every failure to a {@link ValidatorErrorKind}. */
async function ask(request: ValidatorRequest): Promise<Reply> {
  const controller = new AbortController();
  let timedOut: string | null = null;
  let upstream: UpstreamResponse | undefined;
  const totalTimer = setTimeout(() => {
    timedOut = `Validator timed out after ${request.timeoutMs} ms`;
    controller.abort();
    // The body is cancelled too (as the guard does with its attempts): a read already waiting on the connection
    // is not always ended by the abort alone.
    upstream?.reader()?.cancel(new Error(timedOut)).catch(() => {});
  }, request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([controller.signal, request.signal]) : controller.signal;
  try {
    upstream = await request.send(JSON.stringify(request.body), signal);
    const response = new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
    if (!response.ok) {
      const body = (await response.text()).replace(/\s+/g, " ").trim().slice(0, MAX_ERROR_BODY_CHARS);
      return { ok: false, kind: "http", error: `Validator returned HTTP ${response.status}: ${body}` };
    }
    const contentType = response.headers.get("content-type") ?? "";
    const reply = contentType.includes("text/event-stream")
      ? await readStream(response, request.anthropic)
      : readJson(await response.json(), request.anthropic);
    if (timedOut !== null) return { ok: false, kind: "timeout", error: timedOut };
    return { ok: true, reply };
  } catch (error) {
    if (timedOut !== null) return { ok: false, kind: "timeout", error: timedOut };
    if (request.signal?.aborted) return { ok: false, kind: "aborted", error: "Validator check was aborted" };
    if (error instanceof SyntaxError) {
      return { ok: false, kind: "parse", error: `Cannot read the validator reply: ${error.message}` };
    }
    if (error instanceof UpstreamTimeoutError || (error instanceof ProxyError && error.kind === "timeout")) {
      return { ok: false, kind: "timeout", error: `Validator ${errorMessage(error)}` };
    }
    // Refused before the call (an unset `validator_api_key_env`): the server never saw it.
    if (error instanceof ProxyError && error.status < 500) {
      return { ok: false, kind: "http", error: `Validator request refused: ${error.message}` };
    }
    return { ok: false, kind: "network", error: `Validator request failed: ${errorMessage(error)}` };
  } finally {
    clearTimeout(totalTimer);
    controller.abort();
  }
}

/** Collects the text deltas of an OpenAI or Anthropic stream (reasoning deltas are ignored). */
async function readStream(response: Response, anthropic: boolean): Promise<string> {
  if (response.body === null) return "";
  const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new SseParserStream(MAX_EVENT_BYTES));
  let reply = "";
  for await (const event of events) {
    if (event.data === "[DONE]") break;
    if (event.event === "error") {
      throw new Error(`Validator stream error: ${event.data.slice(0, MAX_ERROR_BODY_CHARS)}`);
    }
    const chunk: unknown = JSON.parse(event.data);
    reply += anthropic ? anthropicDelta(chunk) : openAIDelta(chunk);
    // The verdict is short; a server that rambles on is cut here rather than buffered without bound.
    if (reply.length > MAX_REPLY_CHARS) break;
  }
  return reply;
}

function readJson(body: unknown, anthropic: boolean): string {
  if (anthropic) {
    const content = field(body, "content");
    if (!Array.isArray(content)) return "";
    return content.map((block) => (field(block, "type") === "text" ? String(field(block, "text") ?? "") : ""))
      .join("");
  }
  const message = field(firstChoice(body), "message");
  const content = field(message, "content");
  return typeof content === "string" ? content : "";
}

function openAIDelta(chunk: unknown): string {
  const content = field(field(firstChoice(chunk), "delta"), "content");
  return typeof content === "string" ? content : "";
}

function anthropicDelta(chunk: unknown): string {
  if (field(chunk, "type") !== "content_block_delta") return "";
  const delta = field(chunk, "delta");
  const text = field(delta, "text");
  return field(delta, "type") === "text_delta" && typeof text === "string" ? text : "";
}

function firstChoice(value: unknown): unknown {
  const choices = field(value, "choices");
  return Array.isArray(choices) ? choices[0] : undefined;
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
}

function requirePositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`Cannot create a validator: ${name} must be a positive number: received ${value}`);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
