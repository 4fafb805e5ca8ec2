import assert from "node:assert/strict";
import { applyNestedPolicy } from "../../src/policy/nested_sampling.ts";
import { SamplingPolicy } from "../../src/policy/sampling.ts";

const OPTIONS = {
  key: "sampling_params",
  context: { clientProtocol: "openai", upstreamProtocol: "openai" },
} as const;

Deno.test("applyNestedPolicy sets defaults and forced values inside sampling_params, not at the top level", () => {
  const policy = new SamplingPolicy({ defaultParams: { temperature: 0.7, top_k: 20 }, forceParams: { top_p: 0.8 } });
  const body = { text: "Hi", sampling_params: { temperature: 0.2, top_p: 1 } };
  const { body: out, changes } = applyNestedPolicy(policy, body, OPTIONS);
  assert.deepEqual(out, { text: "Hi", sampling_params: { temperature: 0.2, top_p: 0.8, top_k: 20 } });
  assert.deepEqual(changes.map((c) => [c.key, c.action]), [
    ["sampling_params.top_p", "force"],
    ["sampling_params.top_k", "default"],
  ]);
  assert.deepEqual(body.sampling_params, { temperature: 0.2, top_p: 1 }, "the input is not modified");
});

Deno.test("applyNestedPolicy treats a body without model as model *, and adds no model to it", () => {
  const policy = new SamplingPolicy({
    overrideModelName: "served",
    rules: { "*": { defaults: { min_p: 0.1 }, rename: "x" }, "q*": { defaults: { min_p: 0.5 } } },
  });
  const { body, changes } = applyNestedPolicy(policy, { text: "Hi" }, OPTIONS);
  assert.deepEqual(body, { text: "Hi", sampling_params: { min_p: 0.1 } });
  assert.ok(changes.every((c) => c.key !== "model"));
});

Deno.test("applyNestedPolicy renames the top-level model and matches rules on it", () => {
  const policy = new SamplingPolicy({ rules: { "q*": { rename: "qwen3", strip: ["seed"], maxTokensCap: 64 } } });
  const body = { model: "q3", text: "Hi", sampling_params: { seed: 1, max_new_tokens: 512 } };
  const { body: out, changes } = applyNestedPolicy(policy, body, OPTIONS);
  assert.deepEqual(out, { model: "qwen3", text: "Hi", sampling_params: { max_new_tokens: 64 } });
  assert.deepEqual(changes.map((c) => [c.key, c.action]), [
    ["sampling_params.seed", "strip"],
    ["model", "rename"],
    ["sampling_params.max_new_tokens", "clamp"],
  ]);
});

Deno.test("applyNestedPolicy applies the policy to each element of a batch", () => {
  const policy = new SamplingPolicy({ defaultParams: { temperature: 0.7 } });
  const body = { model: "m", text: ["a", "b"], sampling_params: [{ temperature: 0 }, {}] };
  const { body: out, changes } = applyNestedPolicy(policy, body, OPTIONS);
  assert.deepEqual(out.sampling_params, [{ temperature: 0 }, { temperature: 0.7 }]);
  assert.deepEqual(changes.map((c) => c.key), ["sampling_params[1].temperature"]);
});

Deno.test("applyNestedPolicy leaves a body whose sampling_params is not an object alone", () => {
  const policy = new SamplingPolicy({ defaultParams: { temperature: 0.7 } });
  for (const sampling of ["hot", 1, [{}, "x"]]) {
    const body = { text: "Hi", sampling_params: sampling };
    assert.deepEqual(applyNestedPolicy(policy, body, OPTIONS), { body, changes: [] }, JSON.stringify(sampling));
  }
});
