/**
 * Reading a request body as JSON, within a size limit counted after decompression.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import { ProxyError } from "./errors.ts";

/** A request body as text and as its parsed JSON object. */
export interface JsonBody {
  text: string;
  json: Record<string, unknown>;
}

/**
 * Reads the body of `request`: at most `maxBytes` (after gzip/deflate decoding), valid JSON, an object.
 *
 * @throws {ProxyError} 413 when too large, 400 when not JSON or not an object, 415 for an unknown encoding
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<JsonBody> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readText(request, maxBytes);
  if (text.trim() === "") throw new ProxyError(400, "invalid_request", "Request body is empty; expected a JSON object");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ProxyError(400, "invalid_request", `Request body is not valid JSON: ${detail}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ProxyError(400, "invalid_request", "Request body must be a JSON object");
  }
  return { text, json: json as Record<string, unknown> };
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  let stream: ReadableStream<Uint8Array> = request.body;
  if (encoding === "gzip" || encoding === "deflate") {
    stream = stream.pipeThrough(
      new DecompressionStream(encoding) as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  } else if (encoding !== "identity") {
    await request.body.cancel();
    throw new ProxyError(415, "invalid_request", `Unsupported content-encoding "${encoding}"`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ProxyError) throw error;
    throw new ProxyError(400, "invalid_request", "Request body could not be read", { cause: error });
  }
  const bytes = chunks.length === 1 ? chunks[0] : concatBytes(chunks);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ProxyError(400, "invalid_request", "Request body is not valid UTF-8");
  }
}

function tooLarge(maxBytes: number): ProxyError {
  return new ProxyError(413, "request_too_large", `Request body is larger than the limit of ${maxBytes} bytes`);
}
