/**
 * One upstream HTTP request with the proxy's timeouts and cancellation.
 *
 * - Connect: fetch exposes no connect phase, so a TCP probe to the upstream starts shortly after the request
 *   (none when the headers come first) with the rest of `connectTimeoutMs`; a probe that has not connected by then
 *   aborts with 504 at the connect timeout (unless the response headers came first).
 * - Response: no response headers after `responseTimeoutMs` aborts with 504.
 * - Idle: the body is watched by one re-armed timer; a read that gets no chunk for `idleTimeoutMs` aborts the
 *   request and errors the body with {@link UpstreamTimeoutError}. Time the consumer spends not reading does not
 *   count (like a socket read timeout).
 * - Total: the whole request, headers and body, must end within `maxDurationMs`: 504 before the headers,
 *   {@link UpstreamTimeoutError} on the body after.
 * - Size: the body's bytes are counted as they arrive, after decoding a body the upstream compressed although asked
 *   for identity (`content_encoding.ts`); past `maxResponseBytes` the request is aborted and the body errors with
 *   {@link UpstreamLimitError}.
 * - The client's signal (disconnect, cancelled reader) aborts the request at once, in every phase.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import { contentEncoding, decodeBody } from "./content_encoding.ts";
import { ProxyError } from "./errors.ts";
import { upstreamFailureReason } from "./upstream_failure.ts";

/** The upstream went quiet for longer than its idle timeout after the response started. */
export class UpstreamTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamTimeoutError";
  }
}

/** The upstream sent more than the proxy accepts (a body or an event over its byte limit). */
export class UpstreamLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamLimitError";
  }
}

/** Options of {@link callUpstream}. */
export interface UpstreamCallOptions {
  /** The upstream's configured name: error messages name it, never its URL, host or port. */
  upstream: string;
  method: string;
  headers: Headers;
  body: BodyInit | null;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  idleTimeoutMs: number;
  /** Longest time for the whole request, headers and body. @default Infinity */
  maxDurationMs?: number;
  /** Largest body read, counted after decompression. @default Infinity */
  maxResponseBytes?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Reads chunks of a body; a `ReadableStreamDefaultReader` is one. */
export interface ChunkReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/** A started upstream response whose body is watched for idleness. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  /**
   * The body's reader, or null without a body. A read that waits longer than the idle timeout rejects with
   * {@link UpstreamTimeoutError}; the network error otherwise. Use either this or {@link body}, once.
   */
  reader(): ChunkReader | null;
  /** The body as a stream (built on {@link reader}), for piping through transforms; null without a body. */
  readonly body: ReadableStream<Uint8Array> | null;
  /** Milliseconds from the call until the response headers arrived. */
  readonly headersMs: number;
  /** Aborts the upstream request (e.g. a garbage loop was found). */
  abort(reason?: unknown): void;
}

/**
 * Sends the request and waits for the response headers.
 *
 * @throws {ProxyError} 504 on connect or response timeout, 502 when the upstream cannot be reached (messages name
 *   the upstream, never its URL, host or port)
 * @throws the client's abort reason when the client went away first
 */
export async function callUpstream(url: string, options: UpstreamCallOptions): Promise<UpstreamResponse> {
  const started = performance.now();
  const controller = new AbortController();
  const onClientAbort = () => controller.abort(options.signal.reason);
  if (options.signal.aborted) throw options.signal.reason;
  options.signal.addEventListener("abort", onClientAbort, { once: true });
  let failure: ProxyError | undefined;
  let waiting = true;
  const fail = (error: ProxyError) => {
    failure ??= error;
    controller.abort(error);
  };
  const name = JSON.stringify(options.upstream);
  const responseMs = options.responseTimeoutMs;
  const responseTimer = setTimeout(
    () => fail(new ProxyError(504, "timeout", `Upstream ${name} sent no response within ${responseMs} ms`)),
    responseMs,
  );
  // The connect probe starts a moment after the request, with what is left of the connect timeout, so the 504
  // still comes at the timeout itself while an answer that comes at once (a pooled connection) costs no probe.
  const probeDelayMs = Math.min(PROBE_DELAY_MS, options.connectTimeoutMs / 4);
  const probe = new AbortController();
  const probeTimer = setTimeout(() => {
    const probeSignal = AbortSignal.any([probe.signal, controller.signal]);
    connectTimedOut(new URL(url), options.connectTimeoutMs - probeDelayMs, probeSignal).then((timedOut) => {
      // A probe that ends after the response headers came is moot: the connection is working.
      if (timedOut && waiting) {
        const seconds = options.connectTimeoutMs / 1000;
        fail(new ProxyError(504, "timeout", `Could not connect to upstream ${name} within ${seconds} s`));
      }
    });
  }, probeDelayMs);
  let watch: BodyWatch | undefined;
  const maxDurationMs = options.maxDurationMs ?? Infinity;
  const overDuration = () => `Upstream ${name} did not finish within ${maxDurationMs / 1000} s (max_duration_seconds)`;
  const deadline = maxDurationMs < MAX_TIMER_MS
    ? setTimeout(() => {
      if (waiting) return fail(new ProxyError(504, "timeout", overDuration()));
      const error = new UpstreamTimeoutError(overDuration());
      if (watch) watch.expire(error);
      else controller.abort(error);
    }, maxDurationMs)
    : undefined;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: options.method,
      headers: identityHeaders(options.headers),
      body: options.body,
      signal: controller.signal,
      redirect: "manual",
    });
  } catch (error) {
    clearTimeout(deadline);
    options.signal.removeEventListener("abort", onClientAbort);
    if (failure) throw failure;
    if (options.signal.aborted) throw options.signal.reason;
    throw new ProxyError(502, "api_error", `Upstream ${name} could not be reached: ${upstreamFailureReason(error)}`, {
      cause: error,
    });
  } finally {
    waiting = false;
    clearTimeout(responseTimer);
    clearTimeout(probeTimer);
    probe.abort();
  }
  const headersMs = performance.now() - started;
  const onEnd = () => {
    clearTimeout(deadline);
    options.signal.removeEventListener("abort", onClientAbort);
  };
  const encoding = contentEncoding(response.headers);
  if (encoding === undefined) {
    onEnd();
    controller.abort();
    await response.body?.cancel().catch(() => {});
    const sent = response.headers.get("content-encoding");
    throw new ProxyError(502, "api_error", `Upstream ${name} sent a body in an unsupported encoding "${sent}"`);
  }
  const source = response.body && encoding ? decodeBody(response.body, encoding) : response.body;
  if (!source) onEnd();
  const limits = { idleMs: options.idleTimeoutMs, maxBytes: options.maxResponseBytes ?? Infinity };
  const getReader = () => source ? (watch ??= watchBody(source, limits, controller, onEnd)).reader : null;
  let body: ReadableStream<Uint8Array> | null | undefined;
  return {
    status: response.status,
    headers: response.headers,
    reader: getReader,
    get body() {
      if (body !== undefined) return body;
      const chunks = getReader();
      return body = chunks ? readerStream(chunks) : null;
    },
    headersMs,
    abort: (reason) => controller.abort(reason),
  };
}

/**
 * `headers` asking for an uncompressed body: otherwise `fetch` asks for gzip/br and inflates the body itself, out of
 * reach of the size limit.
 */
function identityHeaders(headers: Headers): Headers {
  if (headers.get("accept-encoding") === "identity") return headers;
  const out = new Headers(headers);
  out.set("accept-encoding", "identity");
  return out;
}

/** The longest delay `setTimeout` takes (a larger one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A watched body: its reader, and a way to fail it from outside (the request's deadline). */
interface BodyWatch {
  readonly reader: ChunkReader;
  /** Ends the body: pending and later reads reject with `error`, the request is aborted. */
  expire(error: Error): void;
}

/**
 * Wraps a body's reader so that a read waiting on the upstream for longer than `idleMs` fails with
 * {@link UpstreamTimeoutError} and a body past `maxBytes` fails with {@link UpstreamLimitError}; one timer per
 * body, re-armed lazily, and no extra stream stage.
 */
function watchBody(
  source: ReadableStream<Uint8Array>,
  limits: { idleMs: number; maxBytes: number },
  controller: AbortController,
  onEnd: () => void,
): BodyWatch {
  const { idleMs, maxBytes } = limits;
  const inner = source.getReader();
  let last = performance.now();
  let reading = false;
  let received = 0;
  let failed: Error | undefined;
  let ended = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    onEnd();
  };
  const expire = (error: Error) => {
    if (ended) return;
    failed = error;
    end();
    controller.abort(error);
    inner.cancel(error).catch(() => {});
  };
  const arm = (delay: number) => {
    timer = setTimeout(() => {
      // Only a read waiting on the upstream counts: a consumer that reads slowly is not the upstream's fault.
      if (!reading) return arm(idleMs);
      const idle = performance.now() - last;
      if (idle < idleMs) return arm(idleMs - idle);
      expire(new UpstreamTimeoutError(`Upstream sent nothing for ${Math.round(idle)} ms`));
    }, delay);
  };
  arm(idleMs);
  const reader: ChunkReader = {
    async read() {
      if (failed) throw failed;
      reading = true;
      last = performance.now();
      try {
        const result = await inner.read();
        if (failed) throw failed;
        if (result.done) end();
        else if ((received += result.value.length) > maxBytes) {
          expire(new UpstreamLimitError(`Upstream response is larger than the limit of ${maxBytes} bytes`));
          throw failed;
        }
        return result;
      } catch (error) {
        end();
        throw failed ?? error;
      } finally {
        reading = false;
      }
    },
    cancel(reason) {
      end();
      controller.abort(reason);
      return inner.cancel(reason).catch(() => {});
    },
  };
  return { reader, expire };
}

/**
 * Reads a body to the end as one byte array; a body past `maxBytes` is cancelled as soon as it gets there.
 *
 * @throws {ProxyError} 502 when the body is larger than `maxBytes`
 */
export async function readAll(reader: ChunkReader, maxBytes = Infinity): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(chunks);
    size += value.length;
    if (size > maxBytes) {
      const error = new ProxyError(502, "api_error", `Upstream response is larger than the limit of ${maxBytes} bytes`);
      await reader.cancel(error);
      throw error;
    }
    chunks.push(value);
  }
}

/**
 * Reads a whole upstream body for an answer; a failure mid-body is a 504 (idle, deadline) or 502 (size limit,
 * broken connection), not an internal error.
 */
export async function readBody(reader: ChunkReader): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await readAll(reader);
  } catch (error) {
    if (error instanceof UpstreamTimeoutError) throw new ProxyError(504, "timeout", error.message);
    if (error instanceof UpstreamLimitError) throw new ProxyError(502, "api_error", error.message);
    if (error instanceof ProxyError) throw error;
    const detail = upstreamFailureReason(error);
    throw new ProxyError(502, "api_error", `Upstream response failed before it was complete: ${detail}`);
  }
}

/** A pull stream over a {@link ChunkReader}. */
export function readerStream(reader: ChunkReader): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      try {
        const { done, value } = await reader.read();
        if (done) out.close();
        else out.enqueue(value);
      } catch (error) {
        out.error(error);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

/** How long after the request the connect probe starts (at most a quarter of the connect timeout). */
const PROBE_DELAY_MS = 50;

/**
 * Tells whether a TCP connection to the URL's host failed to open within `timeoutMs`. A refused connection is not
 * a timeout (fetch reports it itself); an abort of `signal` ends the probe, leaving no timer or connection behind.
 */
async function connectTimedOut(url: URL, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), Math.min(timeoutMs, MAX_TIMER_MS));
  try {
    const conn = await Deno.connect({ hostname, port, signal: AbortSignal.any([signal, timeout.signal]) });
    conn.close();
  } catch {
    // Refused, unreachable or aborted: only the timeout below counts.
  } finally {
    clearTimeout(timer);
  }
  return timeout.signal.aborted && !signal.aborted;
}
