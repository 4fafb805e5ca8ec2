/**
 * Helpers for the OpenAI-client / Anthropic-upstream stream tests: load recorded Anthropic SSE fixtures and run
 * them through {@link AnthropicToOpenAIStream}.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import {
  AnthropicToOpenAIStream,
  type AnthropicToOpenAIStreamContext,
} from "../../../src/convert/openai_anthropic/stream.ts";
import type { OpenAIChatChunk } from "../../../src/protocols/openai.ts";
import type { SseEvent } from "../../../src/protocols/sse.ts";

/** The context most tests use. */
export const CTX: AnthropicToOpenAIStreamContext = { model: "gpt-4o", includeUsage: true };

/** Reads a recorded upstream stream from `testdata/`. */
export function fixture(name: string): Promise<string> {
  return Deno.readTextFile(new URL(`./testdata/${name}`, import.meta.url));
}

/** Feeds byte chunks through the real decoding pipeline and the converter, and collects the output events. */
export function convertBytes(chunks: Uint8Array[], ctx: AnthropicToOpenAIStreamContext = CTX): Promise<SseEvent[]> {
  const source = ReadableStream.from(chunks)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(new AnthropicToOpenAIStream(ctx));
  return Array.fromAsync(source);
}

/** Converts literal SSE text delivered as one chunk. */
export function convertText(text: string, ctx: AnthropicToOpenAIStreamContext = CTX): Promise<SseEvent[]> {
  return convertBytes([new TextEncoder().encode(text)], ctx);
}

/** Converts already parsed events, e.g. built in a test. */
export function convertEvents(events: SseEvent[], ctx: AnthropicToOpenAIStreamContext = CTX): Promise<SseEvent[]> {
  return Array.fromAsync(ReadableStream.from(events).pipeThrough(new AnthropicToOpenAIStream(ctx)));
}

/** Builds an upstream event the way Anthropic sends it: the `event:` name equals the payload's `type`. */
export function upstreamEvent(payload: { type: string; [key: string]: unknown }): SseEvent {
  return { event: payload.type, data: JSON.stringify(payload) };
}

/** Parses the output events that are chunks (not `[DONE]`, not error chunks). */
export function chunksOf(events: SseEvent[]): OpenAIChatChunk[] {
  return events
    .filter((event) => event.data !== "[DONE]")
    .map((event) => JSON.parse(event.data))
    .filter((value) => value.error === undefined);
}
