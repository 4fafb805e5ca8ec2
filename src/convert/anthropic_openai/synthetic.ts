/**
 * Values the Anthropic→OpenAI converter has to invent because an OpenAI upstream does not send them: message ids,
 * tool-use ids, a thinking signature and a name for a nameless tool call.
 *
 * @module
 */

/**
 * The signature put on every thinking block made from OpenAI reasoning.
 *
 * Claude Code discards a thinking block without a signature (field note 5), and only Anthropic can make a real one.
 * A fixed, recognisable value lets a later request routed to a real Anthropic upstream find and drop these blocks.
 */
export const SYNTHETIC_THINKING_SIGNATURE = "c2FtcGxpbmctcHJveHk6c3ludGhldGlj";

/**
 * The name given to a tool call whose upstream never sent a name.
 *
 * An empty name crashes Claude Code and makes the next turn fail with 400 (field note 9); an unknown name instead
 * comes back as a tool error the model can recover from.
 */
export const UNNAMED_TOOL_NAME = "unknown_tool";

function randomSuffix(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/**
 * Derives an Anthropic message id (`msg_…`) from an OpenAI completion id, or makes a random one.
 *
 * @example
 * ```ts
 * toMessageId("chatcmpl-abc123"); // "msg_abc123"
 * ```
 */
export function toMessageId(openaiId?: string | null): string {
  const suffix = typeof openaiId === "string" ? openaiId.replace(/^chatcmpl-/, "").replace(/[^A-Za-z0-9_-]/g, "") : "";
  return `msg_${suffix === "" ? randomSuffix() : suffix}`;
}

/**
 * Makes the id of a `tool_use` block from an upstream tool-call id. OpenAI-style `call_…` and Anthropic-style
 * `toolu_…` ids are kept; other ids (llama.cpp's bare random ids, vLLM's `chatcmpl-tool-…`, Kimi's
 * `functions.Bash:0`) get the `toolu_` prefix and lose characters Anthropic rejects in ids; a missing id becomes
 * a random one (field note 9). The id only has to be consistent between a `tool_use` and its `tool_result`, which
 * both come back from the client, so rewriting it is safe.
 *
 * @example
 * ```ts
 * toToolUseId("functions.Bash:0"); // "toolu_functions_Bash_0"
 * ```
 */
export function toToolUseId(upstreamId?: string | null): string {
  if (typeof upstreamId !== "string" || upstreamId === "") return `toolu_${randomSuffix()}`;
  const safe = upstreamId.replace(/[^A-Za-z0-9_-]/g, "_");
  return /^(toolu_|call_)/.test(safe) ? safe : `toolu_${safe}`;
}
