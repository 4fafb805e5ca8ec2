/**
 * JSON bodies of the mock upstream's simple routes: model list, embeddings, legacy completions, Responses,
 * llama.cpp's `/tokenize` and `/detokenize` and Anthropic's `count_tokens`. Each echoes the request's model and counts its text.
 *
 * @module
 */

import { isRecord, type JsonObject } from "./json_guards.ts";
import { contentText, countRequestTokens, mockTokens, randomId, type ReplyPlan } from "./mock_reply_plan.ts";
import { openAIUsage } from "./mock_openai.ts";

/** The dimension of the mock's embedding vectors. */
const EMBEDDING_SIZE = 8;

/** Builds the OpenAI model list (`GET /v1/models`). */
export function modelsBody(models: readonly string[]): JsonObject {
  const created = Math.floor(Date.now() / 1000);
  return { object: "list", data: models.map((id) => ({ id, object: "model", created, owned_by: "mock" })) };
}

/** Sums a text's code points: a cheap deterministic number per text. */
function codePointSum(text: string): number {
  return Array.from(text).reduce((total, char) => total + (char.codePointAt(0) ?? 0), 0);
}

/** Derives a small deterministic vector from a text, so equal inputs embed equally. */
function embed(text: string): number[] {
  const sum = codePointSum(text);
  return Array.from({ length: EMBEDDING_SIZE }, (_, dimension) => ((sum * (dimension + 1)) % 1000) / 1000);
}

/** Builds an OpenAI embeddings body, one vector per input string. */
export function embeddingsBody(plan: ReplyPlan, requestJson: unknown): JsonObject {
  const input = isRecord(requestJson) ? requestJson.input : undefined;
  const inputs = Array.isArray(input) ? input.map(String) : [String(input ?? "")];
  return {
    object: "list",
    data: inputs.map((text, index) => ({ object: "embedding", index, embedding: embed(text) })),
    model: plan.model,
    usage: { prompt_tokens: plan.usage.promptTokens, total_tokens: plan.usage.promptTokens },
  };
}

/** Builds a legacy `text_completion` body whose text is the scenario's reply. */
export function completionsBody(plan: ReplyPlan): JsonObject {
  return {
    id: randomId("cmpl-"),
    object: "text_completion",
    created: Math.floor(Date.now() / 1000),
    model: plan.model,
    choices: [{ index: 0, text: contentText(plan), logprobs: null, finish_reason: plan.finishReason ?? "stop" }],
    usage: openAIUsage(plan.usage),
  };
}

/** Builds a completed Responses API body with one output message holding the scenario's reply. */
export function responsesBody(plan: ReplyPlan): JsonObject {
  const content = [{ type: "output_text", text: contentText(plan), annotations: [] }];
  return {
    id: randomId("resp_"),
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: "completed",
    model: plan.model,
    output: [{ type: "message", id: randomId("msg_"), status: "completed", role: "assistant", content }],
    usage: {
      input_tokens: plan.usage.promptTokens,
      output_tokens: plan.usage.completionTokens,
      total_tokens: plan.usage.promptTokens + plan.usage.completionTokens,
    },
  };
}

/** Builds llama.cpp's `/tokenize` answer: one id per word or punctuation mark of `content`. */
export function tokenizeBody(requestJson: unknown): JsonObject {
  const content = isRecord(requestJson) && typeof requestJson.content === "string" ? requestJson.content : "";
  return { tokens: mockTokens(content).map(codePointSum) };
}

/** Builds llama.cpp's `/detokenize` answer: the token ids as text, one word each. */
export function detokenizeBody(requestJson: unknown): JsonObject {
  const tokens = isRecord(requestJson) && Array.isArray(requestJson.tokens) ? requestJson.tokens : [];
  return { content: tokens.map(String).join(" ") };
}

/** Builds Anthropic's `count_tokens` answer from the request's system, tools and messages. */
export function countTokensBody(requestJson: unknown): JsonObject {
  return { input_tokens: countRequestTokens(requestJson) };
}
