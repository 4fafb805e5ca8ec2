/**
 * Removes the thinking blocks the proxy made from a Messages request bound for an Anthropic upstream.
 *
 * An OpenAI upstream's reasoning reaches Anthropic clients as thinking blocks signed with
 * {@link SYNTHETIC_THINKING_SIGNATURE}, as Claude Code discards unsigned ones. When the conversation later goes to a
 * real Anthropic upstream (Claude Code switching models, or a router rule), Anthropic rejects every signature it did
 * not issue, so these blocks are dropped on the way. The signature is a fixed string: a body that does not contain it
 * needs no parsing or rewriting at all (see {@link mentionsProxyThinking}).
 *
 * @module
 */

import { SYNTHETIC_THINKING_SIGNATURE } from "./anthropic_openai/synthetic.ts";
import { isJsonObject } from "../protocols/json_object.ts";

/**
 * Tells whether a request's raw text may hold a proxy-made thinking block: a substring check, so a passthrough
 * body without one is forwarded as its exact bytes.
 */
export function mentionsProxyThinking(bodyText: string): boolean {
  return bodyText.includes(SYNTHETIC_THINKING_SIGNATURE);
}

function isProxyThinking(block: unknown): boolean {
  return isJsonObject(block) && block.type === "thinking" && block.signature === SYNTHETIC_THINKING_SIGNATURE;
}

/** Whether a message is an assistant turn with a tool call that does not start with a thinking block. */
function toolTurnWithoutThinking(message: unknown): boolean {
  if (!isJsonObject(message) || !Array.isArray(message.content)) return false;
  const first: unknown = message.content[0];
  const startsWithThinking = isJsonObject(first) && (first.type === "thinking" || first.type === "redacted_thinking");
  return !startsWithThinking && message.content.some((block) => isJsonObject(block) && block.type === "tool_use");
}

/**
 * Drops proxy-made thinking blocks from `body.messages`, in place, and tells whether any was dropped.
 *
 * - An assistant turn left without content is left out (Anthropic joins the user turns around it).
 * - Anthropic requires, with thinking on, that the last assistant turn of a tool loop start with a thinking block;
 *   when dropping took that block away, `thinking` is switched off for this request (the next turn has its own).
 *
 * @example
 * ```ts
 * const body = { model: "claude-sonnet-4-5", messages: [{ role: "assistant", content: [
 *   { type: "thinking", thinking: "…", signature: SYNTHETIC_THINKING_SIGNATURE }, { type: "text", text: "Hi" }] }] };
 * dropProxyThinking(body); // true; body.messages[0].content is [{ type: "text", text: "Hi" }]
 * ```
 */
export function dropProxyThinking(body: Record<string, unknown>): boolean {
  if (!Array.isArray(body.messages)) return false;
  let dropped = false;
  const messages: unknown[] = [];
  for (const message of body.messages) {
    if (!isJsonObject(message) || message.role !== "assistant" || !Array.isArray(message.content)) {
      messages.push(message);
      continue;
    }
    const content = message.content.filter((block) => !isProxyThinking(block));
    if (content.length === message.content.length) {
      messages.push(message);
      continue;
    }
    dropped = true;
    if (content.length > 0) messages.push({ ...message, content });
  }
  if (!dropped) return false;
  body.messages = messages;
  const lastAssistant = messages.findLast((message) => isJsonObject(message) && message.role === "assistant");
  if (toolTurnWithoutThinking(lastAssistant)) delete body.thinking;
  return true;
}

/**
 * The rule for every Messages request to an Anthropic upstream (generation and count_tokens): drops proxy-made
 * thinking blocks from `body` as {@link dropProxyThinking} does, but only parses when `bodyText` (the client's raw
 * body) holds the proxy's signature ({@link mentionsProxyThinking}). Tells whether `body` changed, i.e. whether it
 * must be re-serialised rather than forwarded as the client's bytes.
 */
export function dropProxyThinkingFromRequest(bodyText: string, body: Record<string, unknown>): boolean {
  return mentionsProxyThinking(bodyText) && dropProxyThinking(body);
}
