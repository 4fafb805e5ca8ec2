/**
 * `--probe URL`: one GET of a running proxy's URL (usually its `/health`), exit 0 on a 2xx answer and 1 otherwise,
 * so a container's `HEALTHCHECK` can use the binary itself (the image has no curl).
 *
 * @module
 */

/** How long the probe waits for the answer. */
const PROBE_TIMEOUT_SECONDS = 5;

/** GETs `url`; resolves with 0 for a 2xx answer, else 1 after one line on stderr saying what happened. */
export async function probe(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_SECONDS * 1000) });
    await response.body?.cancel();
    if (response.ok) return 0;
    console.error(`sampling-proxy: ${url} answered ${response.status}`);
  } catch (error) {
    console.error(`sampling-proxy: ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return 1;
}
