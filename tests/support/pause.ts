/**
 * An abortable wait that leaves no timer or listener behind, so Deno's test sanitizers stay quiet.
 *
 * @module
 */

/**
 * Waits until `signal` aborts or, when `ms` is given, until `ms` milliseconds have passed; never rejects.
 *
 * @example
 * ```ts
 * await pause(AbortSignal.any([request.signal, closing]), 50);
 * ```
 */
export function pause(signal: AbortSignal, ms?: number): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
