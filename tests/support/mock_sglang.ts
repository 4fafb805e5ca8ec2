/**
 * SGLang's native `POST /generate` for the mock upstream: a `{text, meta_info}` body, or with `"stream": true`
 * `data:` lines each carrying the whole text so far, ending with `data: [DONE]`, as SGLang sends them.
 *
 * @module
 */

import type { JsonObject } from "./json_guards.ts";
import { contentText, randomId, type ReplyPlan } from "./mock_reply_plan.ts";
import { formatSse } from "./sse.ts";

/** SGLang's `meta_info` for a reply with `completionTokens` generated so far; `finished` adds the finish reason. */
function metaInfo(plan: ReplyPlan, id: string, finished: boolean, completionTokens: number): JsonObject {
  const finish = plan.stop === "length" ? { type: "length", length: completionTokens } : { type: "stop" };
  return {
    id,
    finish_reason: finished ? finish : null,
    prompt_tokens: plan.usage.promptTokens,
    completion_tokens: completionTokens,
  };
}

/** Builds the non-streamed `/generate` answer. */
export function sglangGenerateBody(plan: ReplyPlan): JsonObject {
  return { text: contentText(plan), meta_info: metaInfo(plan, randomId(""), true, plan.usage.completionTokens) };
}

/** Yields the streamed `/generate` answer: one `data:` event per content piece (cumulative text), then `[DONE]`. */
export function* sglangGenerateStream(plan: ReplyPlan): Generator<string> {
  const id = randomId("");
  const pieces = Array.from(plan.content);
  let text = "";
  for (const [index, piece] of pieces.entries()) {
    text += piece;
    const finished = index === pieces.length - 1;
    const tokens = finished ? plan.usage.completionTokens : index + 1;
    yield formatSse({ data: JSON.stringify({ text, meta_info: metaInfo(plan, id, finished, tokens) }) });
  }
  yield formatSse({ data: "[DONE]" });
}
