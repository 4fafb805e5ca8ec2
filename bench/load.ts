/**
 * The load generator: a fixed number of HTTP calls made by a pool of concurrent workers, timed one by one.
 *
 * {@link runRequests} times whole responses (request sent → body read); {@link runStreams} times server-sent event
 * streams (request sent → first body chunk, and → end of stream) and checks that each ended with its protocol's
 * final event. A batch has a time budget: when it runs out, calls in flight are aborted and the rest are counted
 * as failures, so a hung server cannot hang the benchmark. {@link send} and {@link readEventStream} are the single
 * call and the stream check those batches use, for callers that drive calls one by one.
 *
 * @module
 */

/** One HTTP call: POST `body` as JSON to `url`. */
export interface Call {
  url: string;
  body: string;
  /** Extra request headers. */
  headers?: Readonly<Record<string, string>>;
}

/** Options of a batch of calls. */
export interface BatchOptions {
  /** Calls in flight at once. */
  concurrency: number;
  /** Calls in the batch. */
  count: number;
  /** Longest time the batch may take before the remaining calls are aborted. */
  budgetMs: number;
  /**
   * Spread the workers' first calls evenly over this many milliseconds, so that calls arrive one by one into a
   * steady state of `concurrency` calls in flight instead of all at once. @default 0 (all at once)
   */
  staggerMs?: number;
}

/** What a batch measured. */
export interface BatchResult {
  /** Wall time from the first call's start to the last call's end. */
  elapsedMs: number;
  /** Calls that succeeded. */
  succeeded: number;
  /** Calls that failed (status, network error, incomplete stream, over budget). */
  failed: number;
  /** The first failure's description, for the report. */
  firstFailure?: string;
  /** Per successful call: request sent → response body fully read. */
  totalMs: number[];
  /** Per successful stream: request sent → first body chunk (empty for {@link runRequests}). */
  firstByteMs: number[];
  /** The budget ran out before the batch finished. */
  overBudget: boolean;
}

/** Options of {@link runStreams}. */
export interface StreamBatchOptions extends BatchOptions {
  /** Text the end of a complete stream contains, e.g. `[DONE]` or `message_stop`. */
  endMarker: string;
}

/** What {@link readEventStream} found. */
export interface StreamEnd {
  /** `performance.now()` when the first non-empty chunk arrived; undefined when the body was empty. */
  firstChunkAt?: number;
  /** The body's last bytes contain the end marker. */
  complete: boolean;
  /** The body's last bytes, to explain an incomplete stream. */
  tail: Uint8Array;
}

/** Options of {@link readEventStream}. */
export interface ReadEventStreamOptions {
  /** The encoded end-of-stream text, e.g. `[DONE]` or `message_stop`. */
  endMarker: Uint8Array;
  /** Called once, when the first non-empty chunk arrives (e.g. to cancel a call mid-stream). */
  onFirstChunk?: () => void;
}

/** The answer to a single {@link probe} call. */
export interface ProbeResult {
  status: number;
  /** The start of the response body, for messages. */
  excerpt: string;
}

const TAIL_BYTES = 128;
const EXCERPT_CHARS = 300;

/** Makes `options.count` non-streamed calls and times each until its body is read. */
export function runRequests(call: Call, options: BatchOptions): Promise<BatchResult> {
  return runBatch(options, async (signal, result) => {
    const started = performance.now();
    const response = await send(call, signal);
    const body = await response.arrayBuffer();
    if (!response.ok) return failure(response.status, body);
    result.totalMs.push(performance.now() - started);
  });
}

/** Makes `options.count` streamed calls, timing the first chunk and the end, and checking the final event. */
export function runStreams(call: Call, options: StreamBatchOptions): Promise<BatchResult> {
  const marker = new TextEncoder().encode(options.endMarker);
  return runBatch(options, async (signal, result) => {
    const started = performance.now();
    const response = await send(call, signal);
    if (!response.ok || !response.body) return failure(response.status, await response.arrayBuffer());
    const end = await readEventStream(response.body, { endMarker: marker });
    if (end.firstChunkAt === undefined || !end.complete) {
      return `stream ended without ${options.endMarker}: …${new TextDecoder().decode(end.tail)}`;
    }
    result.firstByteMs.push(end.firstChunkAt - started);
    result.totalMs.push(performance.now() - started);
  });
}

/** Reads an event stream to its end, noting when its first chunk came and whether it ended with `endMarker`. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  options: ReadEventStreamOptions,
): Promise<StreamEnd> {
  let firstChunkAt: number | undefined;
  // The last two chunks, kept by reference (no copy per chunk); the final event lies within them.
  let previous: Uint8Array = new Uint8Array(0);
  let last: Uint8Array = new Uint8Array(0);
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    if (firstChunkAt === undefined) {
      firstChunkAt = performance.now();
      options.onFirstChunk?.();
    }
    previous = last;
    last = chunk;
  }
  const tail = joinTail(previous, last);
  return { ...(firstChunkAt === undefined ? {} : { firstChunkAt }), complete: contains(tail, options.endMarker), tail };
}

/** Makes one call and reads its whole body. */
export async function probe(call: Call, timeoutMs: number): Promise<ProbeResult> {
  const response = await send(call, AbortSignal.timeout(timeoutMs));
  const text = await response.text();
  return { status: response.status, excerpt: text.slice(0, EXCERPT_CHARS) };
}

/**
 * Runs `task` `count` times on `concurrency` workers. A task records its timings in the result and returns
 * nothing on success, or a description of the failure.
 */
async function runBatch(
  options: BatchOptions,
  task: (signal: AbortSignal, result: BatchResult) => Promise<string | undefined>,
): Promise<BatchResult> {
  const { concurrency, count, budgetMs } = options;
  const result: BatchResult = {
    elapsedMs: 0,
    succeeded: 0,
    failed: 0,
    totalMs: [],
    firstByteMs: [],
    overBudget: false,
  };
  const overBudget = `batch ran over its ${budgetMs} ms budget`;
  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(new Error(overBudget)), budgetMs);
  const fail = (description: string) => {
    result.failed++;
    result.firstFailure ??= description;
  };
  let next = 0;
  const stagger = options.staggerMs ?? 0;
  const workers = Math.min(concurrency, count);
  const worker = async (index: number) => {
    if (stagger > 0) await new Promise((resolve) => setTimeout(resolve, (index * stagger) / workers));
    while (next < count) {
      next++;
      if (budget.signal.aborted) {
        fail(overBudget);
        continue;
      }
      try {
        const problem = await task(budget.signal, result);
        if (problem === undefined) result.succeeded++;
        else fail(problem);
      } catch (error) {
        fail(budget.signal.aborted ? overBudget : describe(error));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, (_, index) => worker(index)));
  result.elapsedMs = performance.now() - started;
  result.overBudget = budget.signal.aborted;
  clearTimeout(timer);
  return result;
}

/** POSTs `call` (JSON body, extra headers), aborted by `signal`. */
export function send(call: Call, signal: AbortSignal): Promise<Response> {
  return fetch(call.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...call.headers },
    body: call.body,
    signal,
  });
}

function failure(status: number, body: ArrayBuffer): string {
  return `status ${status}: ${new TextDecoder().decode(body).slice(0, EXCERPT_CHARS)}`;
}

/** The last {@link TAIL_BYTES} bytes of `first` followed by `second`. */
function joinTail(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** A one-line description of a failed call's error, with its cause. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message.split("\n")[0]}${cause}`;
}
