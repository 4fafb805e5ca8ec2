/**
 * A tiny HTTP helper for tests that talk to the proxy or the mock upstream without an SDK.
 *
 * @module
 */

/** Options of {@linkcode postJson}. */
export interface PostJsonOptions {
  /** Extra request headers (`content-type: application/json` is always set). */
  headers?: Record<string, string>;
  /** Aborts the request, e.g. to play a client that goes away. */
  signal?: AbortSignal;
}

/**
 * POSTs a JSON body. The caller must consume or cancel the response body (sanitizers check it).
 *
 * @example
 * ```ts
 * const response = await postJson(`${mock.url}/chat/completions`, { model: "m", messages: [] });
 * const body = await response.json();
 * ```
 */
export function postJson(url: string, body: unknown, options: PostJsonOptions = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: JSON.stringify(body),
    signal: options.signal,
  });
}
