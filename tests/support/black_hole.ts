/**
 * Local TCP addresses that fail: a listener that never accepts, whose backlog is full (connecting hangs like
 * connecting to a silent or black-holed host), and a port nothing listens on (connecting is refused at once);
 * neither leaves the machine.
 *
 * @module
 */

/** A black-holed `127.0.0.1` port; `await using` (or `close()`) frees it and its connections. */
export interface BlackHole extends AsyncDisposable {
  readonly port: number;
  close(): Promise<void>;
}

/** How long one filling connect may take before the backlog counts as full: a bound on setup, not an assertion. */
const FILL_WAIT_MS = 500;

/**
 * Opens a listener on port 0 and connects to it until a connect no longer completes (the kernel drops SYNs once
 * the accept queue is full).
 */
export async function blackHole(): Promise<BlackHole> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const conns: Deno.Conn[] = [];
  while (true) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), FILL_WAIT_MS);
    try {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port, signal: timeout.signal }));
    } catch {
      break;
    } finally {
      clearTimeout(timer);
    }
  }
  const close = () => {
    for (const conn of conns.splice(0)) conn.close();
    try {
      listener.close();
    } catch {
      // already closed
    }
    return Promise.resolve();
  };
  return { port, close, [Symbol.asyncDispose]: close };
}

/** A `127.0.0.1` port that nothing listens on (just freed), so connecting to it is refused. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
