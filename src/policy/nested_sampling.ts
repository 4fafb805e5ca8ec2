/**
 * The sampling policy for bodies that keep their sampling keys in a nested object rather than at the top level:
 * SGLang's native `/generate`,
 * `{"text": "…", "sampling_params": {"temperature": 0.7, "max_new_tokens": 64}, "stream": true}`.
 *
 * The policy runs on a view made of the nested object plus the top-level `model`, so rules match on the model
 * and defaults, forced values, strip and clamp act inside the nested object; a rename goes back to the top-level
 * `model`. A body that names no model is routed by the `*` binding and is treated as model `*` here too (rules and
 * `model_sampling_params` under `*` apply), but no `model` is added to it. A batch (an array of nested objects,
 * one per prompt) gets the policy on each element.
 *
 * @module
 */

import { isJsonObject } from "../protocols/json_object.ts";
import { type PolicyChange, type PolicyContext, type PolicyResult, type SamplingPolicy } from "./sampling.ts";

/** The model a body without `model` is treated as: the catch-all binding that routes it. */
export const UNNAMED_MODEL = "*";

/** Options of {@linkcode applyNestedPolicy}. */
export interface NestedPolicyOptions {
  /** The key of the nested object, e.g. `sampling_params`. */
  key: string;
  /** The request's protocols. */
  context: PolicyContext;
}

/**
 * Applies `policy` inside `body[options.key]` (see the module documentation); the input is never modified.
 *
 * @example
 * ```ts
 * import { SamplingPolicy } from "./sampling.ts";
 * const policy = new SamplingPolicy({ defaultParams: { temperature: 0.7 } });
 * const { body } = applyNestedPolicy(policy, { text: "Hi", sampling_params: { max_new_tokens: 8 } }, {
 *   key: "sampling_params",
 *   context: { clientProtocol: "openai", upstreamProtocol: "openai" },
 * });
 * body; // { text: "Hi", sampling_params: { max_new_tokens: 8, temperature: 0.7 } }
 * ```
 */
export function applyNestedPolicy(
  policy: SamplingPolicy,
  body: Readonly<Record<string, unknown>>,
  options: NestedPolicyOptions,
): PolicyResult {
  const { key, context } = options;
  const nested = body[key] ?? {};
  const batch = Array.isArray(nested);
  const elements: unknown[] = batch ? nested : [nested];
  if (!elements.every(isJsonObject)) return { body: { ...body }, changes: [] };
  const named = typeof body.model === "string" ? body.model : undefined;
  const out: Record<string, unknown> = { ...body };
  const changes: PolicyChange[] = [];
  const results = elements.map((element, index) => {
    const result = policy.apply({ ...element, model: named ?? UNNAMED_MODEL }, context);
    const { model, ...params } = result.body;
    const path = batch ? `${key}[${index}]` : key;
    for (const change of result.changes) {
      if (change.key !== "model") changes.push({ ...change, key: `${path}.${change.key}` });
      else if (named !== undefined && index === 0) changes.push(change);
    }
    if (named !== undefined) out.model = model;
    return params;
  });
  out[key] = batch ? results : results[0];
  return { body: out, changes };
}
