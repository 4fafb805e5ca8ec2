/**
 * Decoding a compressed upstream body in bounded steps.
 *
 * The proxy asks upstreams for `identity`, so `fetch` hands over whatever bytes come; an upstream that compresses
 * anyway is decoded here. `DecompressionStream` inflates each input chunk whole, and deflate expands up to about
 * 1,000 times, so input is fed in small slices: every output chunk stays small and the body's size limit is
 * checked after each one (a compression bomb is stopped at the limit, never inflated in full).
 *
 * @module
 */

/** Input slice fed to the decompressor at once: at most about 1,000 times this comes out of one step. */
const SLICE_BYTES = 1024;

const SUPPORTED: ReadonlySet<string> = new Set(["gzip", "x-gzip", "deflate"]);

/** The body's `content-encoding` when the proxy must decode it, "" for identity, or undefined if unsupported. */
export function contentEncoding(headers: Headers): string | undefined {
  const encoding = (headers.get("content-encoding") ?? "").trim().toLowerCase();
  if (encoding === "" || encoding === "identity") return "";
  return SUPPORTED.has(encoding) ? encoding : undefined;
}

/** Decodes `body` compressed with `encoding` (one {@link contentEncoding} accepted), in small steps. */
export function decodeBody(body: ReadableStream<Uint8Array>, encoding: string): ReadableStream<Uint8Array> {
  const format = encoding === "deflate" ? "deflate" : "gzip";
  const slices = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let at = 0; at < chunk.length; at += SLICE_BYTES) controller.enqueue(chunk.subarray(at, at + SLICE_BYTES));
    },
  });
  return body.pipeThrough(slices).pipeThrough(
    new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
}
