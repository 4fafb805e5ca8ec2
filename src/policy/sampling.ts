/**
 * The per-model sampling policy: defaults, forced values, stripped keys, `max_tokens` caps and model renames,
 * applied to a request body already in the upstream's protocol.
 *
 * Sources (seed config keys in brackets; `null` anywhere in a params map means "not set", as in the seed):
 * - global defaults [`default_sampling_params`] and global forced values [`override.sampling_params`];
 * - per-model defaults by exact model name [`model_sampling_params`];
 * - the model override [`override.model_name`]; with [`override.only_anthropic`], the global forced values and the
 *   model override apply only to requests whose client protocol is Anthropic (per-model rules always apply);
 * - per-model rules (new): model name or glob → `{defaults, force, strip, rename, maxTokensCap}`, matched exact
 *   name first, then globs in config order, first match wins (see `model_matcher.ts`; case-sensitive).
 *
 * Order of operations, which yields the precedence
 * forced (rule > global) > client's value > per-model default (rule > `model_sampling_params`) > global default:
 *
 * 1. Strip: the rule's `strip` keys are removed from the client's body. Defaults never re-add a stripped key;
 *    only a forced value does.
 * 2. Model: the rule's `rename`, else `override.model_name`, becomes the upstream `model`.
 * 3. Force: rule `force`, then global forced values for keys the rule did not force.
 * 4. Defaults: each key absent from the body (and not stripped) is set from rule `defaults`, else from
 *    `model_sampling_params` of the upstream model name (after step 2, as in the seed), else from the global
 *    defaults.
 * 5. Clamp: `max_tokens`, `max_completion_tokens`, `max_output_tokens` and `max_new_tokens` (SGLang) above the rule's `maxTokensCap` are
 *    lowered to it. An absent value stays absent: adding a limit the client did not ask for would change the
 *    meaning of its request (and OpenAI-style servers then pick their own default, which the cap cannot see).
 * 6. Roles: with `developerToSystem`, OpenAI `messages[].role` `"developer"` becomes `"system"`.
 *
 * Anthropic upstreams: the Messages API rejects unknown top-level fields, so keys from the global sources (global
 * defaults and global forced values) that it does not accept ({@linkcode ANTHROPIC_ACCEPTED_KEYS}) are not
 * injected into Anthropic bodies but reported as `skip`. Those global maps typically carry llama.cpp/vLLM knobs
 * such as `min_p`. Per-model sources (rules and `model_sampling_params`) are applied as configured, since they
 * name the model explicitly.
 *
 * @module
 */

import { isJsonObject } from "../protocols/json_object.ts";
import { isModelPattern, ModelMatcher } from "./model_matcher.ts";
import type { ModelRule, ParamMap, SamplingConfig } from "../config/config.ts";

/** The wire protocol a body is written in. */
export type WireProtocol = "openai" | "anthropic";

/** A map of body keys to values; a `null` value means "not set" and is ignored. */
export type { ParamMap };

/**
 * One per-model rule (a `models` entry): `defaults` are used when the client sends none (over
 * `model_sampling_params` and global defaults); `force` replaces the client's values (over the global forced ones);
 * `strip` removes top-level keys (defaults do not re-add them, forced values do); `rename` is the upstream model
 * name (over `overrideModelName`; an exact key with a rename is listed); `maxTokensCap` bounds `max_tokens`,
 * `max_completion_tokens`, `max_output_tokens` and `max_new_tokens` when present.
 */
export type SamplingRule = Omit<ModelRule, "retrySampling">;

/**
 * Options for {@linkcode SamplingPolicy}: the config's resolved `sampling` section, each key optional (absent:
 * empty, off). `onlyAnthropic` applies `forceParams` and `overrideModelName` to Anthropic clients only;
 * `developerToSystem` rewrites OpenAI `messages[].role` `"developer"` to `"system"` (off by default because OpenAI,
 * llama.cpp and current vLLM accept `developer`; for servers whose chat template rejects it, which the seed rewrote
 * for unconditionally).
 */
export type SamplingPolicyOptions = { readonly [K in keyof SamplingConfig]?: SamplingConfig[K] };

/** What the policy did to one key. */
export type ChangeAction = "default" | "force" | "strip" | "clamp" | "rename" | "skip";

/** Which config produced a change; `developer_to_system` is the role rewrite. */
export type ChangeSource =
  | `rule:${string}`
  | "model_sampling_params"
  | "default_sampling_params"
  | "override"
  | "developer_to_system";

/** One change, for debug logging. */
export interface PolicyChange {
  /** The body key, e.g. `temperature`, `model` or `messages[2].role`. */
  key: string;
  /** What happened to it. */
  action: ChangeAction;
  /** The value before, when there was one. */
  from?: unknown;
  /** The value after (for `skip`: the value that was not injected). */
  to?: unknown;
  /** Which config produced the change. */
  source: ChangeSource;
}

/** Per-request facts the policy depends on. */
export interface PolicyContext {
  /** The protocol the client spoke (decides `onlyAnthropic`). */
  clientProtocol: WireProtocol;
  /** The protocol of `body`, i.e. the upstream's (decides which global keys are skipped). */
  upstreamProtocol: WireProtocol;
}

/** What {@linkcode SamplingPolicy.apply} returns. */
export interface PolicyResult {
  /** A new body; the input is never modified. */
  body: Record<string, unknown>;
  /** The changes made, in order. */
  changes: PolicyChange[];
}

/**
 * Top-level request keys the Anthropic Messages API accepts that global defaults or forced values may set.
 * Conversation fields (`messages`, `tools`, `stream`, `model`) are left out on purpose: they are the client's.
 */
export const ANTHROPIC_ACCEPTED_KEYS: ReadonlySet<string> = new Set([
  "max_tokens",
  "metadata",
  "service_tier",
  "stop_sequences",
  "system",
  "temperature",
  "thinking",
  "tool_choice",
  "top_k",
  "top_p",
]);

/**
 * Whether a key from a global source (global defaults, global forced values, `validation.retry_sampling`) may be
 * injected into a body written in `protocol`: OpenAI-style servers take any key, the Anthropic Messages API only
 * {@linkcode ANTHROPIC_ACCEPTED_KEYS}.
 */
export function acceptsGlobalKey(protocol: WireProtocol, key: string): boolean {
  return protocol !== "anthropic" || ANTHROPIC_ACCEPTED_KEYS.has(key);
}

/** The keys a `maxTokensCap` clamps: OpenAI Chat (old and new name), OpenAI Responses, Anthropic, SGLang. */
const MAX_TOKENS_KEYS = ["max_tokens", "max_completion_tokens", "max_output_tokens", "max_new_tokens"] as const;

/** One source of values for {@linkcode setFromLayers}. */
interface Layer {
  params: ParamMap | undefined;
  source: ChangeSource;
  /** Global sources are filtered for Anthropic upstreams. */
  global: boolean;
}

/** The body being built and the changes made so far. */
interface Draft {
  body: Record<string, unknown>;
  changes: PolicyChange[];
  /** The body's protocol: global keys it does not accept are skipped. */
  protocol: WireProtocol;
}

/**
 * The compiled sampling policy. One instance per config; {@linkcode SamplingPolicy.apply} is pure.
 *
 * @example
 * ```ts
 * import { SamplingPolicy } from "./sampling.ts";
 * const policy = new SamplingPolicy({
 *   rules: { "qwen3:precise": { rename: "qwen3", defaults: { temperature: 0.2 } } },
 * });
 * policy.virtualModels; // ["qwen3:precise"]
 * const { body } = policy.apply(
 *   { model: "qwen3:precise", messages: [] },
 *   { clientProtocol: "openai", upstreamProtocol: "openai" },
 * );
 * body; // { model: "qwen3", messages: [], temperature: 0.2 }
 * ```
 */
export class SamplingPolicy {
  /** Model names that exist only in the proxy: exact (non-glob) rule keys with a `rename`, for `/v1/models`. */
  readonly virtualModels: readonly string[];
  #rules: ModelMatcher<SamplingRule>;
  #defaultParams: ParamMap;
  #modelParams: ReadonlyMap<string, ParamMap>;
  #forceParams: ParamMap;
  #onlyAnthropic: boolean;
  #overrideModelName: string | null;
  #developerToSystem: boolean;

  /**
   * Compiles the rules.
   *
   * @throws {TypeError} when a rule pattern is invalid
   */
  constructor(options: SamplingPolicyOptions = {}) {
    const {
      defaultParams = {},
      modelParams = {},
      forceParams = {},
      onlyAnthropic = false,
      overrideModelName = null,
      rules = {},
      developerToSystem = false,
    } = options;
    this.#rules = new ModelMatcher(Object.entries(rules));
    this.virtualModels = Object.entries(rules)
      .filter(([key, rule]) => rule.rename !== undefined && !isModelPattern(key))
      .map(([key]) => key);
    this.#defaultParams = defaultParams;
    this.#modelParams = new Map(Object.entries(modelParams));
    this.#forceParams = forceParams;
    this.#onlyAnthropic = onlyAnthropic;
    this.#overrideModelName = overrideModelName;
    this.#developerToSystem = developerToSystem;
  }

  /** Applies the policy to a request body written in `context.upstreamProtocol`; see the module documentation. */
  apply(body: Readonly<Record<string, unknown>>, context: PolicyContext): PolicyResult {
    const draft: Draft = { body: { ...body }, changes: [], protocol: context.upstreamProtocol };
    const out = draft.body;
    const requested = typeof body.model === "string" ? body.model : undefined;
    const match = requested === undefined ? undefined : this.#rules.match(requested);
    const rule = match?.value ?? {};
    const ruleSource: ChangeSource = `rule:${match?.pattern ?? ""}`;
    const overrides = !this.#onlyAnthropic || context.clientProtocol === "anthropic";

    // (1) Strip.
    const stripped = new Set(rule.strip);
    for (const key of stripped) {
      if (!Object.hasOwn(out, key)) continue;
      draft.changes.push({ key, action: "strip", from: out[key], source: ruleSource });
      delete out[key];
    }

    // (2) Model.
    const [model, modelSource] = rule.rename !== undefined
      ? [rule.rename, ruleSource]
      : overrides && this.#overrideModelName !== null
      ? [this.#overrideModelName, "override" as const]
      : [requested, undefined];
    if (modelSource !== undefined && model !== requested) {
      draft.changes.push({ key: "model", action: "rename", from: requested, to: model, source: modelSource });
      out.model = model;
    }

    // (3) Force.
    setFromLayers(draft, "force", [
      { params: rule.force, source: ruleSource, global: false },
      { params: overrides ? this.#forceParams : undefined, source: "override", global: true },
    ], () => true);

    // (4) Defaults.
    const modelParams = model === undefined ? undefined : this.#modelParams.get(model);
    setFromLayers(draft, "default", [
      { params: rule.defaults, source: ruleSource, global: false },
      { params: modelParams, source: "model_sampling_params", global: false },
      { params: this.#defaultParams, source: "default_sampling_params", global: true },
    ], (key) => !Object.hasOwn(out, key) && !stripped.has(key));

    // (5) Clamp.
    const cap = rule.maxTokensCap;
    for (const key of MAX_TOKENS_KEYS) {
      const value = out[key];
      if (cap === undefined || typeof value !== "number" || value <= cap) continue;
      draft.changes.push({ key, action: "clamp", from: value, to: cap, source: ruleSource });
      out[key] = cap;
    }

    // (6) Roles.
    if (this.#developerToSystem && context.upstreamProtocol === "openai" && Array.isArray(out.messages)) {
      out.messages = out.messages.map((message: unknown, index) => {
        if (!isJsonObject(message) || message.role !== "developer") return message;
        const key = `messages[${index}].role`;
        draft.changes.push({ key, action: "rename", from: "developer", to: "system", source: "developer_to_system" });
        return { ...message, role: "system" };
      });
    }

    return { body: out, changes: draft.changes };
  }
}

/**
 * Sets keys from prioritised layers: the first layer to set a key wins, and only keys `isOpen` allows are set.
 * Keys of global layers that an Anthropic body does not accept are reported as `skip` instead.
 */
function setFromLayers(
  draft: Draft,
  action: "force" | "default",
  layers: readonly Layer[],
  isOpen: (key: string) => boolean,
): void {
  const { body, changes } = draft;
  const set = new Set<string>();
  for (const { params, source, global } of layers) {
    for (const [key, value] of Object.entries(params ?? {})) {
      if (value === null || set.has(key) || !isOpen(key)) continue;
      if (global && !acceptsGlobalKey(draft.protocol, key)) {
        changes.push({ key, action: "skip", to: value, source });
        continue;
      }
      changes.push({ key, action, ...(Object.hasOwn(body, key) && { from: body[key] }), to: value, source });
      body[key] = value;
      set.add(key);
    }
  }
}
