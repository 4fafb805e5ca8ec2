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

/** Starts a `tool_use` id made from an upstream tool-call id by prefixing it; the rest is that id. */
const PREFIXED_ID = "toolu_sp_";
/** Starts a `tool_use` id made from an upstream id with characters Anthropic rejects; the rest is it in base64url. */
const ENCODED_ID = "toolu_sp64_";
/** Upstream ids starting like this are always rewritten, so that every id starting like this is one of ours. */
const RESERVED_START = "toolu_sp";

/**
 * Makes the id of a `tool_use` block from an upstream tool-call id, reversibly (see {@link toUpstreamToolCallId}).
 * OpenAI-style `call_…` and Anthropic-style `toolu_…` ids are kept; other ids (llama.cpp's bare random ids, vLLM's
 * `chatcmpl-tool-…`) get the `toolu_sp_` prefix, and ids with characters Anthropic rejects in ids (Kimi's
 * `functions.Bash:0`) are carried in base64url after `toolu_sp64_`. A missing id becomes a random one (field
 * note 9).
 *
 * @example
 * ```ts
 * toToolUseId("Kx1aB2"); // "toolu_sp_Kx1aB2"
 * toToolUseId("functions.Bash:0"); // "toolu_sp64_ZnVuY3Rpb25zLkJhc2g6MA"
 * ```
 */
export function toToolUseId(upstreamId?: string | null): string {
  if (typeof upstreamId !== "string" || upstreamId === "") return `toolu_${randomSuffix()}`;
  const safe = /^[A-Za-z0-9_-]+$/.test(upstreamId);
  if (safe && /^(toolu_|call_)/.test(upstreamId) && !upstreamId.startsWith(RESERVED_START)) return upstreamId;
  if (safe) return PREFIXED_ID + upstreamId;
  return ENCODED_ID + new TextEncoder().encode(upstreamId).toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Restores the upstream's own tool-call id from a `tool_use` id made by {@link toToolUseId}, for the history sent
 * back to the upstream; ids that did not come from it pass unchanged.
 *
 * @example
 * ```ts
 * toUpstreamToolCallId("toolu_sp_Kx1aB2"); // "Kx1aB2"
 * toUpstreamToolCallId("call_abc"); // "call_abc"
 * ```
 */
export function toUpstreamToolCallId(toolUseId: string): string {
  if (toolUseId.startsWith(PREFIXED_ID)) return toolUseId.slice(PREFIXED_ID.length);
  if (!toolUseId.startsWith(ENCODED_ID)) return toolUseId;
  try {
    const bytes = Uint8Array.fromBase64(toolUseId.slice(ENCODED_ID.length), { alphabet: "base64url" });
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return toolUseId; // Not one of ours after all.
  }
}
