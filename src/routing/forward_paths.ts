/**
 * Which request paths are forwarded to an upstream.
 *
 * By default only the inference endpoints in {@link DEFAULT_FORWARDED} are: an upstream's key must not open its
 * admin, file, batch or fine-tuning endpoints (or llama.cpp's `/slots`) to whoever reaches the proxy. An upstream's
 * `forward_paths` allows more, as request paths such as `/v1/batches` or simple globs: `*` matches within one path
 * segment, `**` across segments (`/v1/fine_tuning/**`).
 *
 * @module
 */

import { ProxyError } from "../http/errors.ts";

/** Endpoints, relative to the API root (`/v1`), forwarded to every upstream. */
export const DEFAULT_FORWARDED: readonly string[] = [
  "chat/completions",
  "messages",
  "responses",
  "completions",
  "embeddings",
  "rerank",
  "tokenize",
  "detokenize",
  // SGLang's native generation; the handler sends it to the upstream's server root.
  "generate",
];

/**
 * Whether `path` (below the base path, e.g. `/v1/batches`) matches the `forward_paths` entry `pattern`.
 *
 * @example
 * ```ts
 * matchesForwardPath("/v1/files/*", "/v1/files/abc"); // true
 * matchesForwardPath("/v1/files/*", "/v1/files/abc/content"); // false
 * matchesForwardPath("/v1/files/**", "/v1/files/abc/content"); // true
 * ```
 */
export function matchesForwardPath(pattern: string, path: string): boolean {
  const source = pattern.replace(/\/+$/, "").split(/(\*\*|\*)/).map((part) =>
    part === "**" ? ".*" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
  ).join("");
  return new RegExp(`^${source}$`).test(path);
}

/** Whether `path` is forwarded: a default endpoint under `/v1`, or allowed by one of `forwardPaths`. */
export function isForwarded(path: string, forwardPaths: readonly string[]): boolean {
  return DEFAULT_FORWARDED.some((endpoint) => path === `/v1/${endpoint}`) ||
    forwardPaths.some((pattern) => matchesForwardPath(pattern, path));
}

/** The 404 for a path that is not forwarded, naming the setting that would allow it. */
export function notForwarded(path: string): ProxyError {
  return new ProxyError(
    404,
    "not_found",
    `${path} is not forwarded to upstreams; add it to the upstream's forward_paths in the config to allow it`,
  );
}
