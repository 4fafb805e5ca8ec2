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

import { ProxyError } from "./errors.ts";

/** The upstream went quiet for longer than its idle timeout after the response started. */
export class UpstreamTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamTimeoutError";
  }
}

/** Options of {@link callUpstream}. */
export interface UpstreamCallOptions {
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

/** A started upstream response whose body is watched for idleness. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body; errors with {@link UpstreamTimeoutError} when idle too long, or with the network error. */
  readonly body: ReadableStream<Uint8Array> | null;
  /** Milliseconds from the call until the response headers arrived. */
  readonly headersMs: number;
  /** Aborts the upstream request (e.g. a garbage loop was found). */
  abort(reason?: unknown): void;
}

/**
 * Sends the request and waits for the response headers.
 *
 * @throws {ProxyError} 504 on connect or response timeout, 502 when the upstream cannot be reached
 * @throws the client's abort reason when the client went away first
 */
export async function callUpstream(url: string, options: UpstreamCallOptions): Promise<UpstreamResponse> {
  const started = performance.now();
  const controller = new AbortController();
  const onClientAbort = () => controller.abort(options.signal.reason);
  if (options.signal.aborted) throw options.signal.reason;
  options.signal.addEventListener("abort", onClientAbort, { once: true });
  const target = new URL(url);
  let failure: ProxyError | undefined;
  let waiting = true;
  const fail = (error: ProxyError) => {
    failure ??= error;
    controller.abort(error);
  };
  const responseTimer = setTimeout(() => {
    fail(
      new ProxyError(504, "timeout", `Upstream ${target.host} sent no response within ${options.responseTimeoutMs} ms`),
    );
  }, options.responseTimeoutMs);
  const connectTimer = setTimeout(() => {
    probeConnect(target, options.connectTimeoutMs, controller.signal).then((ok) => {
      // A probe that ends after the response headers came is moot: the connection is working.
      if (!ok && waiting) {
        fail(
          new ProxyError(504, "timeout", `Could not connect to upstream ${target.host} within the connect timeout`),
        );
      }
    });
  }, options.connectTimeoutMs);
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
    throw new ProxyError(502, "api_error", `Could not reach upstream ${target.host}: ${describe(error)}`, {
      cause: error,
    });
  } finally {
    waiting = false;
    clearTimeout(responseTimer);
    clearTimeout(connectTimer);
  }
  const headersMs = performance.now() - started;
  const body = response.body
    ? watchIdle(response.body, options.idleTimeoutMs, controller, () => {
      options.signal.removeEventListener("abort", onClientAbort);
    })
    : null;
  if (!body) options.signal.removeEventListener("abort", onClientAbort);
  return {
    status: response.status,
    headers: response.headers,
    body,
    headersMs,
    abort: (reason) => controller.abort(reason),
  };
}

/** Re-emits `source`, erroring it when no chunk arrives for `idleMs`; one timer, re-armed lazily. */
function watchIdle(
  source: ReadableStream<Uint8Array>,
  idleMs: number,
  controller: AbortController,
  onEnd: () => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let last = performance.now();
  let reading = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    onEnd();
  };
  return new ReadableStream<Uint8Array>({
    start(out) {
      const arm = (delay: number) => {
        timer = setTimeout(() => {
          const idle = performance.now() - last;
          // Only a read waiting on the upstream counts: a consumer that reads slowly is not the upstream's fault.
          if (!reading) return arm(idleMs);
          if (idle < idleMs) return arm(idleMs - idle);
          const error = new UpstreamTimeoutError(`Upstream sent nothing for ${Math.round(idle)} ms`);
          end();
          controller.abort(error);
          out.error(error);
          reader.cancel(error).catch(() => {});
        }, delay);
      };
      arm(idleMs);
    },
    async pull(out) {
      reading = true;
      last = performance.now();
      try {
        const { done, value } = await reader.read();
        reading = false;
        if (ended) return;
        if (done) {
          end();
          out.close();
        } else out.enqueue(value);
      } catch (error) {
        if (ended) return;
        end();
        out.error(error);
      }
    },
    cancel(reason) {
      end();
      controller.abort(reason);
      return reader.cancel(reason).catch(() => {});
    },
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

/** The most specific message of an error: fetch puts the network reason in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  const message = cause ?? error.message;
  return message.split("\n")[0].replace(/^error sending request for url \([^)]*\): /, "");
}
