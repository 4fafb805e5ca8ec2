/**
 * What a test declares about the mock upstream: the request it recorded, and the scenario that says how to answer.
 *
 * @module
 */

/** One request the mock upstream received, recorded before it was answered (unknown routes included). */
export interface RecordedRequest {
  /** HTTP method, e.g. `POST`. */
  readonly method: string;
  /** Raw URL path, e.g. `/v1/chat/completions` (a doubled `/v1/v1/...` shows here). */
  readonly path: string;
  /** Query parameters (the last value wins for a repeated name). */
  readonly query: Readonly<Record<string, string>>;
  /** Request headers with lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body text (empty for none). */
  readonly body: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
  /** Becomes `true` when the client went away before the response was complete. */
  readonly aborted: boolean;
}

/** Token usage the mock reports; fields left out are counted from the request and the reply. */
export interface ScenarioUsage {
  /** Prompt tokens, including cached ones (OpenAI convention). */
  prompt_tokens?: number;
  /** Generated tokens. */
  completion_tokens?: number;
  /** Prompt tokens served from cache (`prompt_tokens_details.cached_tokens` / `cache_read_input_tokens`). */
  cached_tokens?: number;
}

/** A tool call the mock generates. */
export interface ScenarioToolCall {
  /**
   * Tool call id. Left out, the mock makes one (`call_…` on OpenAI routes, `toolu_…` on Anthropic ones);
   * `null` sends no id at all (the quirk of field notes 1a.9).
   */
  id?: string | null;
  /** Function name, sent as given (an empty name is a quirk worth testing). */
  name: string;
  /** Argument JSON text: a string is split into word-sized pieces, an array is sent piece by piece as given. */
  arguments: string | string[];
}

/** Where a response stops and waits until the client goes away (or the mock closes). */
export type ScenarioHang = "before-headers" | "after-headers" | { afterChunks: number };

/**
 * How the mock answers one request. Every field is optional; `{}` gives a short text reply.
 *
 * A "chunk" is one write to the response body: one SSE event on streams, the whole JSON body otherwise,
 * one `rawSse` piece.
 */
export interface Scenario {
  /** Response status; from 400 on, the body is an error in the route's protocol shape (or `errorBody`). */
  status?: number;
  /** Error body: a string is sent raw, an object as JSON. */
  errorBody?: string | Record<string, unknown>;
  /** Extra response headers, e.g. `retry-after`, `x-request-id`. */
  headers?: Record<string, string>;
  /** Reply text. @default "Hello from the mock upstream." unless `deltas`, `toolCalls` or `loop` is given */
  text?: string;
  /** Split `text`, `reasoning` and string tool arguments into this many near-equal pieces instead of words. */
  chunks?: number;
  /** The reply text as exact content pieces (replaces `text`). */
  deltas?: string[];
  /** Reasoning text: `reasoning_content` on OpenAI streams, a signed thinking block on Anthropic ones. */
  reasoning?: string;
  /** The OpenAI field that carries reasoning. @default "reasoning_content" */
  reasoningField?: "reasoning_content" | "reasoning";
  /** Inline the reasoning as `<think>…</think>` at the start of the content instead. */
  thinkTags?: boolean;
  /** OpenAI streams: the last reasoning piece and the first content piece share one chunk (field notes 1a.2). */
  boundaryChunk?: boolean;
  /** Tool calls, generated after the text. */
  toolCalls?: ScenarioToolCall[];
  /**
   * OpenAI streams: how tool call deltas carry `index`: `normal` (0, 1, …), `missing` (left out),
   * `always0` (every call says 0). @default "normal"
   */
  toolIndexMode?: "normal" | "missing" | "always0";
  /** OpenAI streams: interleave the argument pieces of parallel calls (round-robin). */
  interleaveToolArgs?: boolean;
  /** OpenAI streams: put `tool_calls: []` on every non-tool delta (the vLLM quirk of field notes 1a.3). */
  emptyToolCallsArray?: boolean;
  /** Finish reason sent verbatim (`finish_reason` on OpenAI routes, `stop_reason` on Anthropic ones). */
  finishReason?: string;
  /** Usage to report: OpenAI streams send it only when the request set `stream_options.include_usage`. */
  usage?: ScenarioUsage;
  /** Append `unit` `repeats` times to the content, one piece per repeat (generated lazily). */
  loop?: { unit: string; repeats: number };
  /** Wait this long before sending headers. */
  delayMs?: number;
  /** Wait this long between chunks. */
  chunkDelayMs?: number;
  /** Stop answering at this point until the client goes away. */
  hang?: ScenarioHang;
  /** End the body abruptly (no terminating chunk) after this many chunks. */
  drop?: { afterChunks: number };
  /** Streams: after this many chunks send the protocol's error event and end the stream properly. */
  streamError?: { afterChunks: number; message?: string };
  /**
   * Send exactly these pieces as the body (`text/event-stream`); `Uint8Array` pieces may split UTF-8. Pieces are
   * pulled lazily, so a generator can write a body too large to hold, stopping when the client goes away.
   */
  rawSse?: Iterable<string | Uint8Array>;
}

/** Chooses the scenario for a request; called once per request on a known route. */
export type ScenarioFn = (request: RecordedRequest) => Scenario | Promise<Scenario>;
