/**
 * Stopping without losing work. On SIGTERM/SIGINT the proxy stops accepting connections, answers queued and new
 * requests with a 503 in their protocol's shape at once, lets requests in flight finish for up to
 * `listen.shutdown_grace_seconds`, then ends each open stream with its protocol's SSE error event and closes.
 *
 * {@link Drain} is what the app watches (held by the request context); {@link stopGracefully} runs the steps
 * against the connection gate; {@link stopOnSignal} starts them on SIGTERM/SIGINT.
 *
 * @module
 */

import type { ConnectionGate } from "./http/connection_gate.ts";
import { ProxyError } from "./http/errors.ts";

/** How long ended streams get to send their error events before connections are closed. */
const FLUSH_MS = 1_000;

/** The two moments of a stop that requests react to. */
export class Drain {
  #admission = new AbortController();
  #streams = new AbortController();

  /** Aborts, with a 503 {@link ProxyError} as reason, when the stop begins: queued requests leave their queue. */
  get admission(): AbortSignal {
    return this.#admission.signal;
  }

  /** Aborts, with a 503 {@link ProxyError} as reason, when the grace period is over: open streams end. */
  get streams(): AbortSignal {
    return this.#streams.signal;
  }

  /** Whether the stop has begun (new requests are refused). */
  get draining(): boolean {
    return this.#admission.signal.aborted;
  }

  /** Begins the stop. */
  begin(): void {
    this.#admission.abort(stopping("The proxy is shutting down; retry shortly"));
  }

  /** Ends the grace period. */
  endStreams(): void {
    this.#streams.abort(stopping("The proxy shut down before the response was complete"));
  }
}

function stopping(message: string): ProxyError {
  return new ProxyError(503, "overloaded", message, { headers: { "retry-after": "1" } });
}

/** Options of {@link stopGracefully}. */
export interface StopOptions {
  /** Seconds requests in flight get to finish. */
  graceSeconds: number;
  /** Receives the progress lines. */
  log: (level: "info" | "warn", message: string) => void;
}

/**
 * Stops `gate` and the app behind it (through `drain`): no new connections, queued requests rejected, requests
 * in flight finished or, after the grace period, streams ended with an error event; then everything is closed.
 */
export async function stopGracefully(gate: ConnectionGate, drain: Drain, options: StopOptions): Promise<void> {
  drain.begin();
  gate.drain();
  if (gate.inFlight > 0) {
    options.log("info", `Waiting up to ${options.graceSeconds}s for ${gate.inFlight} request(s) in flight`);
    if (!await settlesWithin(gate.drained(), options.graceSeconds * 1000)) {
      options.log("warn", `Grace period over: ending ${gate.inFlight} request(s) in flight`);
      drain.endStreams();
      await settlesWithin(gate.drained(), FLUSH_MS);
    }
  }
  await gate.close();
}

/**
 * Waits for SIGTERM or SIGINT, then {@link stopGracefully}; resolves once stopped. A second signal exits the process
 * at once with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). SIGHUP is logged and ignored: the
 * config is not reloaded. Listeners are in place when this returns.
 */
export async function stopOnSignal(gate: ConnectionGate, drain: Drain, options: StopOptions): Promise<void> {
  const { promise: stopped, resolve } = Promise.withResolvers<void>();
  let stopping = false;
  const onStop = (signal: Deno.Signal, exitCode: number) => {
    if (stopping) {
      options.log("warn", `${signal} again: exiting at once`);
      Deno.exit(exitCode);
    }
    stopping = true;
    options.log("info", `${signal}: shutting down`);
    stopGracefully(gate, drain, options).then(resolve);
  };
  const listeners: Array<[Deno.Signal, () => void]> = [
    ["SIGINT", () => onStop("SIGINT", 130)],
    ["SIGTERM", () => onStop("SIGTERM", 143)],
    ["SIGHUP", () => options.log("warn", "SIGHUP: config reload is not supported; still running")],
  ];
  // Windows delivers only SIGINT (and SIGBREAK) to listeners.
  const active = listeners.filter(([signal]) => Deno.build.os !== "windows" || signal === "SIGINT");
  for (const [signal, listener] of active) Deno.addSignalListener(signal, listener);
  await stopped;
  for (const [signal, listener] of active) Deno.removeSignalListener(signal, listener);
  options.log("info", "Stopped");
}

/** Whether `promise` settles within `ms`; leaves no timer behind. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
