/**
 * End-to-end: the sampling policy as wired into the request path (config → `SamplingPolicy`, applied to the
 * upstream's body after conversion), asserted on what the mock upstream received.
 */

import assert from "node:assert/strict";
import type { JsonObject } from "../support/json_guards.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { postJson } from "../support/http.ts";
import { startProxy } from "../support/proxy_server.ts";
import { chatBody, messagesBody, proxyConfig, upstreamJson } from "./harness.ts";

/** One way a request can travel: the client's endpoint and body, the upstream's protocols, where it lands. */
interface Route {
  name: string;
  clientPath: "/v1/chat/completions" | "/v1/messages";
  body: (model: string, extra?: JsonObject) => JsonObject;
  upstream: Record<string, unknown>;
  upstreamPath: "/v1/chat/completions" | "/v1/messages";
}

const OPENAI_PASSTHROUGH: Route = {
  name: "OpenAI passthrough",
  clientPath: "/v1/chat/completions",
  body: chatBody,
  upstream: {},
  upstreamPath: "/v1/chat/completions",
};
const ANTHROPIC_PASSTHROUGH: Route = {
  name: "Anthropic passthrough",
  clientPath: "/v1/messages",
  body: messagesBody,
  upstream: {},
  upstreamPath: "/v1/messages",
};
const ANTHROPIC_TO_OPENAI: Route = {
  name: "Anthropic client, OpenAI upstream",
  clientPath: "/v1/messages",
  body: messagesBody,
  upstream: { supports_anthropic: false },
  upstreamPath: "/v1/chat/completions",
};
const OPENAI_TO_ANTHROPIC: Route = {
  name: "OpenAI client, Anthropic upstream",
  clientPath: "/v1/chat/completions",
  body: chatBody,
  upstream: { supports_openai: false },
  upstreamPath: "/v1/messages",
};
const ROUTES = [OPENAI_PASSTHROUGH, ANTHROPIC_PASSTHROUGH, ANTHROPIC_TO_OPENAI, OPENAI_TO_ANTHROPIC];

/** Sends one non-streamed request through the proxy, expects 200 and returns what the mock received for it. */
async function sendThrough(
  proxyUrl: string,
  mock: MockUpstream,
  request: { path: string; body: JsonObject },
): Promise<JsonObject> {
  const index = mock.requests.length;
  const response = await postJson(`${proxyUrl}${request.path}`, request.body);
  assert.equal(response.status, 200, await response.clone().text());
  await response.body?.cancel();
  return upstreamJson(mock, index);
}

/** Picks `keys` of `json`, leaving absent keys out, for `deepEqual` on the keys a test is about. */
function pick(json: JsonObject, keys: readonly string[]): JsonObject {
  return Object.fromEntries(keys.filter((key) => Object.hasOwn(json, key)).map((key) => [key, json[key]]));
}

/**
 * Four layers for three models. `ruled` has a rule (defaults and a forced value), `tuned` only
 * `model_sampling_params`, `plain` nothing of its own. The client always sends temperature 0.5 and top_p 0.5.
 */
const PRECEDENCE_CONFIG = {
  default_sampling_params: { temperature: 0.1, top_p: 0.1, top_k: 10 },
  model_sampling_params: { tuned: { top_p: 0.2, top_k: 20 }, ruled: { top_k: 25 } },
  override: { sampling_params: { temperature: 0.9 } },
  models: { ruled: { defaults: { top_p: 0.3, top_k: 30 }, force: { temperature: 0.8 } } },
};
const PRECEDENCE_EXPECTED: Record<string, JsonObject> = {
  // Rule force > global force > client; client > rule default; rule default > model_sampling_params > global.
  ruled: { temperature: 0.8, top_p: 0.5, top_k: 30 },
  // Global force > client; client > model_sampling_params; model_sampling_params > global default.
  tuned: { temperature: 0.9, top_p: 0.5, top_k: 20 },
  // Global force > client; client > global default; global default fills the gap.
  plain: { temperature: 0.9, top_p: 0.5, top_k: 10 },
};

for (const route of ROUTES) {
  Deno.test(`SamplingPolicy applies forced > client > per-model default > global default (${route.name})`, async () => {
    await using mock = await startMockUpstream();
    await using proxy = await startProxy(proxyConfig(mock, { upstream: route.upstream, config: PRECEDENCE_CONFIG }));
    for (const [model, expected] of Object.entries(PRECEDENCE_EXPECTED)) {
      const body = route.body(model, { temperature: 0.5, top_p: 0.5 });
      const seen = await sendThrough(proxy.url, mock, { path: route.clientPath, body });
      assert.equal(mock.requests.at(-1)?.path, route.upstreamPath);
      assert.deepEqual(pick(seen, ["temperature", "top_p", "top_k"]), expected, `model ${model}`);
      assert.equal(seen.model, model);
    }
  });
}

Deno.test("SamplingPolicy lets an Anthropic client's converted values beat defaults of the OpenAI body", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    upstream: ANTHROPIC_TO_OPENAI.upstream,
    config: { default_sampling_params: { stop: ["DEFAULT"], max_tokens: 99, user: "default-user", min_p: 0.05 } },
  }));
  const body = messagesBody("m", { stop_sequences: ["CLIENT"], max_tokens: 300, metadata: { user_id: "u1" } });
  const seen = await sendThrough(proxy.url, mock, { path: "/v1/messages", body });
  // The client's stop_sequences, max_tokens and metadata.user_id became OpenAI keys before the policy ran.
  assert.deepEqual(pick(seen, ["stop", "max_tokens", "user", "min_p", "stop_sequences", "metadata"]), {
    stop: ["CLIENT"],
    max_tokens: 300,
    user: "u1",
    min_p: 0.05,
  });
});

Deno.test("SamplingPolicy skips global OpenAI-only keys for Anthropic upstreams and says so", async () => {
  const config = {
    default_sampling_params: { min_p: 0.05, repetition_penalty: 1.1, temperature: 0.7 },
    override: { sampling_params: { presence_penalty: 0.5 } },
    model_sampling_params: { m: { typical_p: 0.9 } },
  };
  const keys = ["min_p", "repetition_penalty", "presence_penalty", "temperature", "typical_p"];
  const all = { min_p: 0.05, repetition_penalty: 1.1, presence_penalty: 0.5, temperature: 0.7, typical_p: 0.9 };
  // Per-model sources name the model, so they are applied as configured even for an Anthropic upstream.
  const anthropicSafe = { temperature: 0.7, typical_p: 0.9 };
  const expected = new Map<Route, JsonObject>([
    [OPENAI_PASSTHROUGH, all],
    [ANTHROPIC_TO_OPENAI, all],
    [ANTHROPIC_PASSTHROUGH, anthropicSafe],
    [OPENAI_TO_ANTHROPIC, anthropicSafe],
  ]);
  for (const [route, want] of expected) {
    await using mock = await startMockUpstream();
    await using proxy = await startProxy(proxyConfig(mock, { upstream: route.upstream, config }));
    const seen = await sendThrough(proxy.url, mock, { path: route.clientPath, body: route.body("m") });
    assert.deepEqual(pick(seen, keys), want, route.name);
    const skipped = proxy.logs.some((line) => line.includes("Policy: skip 'min_p' to 0.05 (default_sampling_params)"));
    assert.equal(skipped, route.upstreamPath === "/v1/messages", route.name);
    const forcedSkip = proxy.logs.some((line) => line.includes("Policy: skip 'presence_penalty' to 0.5 (override)"));
    assert.equal(forcedSkip, route.upstreamPath === "/v1/messages", route.name);
  }
});

Deno.test("SamplingPolicy matches rules by exact name first, then the first glob in config order", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: {
      models: {
        "qwen3-*": { defaults: { top_k: 20 } },
        "qwen3-*-fast": { defaults: { top_k: 99 } },
        "qwen3-coder": { defaults: { top_k: 40 } },
        "{glm,kimi}-*": { force: { top_k: 7 } },
      },
    },
  }));
  const cases: Array<[string, number | undefined]> = [
    ["qwen3-coder", 40],
    ["qwen3-8b", 20],
    ["qwen3-8b-fast", 20],
    ["glm-5", 7],
    ["kimi-k2", 7],
    ["QWEN3-8B", undefined],
    ["llama-3", undefined],
  ];
  for (const [model, topK] of cases) {
    const seen = await sendThrough(proxy.url, mock, {
      path: "/v1/chat/completions",
      body: chatBody(model, { top_k: model.startsWith("glm") ? 1 : undefined }),
    });
    assert.equal(seen.top_k, topK, model);
  }
  assert.ok(proxy.logs.some((line) => line.includes("Policy: default 'top_k' to 20 (rule:qwen3-*)")));
  assert.ok(proxy.logs.some((line) => line.includes("Policy: force 'top_k' from 1 to 7 (rule:{glm,kimi}-*)")));
});

Deno.test("SamplingPolicy serves a virtual model: renamed upstream, its own defaults, listed in /v1/models", async () => {
  await using mock = await startMockUpstream({ models: ["qwen3"] });
  await using proxy = await startProxy(proxyConfig(mock, {
    config: {
      models: {
        "qwen3:precise": { rename: "qwen3", defaults: { temperature: 0.2 } },
        "*:fast": { rename: "qwen3", defaults: { temperature: 1.2 } },
      },
      model_sampling_params: { qwen3: { top_k: 20 }, "qwen3:precise": { top_k: 99 } },
    },
  }));
  const precise = await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("qwen3:precise") });
  // model_sampling_params is looked up by the upstream name, after the rename.
  assert.deepEqual(pick(precise, ["model", "temperature", "top_k"]), { model: "qwen3", temperature: 0.2, top_k: 20 });
  const anthropic = await sendThrough(proxy.url, mock, { path: "/v1/messages", body: messagesBody("qwen3:precise") });
  assert.deepEqual(pick(anthropic, ["model", "temperature", "top_k"]), { model: "qwen3", temperature: 0.2, top_k: 20 });
  const real = await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("qwen3") });
  assert.deepEqual(pick(real, ["model", "temperature", "top_k"]), { model: "qwen3", top_k: 20 });
  const fast = await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("any:fast") });
  assert.deepEqual(pick(fast, ["model", "temperature"]), { model: "qwen3", temperature: 1.2 });
  assert.ok(proxy.logs.some((line) => /model=qwen3:precise upstream_model=qwen3 /.test(line)));
  assert.ok(proxy.logs.some((line) => line.includes(`Policy: rename 'model' from "qwen3:precise" to "qwen3"`)));

  const list = await (await fetch(`${proxy.url}/v1/models`)).json();
  const ids: string[] = list.data.map((entry: { id: string }) => entry.id);
  // Exact rule keys with a rename are listed, before the upstream's own models; glob keys are not.
  assert.deepEqual(ids, ["qwen3:precise", "qwen3"]);
});

Deno.test("SamplingPolicy strips keys that defaults never re-add and forced values do", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: {
      default_sampling_params: { top_p: 0.1, temperature: 0.7 },
      models: {
        m: {
          strip: ["top_p", "presence_penalty", "logit_bias"],
          defaults: { top_p: 0.3 },
          force: { presence_penalty: 0 },
        },
      },
    },
  }));
  const client = { top_p: 0.9, presence_penalty: 1.5, logit_bias: { "50256": -100 }, temperature: 0.2 };
  const seen = await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("m", client) });
  assert.deepEqual(pick(seen, ["top_p", "presence_penalty", "logit_bias", "temperature"]), {
    presence_penalty: 0,
    temperature: 0.2,
  });
  assert.ok(proxy.logs.some((line) => line.includes("Policy: strip 'top_p' from 0.9 (rule:m)")));
  const other = await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("other", client) });
  assert.deepEqual(pick(other, Object.keys(client)), client);
});

Deno.test("SamplingPolicy clamps max_tokens to the rule's cap and keeps an Anthropic thinking budget below it", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: { models: { "m*": { max_tokens_cap: 1500 }, tiny: { max_tokens_cap: 1000 } } },
  }));
  const openai = async (extra: JsonObject) =>
    pick(
      await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("m", extra) }),
      ["max_tokens", "max_completion_tokens"],
    );
  assert.deepEqual(await openai({ max_tokens: 5000 }), { max_tokens: 1500 });
  assert.deepEqual(await openai({ max_completion_tokens: 4000 }), { max_completion_tokens: 1500 });
  assert.deepEqual(await openai({ max_tokens: 100 }), { max_tokens: 100 });
  assert.deepEqual(await openai({}), {});

  const thinking = { type: "enabled", budget_tokens: 2000 };
  const capped = await sendThrough(proxy.url, mock, {
    path: "/v1/messages",
    body: messagesBody("m", { max_tokens: 5000, thinking }),
  });
  assert.deepEqual(pick(capped, ["max_tokens", "thinking"]), {
    max_tokens: 1500,
    thinking: { type: "enabled", budget_tokens: 1499 },
  });
  const tiny = await sendThrough(proxy.url, mock, {
    path: "/v1/messages",
    body: messagesBody("tiny", { max_tokens: 5000, thinking }),
  });
  // No budget of at least 1024 fits below 1000, so thinking is dropped rather than sent invalid.
  assert.deepEqual(pick(tiny, ["max_tokens", "thinking"]), { max_tokens: 1000 });
  assert.ok(proxy.logs.some((line) => line.includes("Policy: clamp 'max_tokens' from 5000 to 1500 (rule:m*)")));
});

Deno.test("SamplingPolicy with only_anthropic forces values and the model name for Anthropic clients only", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy({
    upstreams: [
      { name: "both", base_url: mock.url, supports_anthropic: true },
      { name: "oai", base_url: mock.url },
      { name: "ant", base_url: mock.url, supports_openai: false, supports_anthropic: true },
    ],
    model_upstream_binding: { "to-oai": "oai", "to-ant": "ant", "*": "both" },
    override: { only_anthropic: true, model_name: "big-model", sampling_params: { temperature: 0.9 } },
    models: { "*": { force: { top_k: 5 } } },
  });
  const send = async (route: Route, model: string) =>
    pick(
      await sendThrough(proxy.url, mock, { path: route.clientPath, body: route.body(model, { temperature: 0.5 }) }),
      ["model", "temperature", "top_k"],
    );
  // Per-model rules apply to every client; the global override only to Anthropic ones (converted ones included).
  assert.deepEqual(await send(OPENAI_PASSTHROUGH, "native"), { model: "native", temperature: 0.5, top_k: 5 });
  assert.deepEqual(await send(OPENAI_TO_ANTHROPIC, "to-ant"), { model: "to-ant", temperature: 0.5, top_k: 5 });
  assert.deepEqual(await send(ANTHROPIC_PASSTHROUGH, "native"), { model: "big-model", temperature: 0.9, top_k: 5 });
  assert.deepEqual(await send(ANTHROPIC_TO_OPENAI, "to-oai"), { model: "big-model", temperature: 0.9, top_k: 5 });
  assert.deepEqual(mock.requests.map((r) => r.path), [
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/messages",
    "/v1/chat/completions",
  ]);
});

Deno.test("SamplingPolicy forces override.sampling_params on every client without only_anthropic", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: { override: { model_name: "big-model", sampling_params: { temperature: 0.9, top_k: 1 } } },
  }));
  for (const route of [OPENAI_PASSTHROUGH, ANTHROPIC_PASSTHROUGH]) {
    const seen = await sendThrough(proxy.url, mock, {
      path: route.clientPath,
      body: route.body("m", { temperature: 0.5, top_k: null }),
    });
    // An explicit null from the client is a value too, and the forced one replaces it.
    assert.deepEqual(pick(seen, ["model", "temperature", "top_k"]), { model: "big-model", temperature: 0.9, top_k: 1 });
  }
  assert.ok(proxy.logs.some((line) => line.includes("Policy: force 'temperature' from 0.5 to 0.9 (override)")));
  assert.ok(proxy.logs.some((line) => line.includes(`Policy: rename 'model' from "m" to "big-model" (override)`)));
});

Deno.test("SamplingPolicy keeps a client's explicit null against defaults", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: { default_sampling_params: { seed: 7, top_k: null }, model_sampling_params: { m: { top_p: null } } },
  }));
  const seen = await sendThrough(proxy.url, mock, {
    path: "/v1/chat/completions",
    body: chatBody("m", { seed: null }),
  });
  // null in a params map means "not set": top_k and top_p are not injected as null.
  assert.deepEqual(pick(seen, ["seed", "top_k", "top_p"]), { seed: null });
});

Deno.test("SamplingPolicy logs each change with the config that made it", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, { config: PRECEDENCE_CONFIG }));
  await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("ruled", { temperature: 0.5 }) });
  const policyLines = proxy.logs.filter((line) => line.includes("Policy:"));
  assert.ok(policyLines.every((line) => /DEBUG \[req-1\] Policy: /.test(line)), policyLines.join("\n"));
  const messages = policyLines.map((line) => line.slice(line.indexOf("Policy:")));
  assert.deepEqual(messages, [
    "Policy: force 'temperature' from 0.5 to 0.8 (rule:ruled)",
    "Policy: default 'top_p' to 0.3 (rule:ruled)",
    "Policy: default 'top_k' to 30 (rule:ruled)",
  ]);
  await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("tuned") });
  const tuned = proxy.logs.filter((line) => line.includes("[req-2] Policy:"));
  assert.deepEqual(tuned.map((line) => line.slice(line.indexOf("Policy:"))), [
    "Policy: force 'temperature' to 0.9 (override)",
    "Policy: default 'top_p' to 0.2 (model_sampling_params)",
    "Policy: default 'top_k' to 20 (model_sampling_params)",
  ]);
  await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("plain") });
  assert.ok(
    proxy.logs.some((line) => line.includes("[req-3] Policy: default 'top_k' to 10 (default_sampling_params)")),
  );
});

Deno.test("SamplingPolicy logs changes at info level with enable_override_logs", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: { ...PRECEDENCE_CONFIG, logging: { enable_override_logs: true } },
  }));
  await sendThrough(proxy.url, mock, { path: "/v1/chat/completions", body: chatBody("plain") });
  assert.ok(proxy.logs.some((line) => /INFO {2}\[req-1\] Policy: force 'temperature' to 0\.9 \(override\)/.test(line)));
});

Deno.test("SamplingPolicy rewrites developer messages to system only with developer_to_system", async () => {
  const messages = [{ role: "developer", content: "Be brief" }, { role: "user", content: "Hi" }];
  for (const developerToSystem of [true, false]) {
    await using mock = await startMockUpstream();
    await using proxy = await startProxy(proxyConfig(mock, {
      config: { override: { developer_to_system: developerToSystem } },
    }));
    const seen = await sendThrough(proxy.url, mock, {
      path: "/v1/chat/completions",
      body: { model: "m", messages },
    });
    const roles = (seen.messages as Array<{ role: string }>).map((message) => message.role);
    assert.deepEqual(roles, [developerToSystem ? "system" : "developer", "user"]);
  }
});

Deno.test("SamplingPolicy leaves an untouched passthrough body byte for byte", async () => {
  await using mock = await startMockUpstream();
  await using proxy = await startProxy(proxyConfig(mock, {
    config: { models: { other: { defaults: { top_k: 1 } } }, default_sampling_params: { top_k: null } },
  }));
  const raw = '{"model":"m",  "messages":[{"role":"user","content":"x"}], "temperature": 0.50}';
  const response = await fetch(`${proxy.url}/v1/chat/completions`, { method: "POST", body: raw });
  await response.body?.cancel();
  assert.equal(mock.requests[0].body, raw);
});
