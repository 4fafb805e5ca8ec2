/**
 * Reading a request body as JSON within bounds: a size limit counted after decompression, a share of the
 * {@link BodyBudget} while it is read and parsed, and a nesting and value budget checked before `JSON.parse`.
 *
 * @module
 */

import { isJsonObject } from "../protocols/json_object.ts";
import type { BodyBudget } from "./body_budget.ts";
import { concatBytes } from "./bytes.ts";
import { ProxyError } from "./errors.ts";
import { checkJsonBudget } from "./json_budget.ts";

/** The bounds of one request body. */
export interface BodyLimits {
  /** Largest body, after decompression. */
  maxBytes: number;
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most JSON values. */
  maxValues: number;
  /** Bytes of all bodies read and parsed at once. */
  budget: BodyBudget;
}

/** A request body as text and as its parsed JSON object. */
export interface JsonBody {
  text: string;
  json: Record<string, unknown>;
}

/**
 * Reads the body of `request`: at most `limits.maxBytes` (after gzip/deflate decoding), within the depth and value
 * budget, valid JSON, an object. The body's bytes are reserved in `limits.budget` from before the read until the
 * parse is done.
 *
 * @throws {ProxyError} 413 when too large or holding too many values, 400 when too deep, not JSON or not an
 *   object, 415 for an unknown encoding, 503 when the budget stays full
 */
export async function readJsonBody(request: Request, limits: BodyLimits): Promise<JsonBody> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  const size = encoding === "identity" && Number.isFinite(declared) ? declared : limits.maxBytes;
  const release = request.body ? await limits.budget.reserve(size, request.signal) : () => {};
  try {
    const bytes = await readBytes(request, encoding, limits.maxBytes);
    checkJsonBudget(bytes, { maxDepth: limits.maxDepth, maxValues: limits.maxValues });
    const text = decodeUtf8(bytes);
    return { text, json: parseObject(text) };
  } finally {
    release();
  }
}

function parseObject(text: string): Record<string, unknown> {
  if (text.trim() === "") throw new ProxyError(400, "invalid_request", "Request body is empty; expected a JSON object");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ProxyError(400, "invalid_request", `Request body is not valid JSON: ${detail}`);
  }
  if (!isJsonObject(json)) throw new ProxyError(400, "invalid_request", "Request body must be a JSON object");
  return json;
}

async function readBytes(request: Request, encoding: string, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
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
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ProxyError(400, "invalid_request", "Request body is not valid UTF-8");
  }
}

function tooLarge(maxBytes: number): ProxyError {
  return new ProxyError(413, "request_too_large", `Request body is larger than the limit of ${maxBytes} bytes`);
}
