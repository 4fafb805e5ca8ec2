import assert from "node:assert/strict";
import {
  type PolicyChange,
  type PolicyContext,
  SamplingPolicy,
  type SamplingPolicyOptions,
} from "../../src/policy/sampling.ts";

const OPENAI: PolicyContext = { clientProtocol: "openai", upstreamProtocol: "openai" };
const ANTHROPIC: PolicyContext = { clientProtocol: "anthropic", upstreamProtocol: "anthropic" };
/** An Anthropic client converted to an OpenAI upstream. */
const ANTHROPIC_TO_OPENAI: PolicyContext = { clientProtocol: "anthropic", upstreamProtocol: "openai" };

interface Case {
  name: string;
  options: SamplingPolicyOptions;
  body: Record<string, unknown>;
  context?: PolicyContext;
  want: Record<string, unknown>;
}

/** Runs table rows as steps: each applies the policy and compares the whole body. */
async function runTable(t: Deno.TestContext, cases: Case[]): Promise<void> {
  for (const { name, options, body, context = OPENAI, want } of cases) {
    await t.step(name, () => {
      assert.deepEqual(new SamplingPolicy(options).apply(body, context).body, want);
    });
  }
}

Deno.test("SamplingPolicy follows the precedence forced > client > per-model default > global default", async (t) => {
  const layered: SamplingPolicyOptions = {
    defaultParams: { temperature: 0.1, top_p: 0.5, top_k: 5, min_p: 0.01 },
    modelParams: { qwen3: { temperature: 0.6, top_p: 0.8, top_k: 20 } },
    forceParams: { top_k: 40 },
    rules: { qwen3: { defaults: { temperature: 0.7 }, force: { top_k: 50 } } },
  };
  await runTable(t, [
    {
      name: "a global default fills an absent key",
      options: { defaultParams: { temperature: 0.1 } },
      body: { model: "m" },
      want: { model: "m", temperature: 0.1 },
    },
    {
      name: "the client's value beats every default",
      options: layered,
      body: { model: "qwen3", temperature: 1, top_p: 1, min_p: 0 },
      want: { model: "qwen3", temperature: 1, top_p: 1, min_p: 0, top_k: 50 },
    },
    {
      name: "model_sampling_params beats the global default",
      options: { ...layered, rules: {} },
      body: { model: "qwen3" },
      want: { model: "qwen3", temperature: 0.6, top_p: 0.8, top_k: 40, min_p: 0.01 },
    },
    {
      name: "rule defaults beat model_sampling_params",
      options: layered,
      body: { model: "qwen3" },
      want: { model: "qwen3", temperature: 0.7, top_p: 0.8, top_k: 50, min_p: 0.01 },
    },
    {
      name: "a global forced value beats the client's",
      options: { forceParams: { temperature: 0.3 } },
      body: { model: "m", temperature: 0 },
      want: { model: "m", temperature: 0.3 },
    },
    {
      name: "a rule's forced value beats the global forced value",
      options: layered,
      body: { model: "qwen3", top_k: 1 },
      want: { model: "qwen3", top_k: 50, temperature: 0.7, top_p: 0.8, min_p: 0.01 },
    },
    {
      name: "other models get only the global layers",
      options: layered,
      body: { model: "llama" },
      want: { model: "llama", top_k: 40, temperature: 0.1, top_p: 0.5, min_p: 0.01 },
    },
    {
      name: "null in a params map means not set",
      options: {
        defaultParams: { temperature: 0.1, top_k: null },
        modelParams: { m: { temperature: null } },
        forceParams: { top_p: null },
        rules: { m: { defaults: { min_p: null }, force: { seed: null } } },
      },
      body: { model: "m", top_p: 0.9 },
      want: { model: "m", top_p: 0.9, temperature: 0.1 },
    },
    {
      name: "a client's explicit null counts as present",
      options: { defaultParams: { temperature: 0.1 } },
      body: { model: "m", temperature: null },
      want: { model: "m", temperature: null },
    },
    {
      name: "a body without a model gets the global layers only",
      options: layered,
      body: { messages: [] },
      want: { messages: [], top_k: 40, temperature: 0.1, top_p: 0.5, min_p: 0.01 },
    },
  ]);
});

Deno.test("SamplingPolicy matches rules exact name first, then globs in order", async (t) => {
  const rules: SamplingPolicyOptions["rules"] = {
    "qwen3-*": { defaults: { temperature: 0.6 } },
    "qwen3-coder*": { defaults: { temperature: 0.2 } },
    "qwen3-coder-30b": { defaults: { temperature: 0.3 } },
  };
  await runTable(t, [
    {
      name: "the first matching glob wins",
      options: { rules },
      body: { model: "qwen3-coder-480b" },
      want: { model: "qwen3-coder-480b", temperature: 0.6 },
    },
    {
      name: "an exact key beats earlier globs",
      options: { rules },
      body: { model: "qwen3-coder-30b" },
      want: { model: "qwen3-coder-30b", temperature: 0.3 },
    },
    {
      name: "matching is case-sensitive",
      options: { rules },
      body: { model: "Qwen3-8b" },
      want: { model: "Qwen3-8b" },
    },
    {
      name: "only one rule applies, so a later glob's keys are not merged in",
      options: { rules: { "glm-*": { defaults: { temperature: 1 } }, "*": { defaults: { top_p: 0.9 } } } },
      body: { model: "glm-5" },
      want: { model: "glm-5", temperature: 1 },
    },
  ]);
});

Deno.test("SamplingPolicy strips keys that defaults cannot re-add but forced values can", async (t) => {
  await runTable(t, [
    {
      name: "a stripped key stays absent despite defaults",
      options: {
        defaultParams: { temperature: 0.1 },
        modelParams: { "claude-x": { temperature: 0.5 } },
        rules: { "claude-*": { strip: ["temperature", "top_p"], defaults: { temperature: 0.2 } } },
      },
      body: { model: "claude-x", temperature: 0, top_p: 0.9, max_tokens: 10 },
      want: { model: "claude-x", max_tokens: 10 },
    },
    {
      name: "a forced value puts a stripped key back",
      options: { forceParams: { temperature: 1 }, rules: { m: { strip: ["temperature"] } } },
      body: { model: "m", temperature: 0 },
      want: { model: "m", temperature: 1 },
    },
  ]);
});

Deno.test("SamplingPolicy clamps max tokens only when present", async (t) => {
  const options: SamplingPolicyOptions = { rules: { "deepseek-*": { maxTokensCap: 8192 } } };
  await runTable(t, [
    {
      name: "values above the cap are lowered",
      options,
      body: { model: "deepseek-chat", max_tokens: 32000, max_completion_tokens: 64000, max_output_tokens: 9000 },
      want: { model: "deepseek-chat", max_tokens: 8192, max_completion_tokens: 8192, max_output_tokens: 8192 },
    },
    {
      name: "values at or below the cap are kept",
      options,
      body: { model: "deepseek-chat", max_tokens: 8192, max_completion_tokens: 100 },
      want: { model: "deepseek-chat", max_tokens: 8192, max_completion_tokens: 100 },
    },
    {
      name: "an absent value stays absent",
      options,
      body: { model: "deepseek-chat" },
      want: { model: "deepseek-chat" },
    },
    {
      name: "defaulted and forced values are clamped too",
      options: { defaultParams: { max_tokens: 100000 }, rules: { "deepseek-*": { maxTokensCap: 8192 } } },
      body: { model: "deepseek-chat" },
      want: { model: "deepseek-chat", max_tokens: 8192 },
    },
  ]);
});

Deno.test("SamplingPolicy renames the upstream model", async (t) => {
  await runTable(t, [
    {
      name: "a rule's rename sets the model and model_sampling_params use the new name",
      options: {
        modelParams: { qwen3: { top_k: 20 }, "qwen3:precise": { top_k: 1 } },
        rules: { "qwen3:precise": { rename: "qwen3", defaults: { temperature: 0.2 } } },
      },
      body: { model: "qwen3:precise" },
      want: { model: "qwen3", temperature: 0.2, top_k: 20 },
    },
    {
      name: "override.model_name replaces every model",
      options: { overrideModelName: "glm-5", modelParams: { "glm-5": { temperature: 1 } } },
      body: { model: "claude-sonnet-4" },
      want: { model: "glm-5", temperature: 1 },
    },
    {
      name: "override.model_name sets a missing model",
      options: { overrideModelName: "glm-5" },
      body: { messages: [] },
      want: { messages: [], model: "glm-5" },
    },
    {
      name: "a rule's rename beats override.model_name",
      options: { overrideModelName: "glm-5", rules: { "*-haiku-*": { rename: "glm-4.5-air" } } },
      body: { model: "claude-haiku-4" },
      want: { model: "glm-4.5-air" },
    },
  ]);
});

Deno.test("SamplingPolicy with onlyAnthropic overrides only requests from Anthropic clients", async (t) => {
  const options: SamplingPolicyOptions = {
    onlyAnthropic: true,
    overrideModelName: "glm-5",
    forceParams: { temperature: 1 },
    defaultParams: { top_p: 0.9 },
    rules: { "gpt-*": { force: { top_k: 3 } } },
  };
  await runTable(t, [
    {
      name: "an OpenAI client keeps its model and values, but defaults and rules still apply",
      options,
      body: { model: "gpt-x", temperature: 0 },
      want: { model: "gpt-x", temperature: 0, top_k: 3, top_p: 0.9 },
    },
    {
      name: "an Anthropic client converted to OpenAI is overridden",
      options,
      context: ANTHROPIC_TO_OPENAI,
      body: { model: "claude-x", temperature: 0 },
      want: { model: "glm-5", temperature: 1, top_p: 0.9 },
    },
    {
      name: "an Anthropic client in passthrough is overridden",
      options,
      context: ANTHROPIC,
      body: { model: "claude-x", max_tokens: 10 },
      want: { model: "glm-5", max_tokens: 10, temperature: 1, top_p: 0.9 },
    },
  ]);
});

Deno.test("SamplingPolicy injects into Anthropic bodies only keys the Messages API accepts, from global sources", async (t) => {
  const options: SamplingPolicyOptions = {
    defaultParams: { temperature: 0.6, min_p: 0.05, repetition_penalty: 1.1, stop_sequences: ["###"] },
    forceParams: { top_k: 20, presence_penalty: 1.5 },
    modelParams: { "glm-5": { min_p: 0.1 } },
    rules: { "glm-*": { defaults: { chat_template_kwargs: { enable_thinking: false } } } },
  };
  await runTable(t, [
    {
      name: "an Anthropic upstream gets accepted global keys plus every per-model key",
      options,
      context: ANTHROPIC,
      body: { model: "glm-5", max_tokens: 100 },
      want: {
        model: "glm-5",
        max_tokens: 100,
        top_k: 20,
        chat_template_kwargs: { enable_thinking: false },
        min_p: 0.1,
        temperature: 0.6,
        stop_sequences: ["###"],
      },
    },
    {
      name: "an OpenAI upstream gets every key",
      options,
      context: ANTHROPIC_TO_OPENAI,
      body: { model: "glm-5" },
      want: {
        model: "glm-5",
        top_k: 20,
        presence_penalty: 1.5,
        chat_template_kwargs: { enable_thinking: false },
        min_p: 0.1,
        temperature: 0.6,
        repetition_penalty: 1.1,
        stop_sequences: ["###"],
      },
    },
  ]);
});

Deno.test("SamplingPolicy rewrites the developer role only when configured, for OpenAI bodies", async (t) => {
  const messages = [{ role: "developer", content: "Be brief" }, { role: "user", content: "Hi" }];
  await runTable(t, [
    {
      name: "off by default",
      options: {},
      body: { model: "m", messages },
      want: { model: "m", messages },
    },
    {
      name: "on for an OpenAI upstream",
      options: { developerToSystem: true },
      body: { model: "m", messages },
      want: { model: "m", messages: [{ role: "system", content: "Be brief" }, { role: "user", content: "Hi" }] },
    },
    {
      name: "never for an Anthropic upstream",
      options: { developerToSystem: true },
      context: ANTHROPIC,
      body: { model: "m", messages },
      want: { model: "m", messages },
    },
  ]);
});

Deno.test("SamplingPolicy reports every change with its source", () => {
  const policy = new SamplingPolicy({
    defaultParams: { temperature: 0.1, min_p: 0.05 },
    modelParams: { qwen3: { top_k: 20 } },
    forceParams: { seed: 7, top_p: 0.95 },
    rules: {
      "qwen3:*": { rename: "qwen3", force: { top_p: 0.8 }, strip: ["frequency_penalty"], maxTokensCap: 1000 },
    },
    developerToSystem: true,
  });
  const { changes } = policy.apply({
    model: "qwen3:fast",
    top_p: 1,
    frequency_penalty: 0.5,
    max_tokens: 4096,
    messages: [{ role: "user" }, { role: "developer" }],
  }, OPENAI);
  const want: PolicyChange[] = [
    { key: "frequency_penalty", action: "strip", from: 0.5, source: "rule:qwen3:*" },
    { key: "model", action: "rename", from: "qwen3:fast", to: "qwen3", source: "rule:qwen3:*" },
    { key: "top_p", action: "force", from: 1, to: 0.8, source: "rule:qwen3:*" },
    { key: "seed", action: "force", to: 7, source: "override" },
    { key: "top_k", action: "default", to: 20, source: "model_sampling_params" },
    { key: "temperature", action: "default", to: 0.1, source: "default_sampling_params" },
    { key: "min_p", action: "default", to: 0.05, source: "default_sampling_params" },
    { key: "max_tokens", action: "clamp", from: 4096, to: 1000, source: "rule:qwen3:*" },
    { key: "messages[1].role", action: "rename", from: "developer", to: "system", source: "developer_to_system" },
  ];
  assert.deepEqual(changes, want);
});

Deno.test("SamplingPolicy reports global keys withheld from an Anthropic body as skipped", () => {
  const policy = new SamplingPolicy({ defaultParams: { min_p: 0.05, top_p: 0.9 }, forceParams: { seed: 1 } });
  const { changes } = policy.apply({ model: "claude-x", top_p: 1, min_p: 0.2 }, ANTHROPIC);
  assert.deepEqual(changes, [{ key: "seed", action: "skip", to: 1, source: "override" }]);
  const absent = policy.apply({ model: "claude-x" }, ANTHROPIC);
  assert.deepEqual(absent.changes, [
    { key: "seed", action: "skip", to: 1, source: "override" },
    { key: "min_p", action: "skip", to: 0.05, source: "default_sampling_params" },
    { key: "top_p", action: "default", to: 0.9, source: "default_sampling_params" },
  ]);
});

Deno.test("SamplingPolicy never modifies its input", () => {
  const policy = new SamplingPolicy({
    defaultParams: { temperature: 0.1 },
    rules: { m: { strip: ["top_p"], rename: "n", maxTokensCap: 5 } },
    developerToSystem: true,
  });
  const body = deepFreeze({ model: "m", top_p: 1, max_tokens: 10, messages: [{ role: "developer", content: "x" }] });
  const snapshot = structuredClone(body);
  const result = policy.apply(body, OPENAI);
  assert.deepEqual(body, snapshot);
  assert.notEqual(result.body, body);
});

Deno.test("SamplingPolicy lists exact rule keys with a rename as virtual models", () => {
  const policy = new SamplingPolicy({
    rules: {
      "qwen3:precise": { rename: "qwen3", defaults: { temperature: 0.2 } },
      "qwen3:creative": { rename: "qwen3", defaults: { temperature: 1 } },
      "glm-*": { rename: "glm-5" },
      "llama": { defaults: { top_k: 40 } },
    },
  });
  assert.deepEqual(policy.virtualModels, ["qwen3:precise", "qwen3:creative"]);
  assert.deepEqual(new SamplingPolicy().virtualModels, []);
});

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
