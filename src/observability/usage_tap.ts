/**
 * Reads the token usage of an upstream answer as its body goes by, without changing a byte or adding a stream
 * stage: the body's reader is wrapped, and the usage is reported once, when the body ends, fails or is cancelled
 * (or when the request finishes first, see {@link UsageTap.flush}).
 *
 * - An event stream is scanned line by line for `data:` lines that mention `"usage"`; only those are parsed
 *   (OpenAI's final usage chunk, Anthropic's `message_start` and `message_delta`). Chunks without a complete line
 *   that mentions it cost one decode and one substring search.
 * - Any other 2xx body is parsed at its end when it mentions `"usage"` (a non-streamed answer).
 *
 * @module
 */

import type { DialectUsage } from "../protocols/dialect.ts";
import { type ChunkReader, readerStream, type UpstreamResponse } from "../http/upstream_call.ts";
import type { TokenUsage } from "./usage.ts";

/** An upstream response whose usage is read on the way, and the way to report it early. */
export interface UsageTap {
  /** The same response; read it instead of the original. */
  readonly response: UpstreamResponse;
  /** Reports what was seen so far, unless already reported (the request finished before the body did). */
  flush(): void;
}

const USAGE = '"usage"';

/** Wraps `response` (an answer whose dialect reports usage as `dialect` says) so that its usage goes to `report`, once; see the module doc. */
export function tapUsage(
  response: UpstreamResponse,
  dialect: DialectUsage,
  report: (usage: TokenUsage) => void,
): UsageTap {
  const stream = (response.headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
  const scanner = stream ? new StreamScanner(dialect) : response.status < 300 ? new BodyScanner(dialect) : undefined;
  let reported = false;
  const flush = () => {
    if (reported || scanner === undefined) return;
    reported = true;
    const usage = scanner.usage();
    if (usage !== undefined) report(usage);
  };
  if (scanner === undefined) return { response, flush };
  let tapped: ChunkReader | null | undefined;
  const reader = (): ChunkReader | null => {
    if (tapped !== undefined) return tapped;
    const inner = response.reader();
    return tapped = inner && {
      async read() {
        try {
          const result = await inner.read();
          if (result.done) flush();
          else scanner.push(result.value);
          return result;
        } catch (error) {
          flush();
          throw error;
        }
      },
      cancel(reason) {
        flush();
        return inner.cancel(reason);
      },
    };
  };
  let body: ReadableStream<Uint8Array> | null | undefined;
  return {
    response: {
      status: response.status,
      headers: response.headers,
      headersMs: response.headersMs,
      abort: response.abort,
      reader,
      get body() {
        if (body !== undefined) return body;
        const chunks = reader();
        return body = chunks ? readerStream(chunks) : null;
      },
    },
    flush,
  };
}

/** The usage so far of an event stream, from its `data:` lines. */
class StreamScanner {
  #dialect: DialectUsage;
  #decoder = new TextDecoder();
  #partial = "";
  #usage: TokenUsage | undefined;

  constructor(dialect: DialectUsage) {
    this.#dialect = dialect;
  }

  push(chunk: Uint8Array): void {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const end = Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r"));
    this.#partial = end < 0 ? text : text.slice(end + 1);
    if (end < 0 || !text.slice(0, end).includes(USAGE)) return;
    for (const line of text.slice(0, end).split(/\r\n|\r|\n/)) {
      if (!line.startsWith("data:") || !line.includes(USAGE)) continue;
      let data: unknown;
      try {
        data = JSON.parse(line.slice(5));
      } catch {
        continue; // Not JSON: the stream's consumer reports it; usage just stays unknown.
      }
      this.#usage = this.#dialect.event(this.#usage, data);
    }
  }

  usage(): TokenUsage | undefined {
    return this.#usage;
  }
}

/** The usage of a whole JSON body, read at its end. */
class BodyScanner {
  #dialect: DialectUsage;
  #chunks: Uint8Array[] = [];

  constructor(dialect: DialectUsage) {
    this.#dialect = dialect;
  }

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
  }

  usage(): TokenUsage | undefined {
    const chunks = this.#chunks;
    this.#chunks = [];
    const decoder = new TextDecoder();
    const text = chunks.map((chunk, i) => decoder.decode(chunk, { stream: i < chunks.length - 1 })).join("");
    if (!text.includes(USAGE)) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return undefined;
    }
    return this.#dialect.body(body);
  }
}
