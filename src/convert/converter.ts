/**
 * The conversion seam: what the generation handler needs to serve a client whose protocol the upstream lacks.
 *
 * A {@link Converter} is built per request; its parts are the pure per-direction functions and stream classes in
 * `convert/anthropic_openai/` (Anthropic client, OpenAI upstream) and `convert/openai_anthropic/`.
 *
 * @module
 */

import type { UpstreamConfig } from "../config/config.ts";
import type { Protocol } from "../http/errors.ts";
import type { SseEvent } from "../protocols/sse.ts";

/** Converts one request and its response between the client's and the upstream's protocol. */
export interface Converter {
  /** The upstream's protocol. */
  readonly upstreamProtocol: Protocol;
  /** Upstream endpoint relative to the API root, e.g. `chat/completions`. */
  readonly endpoint: string;
  /** The upstream request body. @throws {ProxyError} 400 for input that cannot be converted */
  request(body: Record<string, unknown>): Record<string, unknown>;
  /** A non-streamed upstream answer, converted for the client. */
  response(body: unknown): unknown;
  /** Converts parsed upstream events into the client's events. */
  stream(): TransformStream<SseEvent, SseEvent>;
  /** An upstream error body (status ≥ 400) in the client's shape. */
  error(status: number, text: string): unknown;
}

/** Options of {@link createConverter}. */
export interface ConverterOptions {
  /** The model name the client asked for (answers carry it back). */
  model: string;
  /** Whether the client asked for a stream. */
  stream: boolean;
}

/**
 * The converter from `client` to `upstream`'s protocol, or `undefined` when none is available.
 */
export function createConverter(
  _client: Protocol,
  _upstream: UpstreamConfig,
  _options: ConverterOptions,
): Converter | undefined {
  return undefined;
}
