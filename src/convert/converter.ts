/**
 * The conversion seam: what the generation handler needs to serve a client whose protocol the upstream lacks.
 *
 * A {@link Converter} is built per request by a {@link ConverterFactory} from the pure per-direction functions and
 * stream classes in `convert/anthropic_openai/` (Anthropic client, OpenAI upstream) and `convert/openai_anthropic/`
 * (OpenAI client, Anthropic upstream). The factories are registered per (client dialect, upstream dialect) pair in
 * `protocols/registry.ts`.
 *
 * @module
 */

import type { UpstreamConfig } from "../config/config.ts";
import type { AnthropicRequest } from "../protocols/anthropic.ts";
import type { OpenAIChatRequest } from "../protocols/openai.ts";
import type { SseEvent } from "../protocols/sse.ts";
import { toAnthropicError } from "./anthropic_openai/error.ts";
import { toOpenAIRequest } from "./anthropic_openai/request.ts";
import { toAnthropicResponse } from "./anthropic_openai/response.ts";
import { GRAMMAR_UNSAFE_SCHEMA_KEYWORDS } from "./anthropic_openai/schema.ts";
import { OpenAIToAnthropicStream } from "./anthropic_openai/stream.ts";
import { estimateAnthropicInputTokens } from "./count_tokens.ts";
import { toOpenAIError } from "./openai_anthropic/error.ts";
import { toAnthropicRequest, usesLegacyFunctions } from "./openai_anthropic/request.ts";
import { toOpenAIResponse } from "./openai_anthropic/response.ts";
import { AnthropicToOpenAIStream } from "./openai_anthropic/stream.ts";

/** Converts one request and its response between the client's and the upstream's protocol. */
export interface Converter {
  /** Upstream endpoint relative to the API root, e.g. `chat/completions`. */
  readonly endpoint: string;
  /** The upstream request body. @throws {ProxyError} 400 for input that cannot be converted */
  request(body: Record<string, unknown>): Record<string, unknown>;
  /** A non-streamed upstream answer, converted for the client. @throws {ProxyError} 502 when it is no answer */
  response(body: unknown): unknown;
  /** Converts parsed upstream events into the client's events. */
  stream(): TransformStream<SseEvent, SseEvent>;
  /** An upstream error body (status ≥ 400) in the client's shape. */
  error(status: number, text: string): unknown;
  /** Its stream writes keep-alives of its own whenever the upstream is silent (no keep-alive stage needed). */
  readonly keepsAlive: boolean;
}

/** Builds a {@link Converter} for one request to `upstream`. */
export type ConverterFactory = (upstream: UpstreamConfig, options: ConverterOptions) => Converter;

/** Options of {@link createConverter}. */
export interface ConverterOptions {
  /** The model name the client asked for (answers carry it back). */
  model: string;
}

/** Anthropic client, OpenAI upstream. */
export function anthropicToOpenAI(upstream: UpstreamConfig, { model }: ConverterOptions): Converter {
  let stopSequences: string[] | undefined;
  let request: AnthropicRequest | undefined;
  // The prompt's tokens are estimated only when needed: message_start carries them before the upstream reports
  // usage (Claude Code's context meter), and an answer without usage reports them.
  const estimateInputTokens = () => request === undefined ? 0 : estimateAnthropicInputTokens(request);
  return {
    endpoint: "chat/completions",
    // OpenAIToAnthropicStream pings on its own whenever it gets no events.
    keepsAlive: true,
    request(body) {
      const req = body as AnthropicRequest;
      stopSequences = Array.isArray(req.stop_sequences) ? req.stop_sequences : undefined;
      const converted = toOpenAIRequest(req, {
        reasoning: upstream.reasoningStyle,
        dropSchemaKeywords: upstream.sanitizeToolSchemas ? GRAMMAR_UNSAFE_SCHEMA_KEYWORDS : [],
      });
      request = req;
      return converted as Record<string, unknown>;
    },
    response: (body) => toAnthropicResponse(body, { model, stopSequences, estimateInputTokens }),
    stream: () => new OpenAIToAnthropicStream({ model, inputTokens: estimateInputTokens(), stopSequences }),
    error: (status, text) => toAnthropicError(status, text),
  };
}

/** OpenAI client, Anthropic upstream. */
export function openAIToAnthropic(upstream: UpstreamConfig, { model }: ConverterOptions): Converter {
  let includeUsage = false;
  let legacyFunctions = false;
  return {
    endpoint: "messages",
    keepsAlive: false,
    request(body) {
      const req = body as OpenAIChatRequest;
      includeUsage = req.stream_options?.include_usage === true;
      legacyFunctions = usesLegacyFunctions(req);
      return toAnthropicRequest(req, { defaultMaxTokens: upstream.defaultMaxTokens }) as Record<string, unknown>;
    },
    response: (body) => toOpenAIResponse(body, { model, legacyFunctions }),
    stream: () => new AnthropicToOpenAIStream({ model, includeUsage, legacyFunctions }),
    error: (status, text) => toOpenAIError(status, text),
  };
}
