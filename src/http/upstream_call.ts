/**
 * One upstream HTTP request with the proxy's timeouts and cancellation.
 *
 * - Connect: when no response has come after `connectTimeoutMs`, a TCP probe checks that the upstream accepts
 *   connections at all (fetch exposes no connect phase); a probe that fails aborts with 504.
 * - Response: no response headers after `responseTimeoutMs` aborts with 504.
 * - Idle: the body is watched by one re-armed timer; a read that gets no chunk for `idleTimeoutMs` aborts the
 *   request and errors the body with {@link UpstreamTimeoutError}. Time the consumer spends not reading does not
 *   count (like a socket read timeout).
 * - The client's signal (disconnect, cancelled reader) aborts the request at once, in every phase.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import { ProxyError } from "./errors.ts";
import { upstreamFailureReason } from "./upstream_failure.ts";

/** The upstream went quiet for longer than its idle timeout after the response started. */
export class UpstreamTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamTimeoutError";
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
  // One timer for both deadlines: the connect probe, then the response timeout.
  const name = JSON.stringify(options.upstream);
  const connectAt = options.connectTimeoutMs;
  const responseAt = options.responseTimeoutMs;
  const onResponseTimeout = () =>
    fail(new ProxyError(504, "timeout", `Upstream ${name} sent no response within ${responseAt} ms`));
  let timer = setTimeout(() => {
    if (connectAt >= responseAt) return onResponseTimeout();
    timer = setTimeout(onResponseTimeout, responseAt - connectAt);
    probeConnect(new URL(url), connectAt, controller.signal).then((ok) => {
      // A probe that ends after the response headers came is moot: the connection is working.
      if (!ok && waiting) {
        fail(new ProxyError(504, "timeout", `Could not connect to upstream ${name} within the connect timeout`));
      }
    });
  }, Math.min(connectAt, responseAt));
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: options.method,
      headers: options.headers,
      body: options.body,
      signal: controller.signal,
      redirect: "manual",
    });
  } catch (error) {
    options.signal.removeEventListener("abort", onClientAbort);
    if (failure) throw failure;
    if (options.signal.aborted) throw options.signal.reason;
    throw new ProxyError(502, "api_error", `Upstream ${name} could not be reached: ${upstreamFailureReason(error)}`, {
      cause: error,
    });
  } finally {
    waiting = false;
    clearTimeout(timer);
  }
  const headersMs = performance.now() - started;
  const source = response.body;
  const onEnd = () => options.signal.removeEventListener("abort", onClientAbort);
  if (!source) onEnd();
  let reader: ChunkReader | null | undefined;
  const getReader = () => reader ??= source ? watchIdle(source, options.idleTimeoutMs, controller, onEnd) : null;
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
 * Wraps a body's reader so that a read waiting on the upstream for longer than `idleMs` fails with
 * {@link UpstreamTimeoutError}; one timer per body, re-armed lazily, and no extra stream stage.
 */
function watchIdle(
  source: ReadableStream<Uint8Array>,
  idleMs: number,
  controller: AbortController,
  onEnd: () => void,
): ChunkReader {
  const inner = source.getReader();
  let last = performance.now();
  let reading = false;
  let timedOut: UpstreamTimeoutError | undefined;
  let ended = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    onEnd();
  };
  const arm = (delay: number) => {
    timer = setTimeout(() => {
      // Only a read waiting on the upstream counts: a consumer that reads slowly is not the upstream's fault.
      if (!reading) return arm(idleMs);
      const idle = performance.now() - last;
      if (idle < idleMs) return arm(idleMs - idle);
      timedOut = new UpstreamTimeoutError(`Upstream sent nothing for ${Math.round(idle)} ms`);
      end();
      controller.abort(timedOut);
      inner.cancel(timedOut).catch(() => {});
    }, delay);
  };
  arm(idleMs);
  return {
    async read() {
      if (timedOut) throw timedOut;
      reading = true;
      last = performance.now();
      try {
        const result = await inner.read();
        if (timedOut) throw timedOut;
        if (result.done) end();
        return result;
      } catch (error) {
        end();
        throw timedOut ?? error;
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
}

/** Reads a body to the end as one byte array. */
export async function readAll(reader: ChunkReader): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  while (true) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(chunks);
    chunks.push(value);
  }
}

/** A pull stream over a {@link ChunkReader}. */
function readerStream(reader: ChunkReader): ReadableStream<Uint8Array> {
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

/** Tells whether a TCP connection to the URL's host can be opened within `timeoutMs`. */
async function probeConnect(url: URL, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return true;
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs));
  const attempt = Deno.connect({ hostname, port }).then((conn) => {
    conn.close();
    return true;
  }, () => false);
  const ok = await Promise.race([attempt, timeout]);
  clearTimeout(timer);
  if (!ok) attempt.then(() => {}); // a late connection is closed by `attempt` itself
  return ok;
}
