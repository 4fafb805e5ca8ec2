/**
 * The connection gate: what `Deno.serve` does not do for a public port. It caps concurrent connections, survives
 * accept errors (`EMFILE` and the like), and closes connections whose client is slow while the proxy waits on it.
 *
 * The gate accepts on the public address and pumps each connection's bytes to an inner `Deno.serve` on
 * `127.0.0.1:0`, which does all the HTTP. The inner server's `info.remoteAddr.port` names the gate's socket, so the
 * handler wrapper knows which client connection a request came from, and `info.completed` tells when its response
 * was sent. That is all the gate needs to know what it waits for:
 *
 * - **headers**: a new connection, or a kept-alive one that started sending again, has `header_timeout` to get a
 *   request to the handler (it is then closed without an answer, as nginx does);
 * - **body**: while the handler reads the request body, the longest pause between two reads is `body_timeout`;
 *   the read then fails with a 408 {@link ProxyError} (answered in the client's protocol) and the connection
 *   closes after that answer;
 * - **idle**: between requests, a kept-alive connection is closed after `keep_alive_timeout`.
 *
 * While a response is generated or streamed, no timer runs: a long generation is never cut by these.
 *
 * Connections beyond `max_connections` get a minimal 503 with `connection: close` and are closed. Inner
 * connections that the gate did not make get a 403. The pump copies with one reused buffer per direction and
 * waits for each write before the next read, so backpressure holds both ways. When the client's side ends, the
 * handler's `request.signal` aborts at once (the handler gets the request rebuilt with that signal, from the request
 * itself so the raw target is kept) and the end is passed on to the inner server. If the inner server stops on an
 * accept error of its own, its connections are closed and a new one takes over.
 *
 * @module
 */

import { anthropicErrorBody, ProxyError } from "./errors.ts";

/** What the gate accepts from: `Deno.Listener` or a wrapper of one (tests inject accept errors). */
export interface GateListener {
  /** The next connection. */
  accept(): Promise<Deno.Conn>;
  /** Stops listening. */
  close(): void;
  /** The bound address. */
  readonly addr: Deno.Addr;
}

/** Options of {@link serveGated}. */
export interface ConnectionGateOptions {
  /** Address to listen on (ignored when `listener` is given). */
  hostname?: string;
  /** Port to listen on; 0 picks one (ignored when `listener` is given). */
  port?: number;
  /** Accept from this listener instead of listening on `hostname:port`. */
  listener?: GateListener;
  /** Most client connections at once. @default {@link defaultMaxConnections}() */
  maxConnections?: number;
  /** Seconds a connection has to get a request's headers through. */
  headerTimeoutSeconds: number;
  /** Longest pause, in seconds, while the handler reads a request body. */
  bodyTimeoutSeconds: number;
  /** Seconds a kept-alive connection may be idle. */
  keepAliveTimeoutSeconds: number;
  /** Receives accept errors (rate-limited) and shed connections. */
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** The inner server's `onError`. */
  onError?: (error: unknown) => Response | Promise<Response>;
}

/** A running gate and its inner server. */
export interface ConnectionGate {
  /** The public address. */
  readonly addr: Deno.NetAddr;
  /** The inner server's address; requests on it that did not come through the gate are refused with a 403. */
  readonly innerAddr: Deno.NetAddr;
  /** Client connections open now. */
  readonly connections: number;
  /** Requests whose response is not fully sent yet. */
  readonly inFlight: number;
  /**
   * Starts a graceful stop: no more connections are accepted, connections with nothing in flight are closed, and
   * the others are closed once their responses are sent.
   */
  drain(): void;
  /** Resolves when no connection is left open (after {@link ConnectionGate.drain}, once all have finished). */
  drained(): Promise<void>;
  /** Closes every connection and both servers; resolves when everything is released. Safe to call twice. */
  close(): Promise<void>;
}

/** File descriptors a gated connection costs: client socket, the gate's inner socket, the server's end of it. */
const FDS_PER_CONNECTION = 3;
/** Room kept for upstream sockets (one per request in flight), with the connections' own. */
const FDS_PER_CONNECTION_WITH_UPSTREAM = FDS_PER_CONNECTION + 1;
/** Descriptors kept for listeners, stdio, config and dump files. */
const RESERVED_FDS = 64;
/**
 * Open-file limit assumed where it cannot be read (Deno grants `/proc/self/limits` only with `--allow-all`): the
 * gate then learns the real limit from the first "too many open files" and lowers its cap (see
 * {@link Gate.#learnLimit}).
 */
const FALLBACK_FD_LIMIT = 16_384;
/** Connections kept below the count at which descriptors ran out, when the cap is learnt. */
const LEARNT_LIMIT_MARGIN = 16;
/** The smallest cap a learnt limit sets. */
const MIN_LEARNT_CONNECTIONS = 16;
/** Bytes per pump read at most; one buffer per direction and connection, reused. */
const PUMP_BUFFER_BYTES = 16 * 1024;
/**
 * Bytes of a pump's first buffer: a read that fills it grows it (up to {@link PUMP_BUFFER_BYTES}), so the
 * thousands of idle or small-request connections a proxy holds cost little memory.
 */
const PUMP_FIRST_BUFFER_BYTES = 1024;
/** Most connections being shed at once (and at most a quarter of the cap); beyond it they are closed unanswered. */
const MAX_SHEDDING = 64;
/** How long a shed connection may take to read its 503 before it is closed. */
const SHED_LINGER_MS = 1_000;
/** Accept error back-off: the pending connection stays in the backlog, so an immediate retry would spin. */
const ACCEPT_BACKOFF_MIN_MS = 10;
const ACCEPT_BACKOFF_MAX_MS = 1_000;
/** At most one accept error line, and one shed line, per this interval; the others are counted in the next. */
const LOG_INTERVAL_MS = 10_000;

const encoder = new TextEncoder();

/**
 * A default `max_connections` from the soft open-file limit in `/proc/self/limits` ({@link FALLBACK_FD_LIMIT}
 * assumed where it cannot be read): each connection costs {@link FDS_PER_CONNECTION} descriptors plus an upstream
 * socket, and 64 are kept for everything else.
 */
export function defaultMaxConnections(limits?: string): number {
  let text = limits;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/proc/self/limits");
    } catch {
      text = "";
    }
  }
  const soft = Number(/^Max open files\s+(\d+)/m.exec(text)?.[1] ?? FALLBACK_FD_LIMIT);
  return Math.max(1, Math.floor((soft - RESERVED_FDS) / FDS_PER_CONNECTION_WITH_UPSTREAM));
}

/** Serves `handler` behind a connection gate; see the module doc. */
export function serveGated(
  handler: (request: Request) => Response | Promise<Response>,
  options: ConnectionGateOptions,
): ConnectionGate {
  return new Gate(handler, options);
}

type ConnectionState = "headers" | "busy" | "idle";

/** A raw HTTP/1.1 answer written by the gate itself, where no request reached the server. */
function rawResponse(status: string, message: string): Uint8Array {
  const body = JSON.stringify(anthropicErrorBody("overloaded", message));
  return encoder.encode(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\nconnection: close\r\nretry-after: 1\r\n` +
      `content-length: ${encoder.encode(body).length}\r\n\r\n${body}`,
  );
}

/**
 * Copies `from` to `to` until `from` ends, one read at a time, each written before the next read (backpressure);
 * `onData` runs before each write.
 */
async function pump(from: Deno.Conn, to: Deno.Conn, onData?: () => void): Promise<void> {
  let buffer = new Uint8Array(PUMP_FIRST_BUFFER_BYTES);
  while (true) {
    const n = await from.read(buffer);
    if (n === null) return;
    onData?.();
    await writeAll(to, n === buffer.length ? buffer : buffer.subarray(0, n));
    if (n === buffer.length && buffer.length < PUMP_BUFFER_BYTES) {
      buffer = new Uint8Array(Math.min(buffer.length * 4, PUMP_BUFFER_BYTES));
    }
  }
}

/** Whether `error` says the process ran out of file descriptors (EMFILE / ENFILE). */
function isOutOfDescriptors(error: unknown): boolean {
  return /too many open files|os error 2[34]\b/i.test(error instanceof Error ? error.message : String(error));
}

/** The 503 of a shed connection; the body is Anthropic-shaped, whose `error.message` OpenAI SDKs read too. */
const SHED_RESPONSE = rawResponse("503 Service Unavailable", "Too many connections to the proxy; try again shortly");

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(written === 0 ? bytes : bytes.subarray(written));
  }
}

function noDelay(conn: Deno.Conn): void {
  if ("setNoDelay" in conn && typeof conn.setNoDelay === "function") conn.setNoDelay(true);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** A log line written at most once per {@link LOG_INTERVAL_MS}, counting the ones it skipped. */
class RateLimitedLine {
  #lastAt = -Infinity;
  #skipped = 0;

  /** A suffix for a line to write now (naming the skipped ones), or undefined to skip this one. */
  take(): string | undefined {
    const now = performance.now();
    if (now - this.#lastAt < LOG_INTERVAL_MS) {
      this.#skipped++;
      return undefined;
    }
    const suffix = this.#skipped > 0 ? ` (${this.#skipped} more since the last line)` : "";
    this.#lastAt = now;
    this.#skipped = 0;
    return suffix;
  }
}

class Gate implements ConnectionGate {
  readonly addr: Deno.NetAddr;
  /** The three timeouts in milliseconds, read by the connections. */
  readonly timeouts: { readonly header: number; readonly body: number; readonly keepAlive: number };
  #listener: GateListener;
  #inner: Deno.HttpServer<Deno.NetAddr>;
  #handler: (request: Request) => Response | Promise<Response>;
  #options: ConnectionGateOptions;
  #maxConnections: number;
  /** Open connections by the local port of their inner socket. */
  #byPort = new Map<number, GateConnection>();
  #opening = 0;
  #shedding = new Set<Deno.Conn>();
  #tasks = new Set<Promise<void>>();
  #inFlight = 0;
  #drainWaiters: Array<() => void> = [];
  #stopped = false;
  #draining = false;
  /** Back-off waits in progress (accept loop, inner server restart); a stop ends them. */
  #pauses = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  #acceptErrorLine = new RateLimitedLine();
  #shedLine = new RateLimitedLine();
  #closed: Promise<void> | undefined;

  constructor(handler: (request: Request) => Response | Promise<Response>, options: ConnectionGateOptions) {
    this.#handler = handler;
    this.#options = options;
    this.#maxConnections = options.maxConnections ?? defaultMaxConnections();
    this.timeouts = {
      header: options.headerTimeoutSeconds * 1000,
      body: options.bodyTimeoutSeconds * 1000,
      keepAlive: options.keepAliveTimeoutSeconds * 1000,
    };
    this.#listener = options.listener ??
      Deno.listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 0, transport: "tcp" });
    this.addr = this.#listener.addr as Deno.NetAddr;
    this.#inner = this.#serveInner();
    this.#track(this.#acceptLoop());
  }

  get innerAddr(): Deno.NetAddr {
    return this.#inner.addr;
  }

  /**
   * Starts the inner server. `Deno.serve` stops for good when its own accept fails (`EMFILE` when the process is
   * out of descriptors): the requests of its connections are lost, so those are closed, and a new inner server
   * takes over (retried with back-off while it cannot listen).
   */
  #serveInner(): Deno.HttpServer<Deno.NetAddr> {
    const inner = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      onError: this.#options.onError,
    }, this.#serve);
    inner.finished.catch((error) => {
      if (this.#draining) return;
      const detail = error instanceof Error ? error.message : String(error);
      this.#options.log("error", `The inner server stopped (${detail}); starting a new one`);
      for (const connection of this.#byPort.values()) connection.close();
      this.#track(this.#restartInner());
    });
    return inner;
  }

  async #restartInner(): Promise<void> {
    let backoffMs = ACCEPT_BACKOFF_MIN_MS;
    while (!this.#draining) {
      try {
        this.#inner = this.#serveInner();
        return;
      } catch (error) {
        this.#logAcceptError(error);
        await this.#pause(backoffMs);
        backoffMs = Math.min(backoffMs * 2, ACCEPT_BACKOFF_MAX_MS);
      }
    }
  }

  get connections(): number {
    return this.#byPort.size + this.#opening;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get draining(): boolean {
    return this.#draining;
  }

  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#stopAccepting();
    for (const connection of this.#byPort.values()) {
      if (connection.inFlight === 0) connection.close();
    }
  }

  drained(): Promise<void> {
    if (this.connections === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#drainWaiters.push(resolve);
    return promise;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#draining = true;
    this.#stopAccepting();
    for (const connection of this.#byPort.values()) connection.close();
    for (const conn of this.#shedding) closeQuietly(conn);
    await this.#inner.shutdown().catch(() => {});
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
  }

  /** Called by a connection when a request arrives or its response has been sent. */
  requestDelta(delta: 1 | -1): void {
    this.#inFlight += delta;
  }

  /** Called by a connection when it has closed. */
  forget(port: number): void {
    this.#byPort.delete(port);
    this.#notifyIfDrained();
  }

  #notifyIfDrained(): void {
    if (this.connections > 0) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  #stopAccepting(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const pause of this.#pauses) {
      clearTimeout(pause.timer);
      pause.resolve();
    }
    this.#pauses.clear();
  }

  async #acceptLoop(): Promise<void> {
    let backoffMs = ACCEPT_BACKOFF_MIN_MS;
    while (!this.#stopped) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
        backoffMs = ACCEPT_BACKOFF_MIN_MS;
      } catch (error) {
        if (this.#stopped) return;
        this.#learnLimit(error);
        this.#logAcceptError(error);
        await this.#pause(backoffMs);
        backoffMs = Math.min(backoffMs * 2, ACCEPT_BACKOFF_MAX_MS);
        continue;
      }
      if (this.#stopped) {
        closeQuietly(conn);
        return;
      }
      if (this.connections >= this.#maxConnections) this.#shed(conn);
      else this.#track(this.#open(conn));
    }
  }

  #pause(ms: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const pause = {
      timer: setTimeout(() => {
        this.#pauses.delete(pause);
        resolve();
      }, ms),
      resolve,
    };
    this.#pauses.add(pause);
    return promise;
  }

  /**
   * Lowers the cap below the connections open when descriptors ran out, so that later connections are shed with a
   * 503 instead of failing: where the open-file limit could not be read, this is how the gate learns it.
   */
  #learnLimit(error: unknown): void {
    if (!isOutOfDescriptors(error)) return;
    const cap = Math.max(MIN_LEARNT_CONNECTIONS, this.connections - LEARNT_LIMIT_MARGIN);
    if (cap >= this.#maxConnections) return;
    this.#maxConnections = cap;
    this.#options.log(
      "warn",
      `Out of file descriptors at ${this.connections} connections: listen.max_connections lowered to ${cap}; ` +
        "raise the open-file limit (ulimit -n) to serve more",
    );
  }

  #logAcceptError(error: unknown): void {
    const more = this.#acceptErrorLine.take();
    if (more === undefined) return;
    const detail = error instanceof Error ? error.message : String(error);
    this.#options.log("error", `Cannot accept a connection: ${detail}${more}; ${this.connections} open`);
  }

  /** Answers 503 and closes, after the client had a moment to read it (an unread request would reset it). */
  #shed(conn: Deno.Conn): void {
    const more = this.#shedLine.take();
    if (more !== undefined) {
      this.#options.log(
        "warn",
        `Connection limit of ${this.#maxConnections} reached: answering 503 and closing${more}`,
      );
    }
    if (this.#shedding.size >= Math.min(MAX_SHEDDING, Math.ceil(this.#maxConnections / 4))) {
      closeQuietly(conn);
      return;
    }
    this.#shedding.add(conn);
    const linger = setTimeout(() => closeQuietly(conn), SHED_LINGER_MS);
    this.#track((async () => {
      try {
        await writeAll(conn, SHED_RESPONSE);
        await conn.closeWrite();
        const sink = new Uint8Array(1024);
        while (await conn.read(sink) !== null) {
          // Discard the request until the client closes.
        }
      } catch {
        // The client went away or the linger closed it.
      } finally {
        clearTimeout(linger);
        closeQuietly(conn);
        this.#shedding.delete(conn);
      }
    })());
  }

  async #open(client: Deno.Conn): Promise<void> {
    this.#opening++;
    let inner: Deno.Conn;
    try {
      inner = await Deno.connect({ hostname: "127.0.0.1", port: this.innerAddr.port });
    } catch (error) {
      this.#opening--;
      this.#learnLimit(error);
      this.#logAcceptError(error);
      closeQuietly(client);
      this.#notifyIfDrained();
      return;
    }
    this.#opening--;
    if (this.#draining) {
      closeQuietly(inner);
      closeQuietly(client);
      this.#notifyIfDrained();
      return;
    }
    // Small SSE events must not wait for Nagle's algorithm on either hop.
    noDelay(client);
    noDelay(inner);
    const port = (inner.localAddr as Deno.NetAddr).port;
    const connection = new GateConnection(this, client, inner, port);
    this.#byPort.set(port, connection);
    await connection.run();
  }

  /** The inner server's handler: refuses connections the gate did not make, tracks the rest. */
  #serve = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response> => {
    const connection = this.#byPort.get(info.remoteAddr.port);
    if (connection === undefined) {
      return Response.json(anthropicErrorBody("permission", "Connect through the proxy's public address"), {
        status: 403,
        headers: { connection: "close" },
      });
    }
    connection.begin();
    info.completed.catch(() => {}).then(() => connection.end());
    return this.#handler(connection.adopt(request));
  };
}

/** One client connection and its inner socket. */
class GateConnection {
  inFlight = 0;
  #gate: Gate;
  #client: Deno.Conn;
  #inner: Deno.Conn;
  #port: number;
  #state: ConnectionState = "headers";
  /** When the current state started (`performance.now()`). */
  #since = performance.now();
  /** When the pending body read started, or 0 when none is pending. */
  #bodyWaitSince = 0;
  #onBodyTimeout: (() => void) | undefined;
  #closeAfterResponse = false;
  /** Aborts when the client's side of the connection ends. */
  #gone = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #closed = false;

  constructor(gate: Gate, client: Deno.Conn, inner: Deno.Conn, port: number) {
    this.#gate = gate;
    this.#client = client;
    this.#inner = inner;
    this.#port = port;
  }

  /** Pumps both directions until the connection is closed. */
  async run(): Promise<void> {
    this.#schedule();
    await Promise.all([this.#pumpIn(), this.#pumpOut()]);
  }

  /** The inner server got a request on this connection. */
  begin(): void {
    this.inFlight++;
    this.#gate.requestDelta(1);
    this.#state = "busy";
  }

  /** The response to a request of this connection was sent (or failed). */
  end(): void {
    this.inFlight--;
    this.#gate.requestDelta(-1);
    if (this.inFlight > 0) return;
    this.#bodyWaitSince = 0;
    this.#onBodyTimeout = undefined;
    if (this.#closeAfterResponse || this.#gate.draining) {
      this.#closeGracefully();
      return;
    }
    this.#state = "idle";
    this.#since = performance.now();
    this.#schedule();
  }

  /**
   * `request` as the handler sees it: its signal also aborts the moment the client's side ends (without waiting
   * for the inner server to notice), and its body is read under the body timeout. Built from the request itself,
   * never from its URL string, which would normalise the raw target (`/v1/../x`) the app must see and refuse.
   */
  adopt(request: Request): Request {
    const signal = AbortSignal.any([request.signal, this.#gone.signal]);
    const source = request.body;
    if (source === null) {
      return new Request(request, { signal });
    }
    const reader = source.getReader();
    let timedOut = false;
    this.#onBodyTimeout = () => {
      timedOut = true;
      reader.cancel().catch(() => {});
    };
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        this.#bodyWaitSince = performance.now();
        this.#schedule();
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          controller.error(error);
          return;
        } finally {
          this.#bodyWaitSince = 0;
        }
        if (timedOut) {
          const seconds = this.#gate.timeouts.body / 1000;
          controller.error(new ProxyError(408, "timeout", `Request body stalled for more than ${seconds}s`));
        } else if (result.done) controller.close();
        else controller.enqueue(result.value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
    return new Request(request, { body, signal });
  }

  /** Closes both sockets at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#gate.forget(this.#port);
    this.#clientGone();
    closeQuietly(this.#client);
    closeQuietly(this.#inner);
  }

  #clientGone(): void {
    if (!this.#gone.signal.aborted) this.#gone.abort(new DOMException("The client went away", "AbortError"));
  }

  /**
   * Ends the connection after the response just sent: the inner server sees the end of input and closes its
   * side, and the outward pump closes the client once it has forwarded everything.
   */
  #closeGracefully(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inner.closeWrite().catch(() => this.close());
  }

  async #pumpIn(): Promise<void> {
    try {
      await pump(this.#client, this.#inner, () => {
        if (this.#state !== "idle") return;
        this.#state = "headers";
        this.#since = performance.now();
        this.#schedule();
      });
      // The client is done sending: pass the end on, so the server sees a closed connection.
      this.#clientGone();
      await this.#inner.closeWrite();
    } catch {
      // Either side closed; the outward pump or close() ends the rest.
      this.#clientGone();
    }
  }

  async #pumpOut(): Promise<void> {
    try {
      await pump(this.#inner, this.#client);
    } catch {
      // Either side closed.
    } finally {
      this.close();
    }
  }

  /** When the current wait runs out, or undefined while the proxy is not waiting on the client. */
  #deadline(): number | undefined {
    const timeouts = this.#gate.timeouts;
    switch (this.#state) {
      case "headers":
        return this.#since + timeouts.header;
      case "idle":
        return this.#since + timeouts.keepAlive;
      case "busy":
        return this.#bodyWaitSince === 0 || this.#closeAfterResponse ? undefined : this.#bodyWaitSince + timeouts.body;
    }
  }

  /**
   * Makes sure a timer fires by the current deadline. A timer that fires later than needed is replaced; one that
   * fires earlier is kept and re-checks (so a body read per chunk does not reset a timer).
   */
  #schedule(): void {
    if (this.#closed) return;
    const deadline = this.#deadline();
    if (deadline === undefined || (this.#timer !== undefined && this.#timerAt <= deadline)) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, deadline - performance.now()));
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const deadline = this.#deadline();
    if (deadline === undefined) return;
    if (deadline > performance.now()) {
      this.#schedule();
      return;
    }
    if (this.#state === "busy") {
      // The handler answers 408 from the failed body read; the connection closes after that answer.
      this.#closeAfterResponse = true;
      this.#onBodyTimeout?.();
      return;
    }
    this.close();
  };
}
