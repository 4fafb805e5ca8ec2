/**
 * Tells an OpenAI upstream whether (and how hard) to think, from an Anthropic request's `thinking` switch.
 *
 * OpenAI-compatible servers disagree on the switch, so the upstream's style is configured:
 * - `none`: send nothing; the server decides.
 * - `reasoning_effort`: OpenAI's `reasoning_effort: "low" | "medium" | "high"`, sent only when thinking is on.
 * - `chat_template_kwargs`: llama.cpp and vLLM's `chat_template_kwargs: {enable_thinking}` (Qwen3, GLM templates).
 * - `thinking_object`: `thinking: {type: "enabled" | "disabled"}`, as z.ai and DeepSeek accept.
 *
 * A request without `thinking` asks for no thinking, as it does on Anthropic, so the styles with an explicit
 * off switch send it. Exactly one field is ever sent, so the upstream never gets a contradictory pair (field note 22).
 *
 * @module
 */

import type { AnthropicThinkingConfig } from "../../protocols/anthropic.ts";
import type { OpenAIChatRequest } from "../../protocols/openai.ts";
import type { ReasoningStyle } from "../../config/config.ts";

/** How an OpenAI upstream is told to think (an upstream's `reasoning_style`). */
export type { ReasoningStyle };

/** The parts of an Anthropic request that decide thinking. */
export interface ThinkingRequest {
  /** The request's extended-thinking switch. */
  thinking?: AnthropicThinkingConfig | null;
  /** Anthropic's effort control, `{effort: "low" | "medium" | "high" | "xhigh" | "max"}`. */
  output_config?: unknown;
}

/** An OpenAI reasoning effort. */
export type ReasoningEffort = "low" | "medium" | "high";

/** Budgets up to this many tokens are "low": Claude Code's "think" asks for 4,000. */
const LOW_BUDGET_MAX = 4096;
/** Budgets up to this many tokens are "medium": Claude Code's "think hard" asks for 10,000; "ultrathink" 31,999. */
const MEDIUM_BUDGET_MAX = 16384;

/**
 * Maps a thinking budget in tokens to an OpenAI reasoning effort.
 *
 * @example
 * ```ts
 * effortForBudget(31999); // "high"
 * ```
 */
export function effortForBudget(budgetTokens: number): ReasoningEffort {
  if (budgetTokens <= LOW_BUDGET_MAX) return "low";
  return budgetTokens <= MEDIUM_BUDGET_MAX ? "medium" : "high";
}

/** Reads `output_config.effort` (Anthropic's effort control), folding `xhigh` and `max` into `high`. */
function configuredEffort(req: ThinkingRequest): ReasoningEffort | undefined {
  const effort = (req.output_config as { effort?: unknown } | undefined)?.effort;
  if (effort === "low" || effort === "medium" || effort === "high") return effort;
  return effort === "xhigh" || effort === "max" ? "high" : undefined;
}

/**
 * Builds the upstream fields that switch thinking for `style`, from the request's `thinking` and
 * `output_config.effort`. Thinking is on for `enabled` and `adaptive`, off when `disabled` or absent.
 *
 * @example
 * ```ts
 * reasoningFields({ thinking: { type: "enabled", budget_tokens: 10000 } }, "reasoning_effort");
 * // { reasoning_effort: "medium" }
 * ```
 */
export function reasoningFields(
  req: ThinkingRequest,
  style: ReasoningStyle,
): Partial<OpenAIChatRequest> {
  const thinking = req.thinking;
  const enabled = thinking !== undefined && thinking !== null && thinking.type !== "disabled";
  switch (style) {
    case "none":
      return {};
    case "reasoning_effort": {
      if (!enabled) return {};
      const budget = thinking.type === "enabled" ? thinking.budget_tokens : undefined;
      const effort = configuredEffort(req) ??
        (typeof budget === "number" ? effortForBudget(budget) : "medium");
      return { reasoning_effort: effort };
    }
    case "chat_template_kwargs":
      return { chat_template_kwargs: { enable_thinking: enabled } };
    case "thinking_object":
      return { thinking: { type: enabled ? "enabled" : "disabled" } };
  }
}
