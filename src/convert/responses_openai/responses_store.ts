/**
 * A bounded in-memory store of Responses conversations, for `previous_response_id` and `GET /v1/responses/{id}`
 * when the operator enables it (the proxy is stateless by default).
 *
 * Least recently used entries go first once either bound is passed: the number of entries or the bytes of their
 * JSON. Entries are kept as JSON text, so the byte count is exact and a caller can never change a stored entry
 * through an object it holds. Nothing outlives the process.
 *
 * @module
 */

import type { ResponsesInputItem, ResponsesObject } from "../../protocols/openai_responses_types.ts";

/** The bounds of a {@link ResponsesStore}. */
export interface ResponsesStoreOptions {
  /** At most this many responses are kept. */
  maxEntries: number;
  /** At most this many bytes of JSON are kept, summed over the entries. */
  maxBytes: number;
}

/** One stored response and the input that led to it. */
export interface StoredResponse {
  /** The whole input of the request, with the history a `previous_response_id` stood for already expanded. */
  input: ResponsesInputItem[];
  /** The Response object answered. */
  response: ResponsesObject;
}

const encoder = new TextEncoder();

/** Reads a bound, which must be a positive integer. */
function bound(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer: ${value}`);
  return value;
}

/**
 * A least-recently-used store of responses, bounded by entries and bytes.
 *
 * @example
 * ```ts
 * const store = new ResponsesStore({ maxEntries: 1000, maxBytes: 64 * 1024 * 1024 });
 * store.put({ input, response });
 * const input = [...store.history(request.previous_response_id)!, ...request.input];
 * ```
 */
export class ResponsesStore {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  /** Entries by response id, least recently used first (a Map keeps insertion order). */
  readonly #entries = new Map<string, { json: string; bytes: number }>();
  #bytes = 0;

  /** Creates an empty store; throws a `RangeError` for a bound that is not a positive integer. */
  constructor(options: ResponsesStoreOptions) {
    this.#maxEntries = bound(options.maxEntries, "maxEntries");
    this.#maxBytes = bound(options.maxBytes, "maxBytes");
  }

  /** The number of entries kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** The bytes of JSON kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps an entry under its response's id, as the most recently used, and evicts the least recently used ones
   * until both bounds hold. An entry larger than `maxBytes` alone is not kept: the result tells whether it was.
   */
  put(entry: StoredResponse): boolean {
    const id = entry.response.id;
    this.delete(id);
    const json = JSON.stringify(entry);
    const bytes = encoder.encode(json).byteLength;
    if (bytes > this.#maxBytes) return false;
    this.#entries.set(id, { json, bytes });
    this.#bytes += bytes;
    for (const [oldest, kept] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= kept.bytes;
    }
    return true;
  }

  /** A copy of the entry for `id`, which becomes the most recently used; `undefined` when none is kept. */
  get(id: string): StoredResponse | undefined {
    const kept = this.#entries.get(id);
    if (kept === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, kept);
    return JSON.parse(kept.json);
  }

  /** Forgets the entry for `id`; tells whether there was one. */
  delete(id: string): boolean {
    const kept = this.#entries.get(id);
    if (kept === undefined) return false;
    this.#entries.delete(id);
    this.#bytes -= kept.bytes;
    return true;
  }

  /**
   * The conversation a request with `previous_response_id: id` continues: the stored input followed by the stored
   * response's output items (which the Responses API accepts back as input items); `undefined` when none is kept.
   */
  history(id: string): ResponsesInputItem[] | undefined {
    const entry = this.get(id);
    return entry === undefined ? undefined : [...entry.input, ...entry.response.output];
  }
}
