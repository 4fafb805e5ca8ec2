import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CliOverrides,
  ConfigError,
  formatPath,
  loadConfig,
  type LoadedConfig,
  parseConfig,
} from "../../src/config/load.ts";

/** The body bounds of a config that sets none. */
const BODY_DEFAULTS = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxJsonDepth: 128,
  maxJsonElements: 500_000,
  bodyBudgetBytes: 64 * 1024 * 1024,
  bodyWaitMs: 10_000,
};

/** Parses `file` as the config text of `test.json`, with an empty environment unless one is given. */
function parse(file: unknown, cli: CliOverrides = {}, env: Record<string, string> = {}): LoadedConfig {
  return parseConfig(JSON.stringify(file), { source: "test.json", cli, env });
}

/** Asserts that `run` throws a {@link ConfigError} whose message contains every part of `parts`. */
function assertConfigError(run: () => unknown, parts: string[], name = parts.join(" ")): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `${name}: expected a ConfigError, got ${error}`);
    for (const part of parts) assert.ok(error.message.includes(part), `${name}: "${error.message}" lacks "${part}"`);
    return true;
  });
}

/** Runs `body` in a fresh temporary folder that is removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sampling_proxy_load_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The seed's `config_sample.json` (behaviour.md §3.1): legacy `server` form, null sampling values. */
/** The connection gate's listen defaults (nginx-like timeouts, connection cap sized at start). */
const GATE_DEFAULTS = {
  maxConnections: undefined,
  headerTimeoutSeconds: 60,
  bodyTimeoutSeconds: 60,
  keepAliveTimeoutSeconds: 75,
  shutdownGraceSeconds: 30,
};

const SEED_SAMPLE = {
  server: {
    target_base_url: "http://127.0.0.1:8000",
    sampling_proxy_base_path: "",
    sampling_proxy_host: "0.0.0.0",
    sampling_proxy_port: 8001,
    connect_timeout_seconds: 5.0,
    timeout_seconds: 1200.0,
    supports_openai: true,
    supports_anthropic: true,
  },
  logging: { enable_debug_logs: false, enable_override_logs: false, enable_validation_logs: true },
  default_sampling_params: { top_p: null, min_p: null, top_k: null, repetition_penalty: null, temperature: null },
  override: {
    only_anthropic: false,
    model_name: null,
    sampling_params: { top_p: null, min_p: null, top_k: null, repetition_penalty: null, temperature: null },
  },
  model_sampling_params: {
    sample_model_name: { top_p: null, min_p: null, top_k: null, repetition_penalty: null, temperature: null },
  },
  validation: {
    enabled: false,
    validator_url: "http://127.0.0.1:1235",
    validator_model: "Qwen3.5-4B-UD-Q6_K_XL.gguf",
    supports_openai: true,
    supports_anthropic: true,
    connect_timeout_seconds: 5.0,
    timeout_seconds: 300.0,
    max_retries: 2,
    retry_base_delay_seconds: 1.0,
    retry_multiplier: 2.0,
    mid_stream_validation_enabled: true,
    mid_stream_validation_interval_words: 300,
    confidence_threshold: 0.85,
  },
  parallel_limits: { global: 999, "example-model": 2 },
  throttle: { enabled: false, global: { start_pause_seconds: null, end_pause_seconds: null }, per_model: {} },
};

/** Two upstreams bound by pattern, as in the seed README's multi-upstream example. */
const MULTI = {
  upstreams: [
    { name: "local-openai", base_url: "http://127.0.0.1:8000/v1/" },
    {
      name: "zai-anthropic",
      base_url: "https://api.z.ai/api/anthropic",
      supports_openai: false,
      supports_anthropic: true,
      api_key: "zai-key",
    },
  ],
  model_upstream_binding: { "glm-*": "zai-anthropic", "*": "local-openai" },
};

Deno.test("loadConfig uses the built-in defaults when no path is given and no config.json exists", async () => {
  await withTempDir(async (cwd) => {
    const { config, warnings } = await loadConfig(undefined, { cwd, env: { HOME: "/home/tester" } });
    assert.deepEqual(warnings, []);
    assert.equal(config.source, "defaults");
    assert.deepEqual(config.listen, {
      host: "127.0.0.1",
      port: 8001,
      basePath: "",
      ...BODY_DEFAULTS,
      allowedHosts: [],
      ...GATE_DEFAULTS,
    });
    assert.deepEqual(config.upstreams, [{
      name: "default",
      baseUrl: "http://127.0.0.1:8080/v1",
      api: { root: "http://127.0.0.1:8080/v1", query: "" },
      apiKey: undefined,
      missingKeyEnv: undefined,
      connectTimeoutMs: 5000,
      responseTimeoutMs: 1_200_000,
      idleTimeoutMs: 1_200_000,
      maxDurationMs: 1_800_000,
      maxResponseBytes: 64 * 1024 * 1024,
      maxEventBytes: 4 * 1024 * 1024,
      protocols: ["openai_chat"],
      supportsOpenAI: true,
      supportsAnthropic: false,
      headers: {},
      reasoningStyle: "none",
      defaultMaxTokens: 8192,
      sanitizeToolSchemas: false,
      tokenize: false,
      forwardPaths: [],
    }]);
    assert.deepEqual(config.bindings, [{ pattern: "*", upstream: "default" }]);
    assert.deepEqual(config.parallelLimits, {});
    assert.equal(config.logging.debug, false);
    assert.equal(config.logging.dumpDir, join("/home/tester", ".sampling-proxy", "logs"));
    assert.equal(config.sampling.onlyAnthropic, false);
    assert.equal(config.sampling.overrideModelName, undefined);
    assert.equal(config.sampling.developerToSystem, false);
  });
});

Deno.test("loadConfig reads ./config.json from the working folder when no path is given", async () => {
  await withTempDir(async (cwd) => {
    await Deno.writeTextFile(join(cwd, "config.json"), JSON.stringify({ listen: { port: 9100 } }));
    const { config } = await loadConfig(undefined, { cwd, env: {} });
    assert.equal(config.source, join(cwd, "config.json"));
    assert.equal(config.listen.port, 9100);
  });
});

Deno.test("loadConfig reads the given path and names it as the source", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "proxy.json");
    await Deno.writeTextFile(path, JSON.stringify(MULTI));
    const { config } = await loadConfig(path, { cwd: dir, env: {} });
    assert.equal(config.source, path);
    assert.equal(config.upstreams.length, 2);
  });
});

Deno.test("loadConfig rejects a missing, unreadable or broken file naming the file", async () => {
  await withTempDir(async (dir) => {
    const broken = join(dir, "broken.json");
    await Deno.writeTextFile(broken, '{"listen": {"port": 8001 "host": "x"}}');
    const implicitDir = join(dir, "cwd");
    // A folder named config.json cannot be read as a file, even by root.
    await Deno.mkdir(join(implicitDir, "config.json"), { recursive: true });
    const cases: { name: string; path: string | undefined; cwd?: string; parts: string[] }[] = [
      { name: "missing", path: join(dir, "missing.json"), parts: [join(dir, "missing.json"), "file not found"] },
      { name: "unreadable", path: dir, parts: [`Cannot load config ${dir}:`] },
      { name: "invalid JSON", path: broken, parts: [broken, "invalid JSON", "line 1, column 26"] },
      { name: "unreadable implicit", path: undefined, cwd: implicitDir, parts: [join(implicitDir, "config.json")] },
    ];
    for (const { name, path, cwd, parts } of cases) {
      await assert.rejects(loadConfig(path, { cwd: cwd ?? dir, env: {} }), (error: unknown) => {
        assert.ok(error instanceof ConfigError, name);
        for (const part of parts) {
          assert.ok(error.message.includes(part), `${name}: "${error.message}" lacks "${part}"`);
        }
        return true;
      });
    }
  });
});

Deno.test("parseConfig reads the connection limits and timeouts, fractional seconds included", () => {
  const listen = {
    max_connections: 10,
    header_timeout_seconds: 0.2,
    body_timeout_seconds: 0.3,
    keep_alive_timeout_seconds: 0.4,
    shutdown_grace_seconds: 0,
  };
  const { config } = parse({ listen });
  assert.equal(config.listen.maxConnections, 10);
  assert.equal(config.listen.headerTimeoutSeconds, 0.2);
  assert.equal(config.listen.bodyTimeoutSeconds, 0.3);
  assert.equal(config.listen.keepAliveTimeoutSeconds, 0.4);
  assert.equal(config.listen.shutdownGraceSeconds, 0);
  assertConfigError(() => parse({ listen: { header_timeout_seconds: 0 } }), ["listen.header_timeout_seconds"]);
});

Deno.test("parseConfig wraps the legacy server form into one upstream", () => {
  const { config, warnings } = parse({
    server: {
      target_base_url: "https://api.z.ai/api/anthropic/",
      supports_openai: false,
      supports_anthropic: true,
      connect_timeout_seconds: 2.5,
      timeout_seconds: 600,
      sampling_proxy_host: "0.0.0.0",
      sampling_proxy_port: 9000,
      sampling_proxy_base_path: "/proxy/",
    },
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.upstreams.length, 1);
  const [upstream] = config.upstreams;
  assert.equal(upstream.name, "default");
  assert.equal(upstream.baseUrl, "https://api.z.ai/api/anthropic");
  assert.equal(upstream.supportsOpenAI, false);
  assert.equal(upstream.supportsAnthropic, true);
  assert.equal(upstream.connectTimeoutMs, 2500);
  assert.equal(upstream.idleTimeoutMs, 600_000);
  assert.equal(upstream.responseTimeoutMs, 600_000);
  assert.deepEqual(config.bindings, [{ pattern: "*", upstream: "default" }]);
  assert.deepEqual(config.listen, {
    host: "0.0.0.0",
    port: 9000,
    basePath: "/proxy",
    ...BODY_DEFAULTS,
    allowedHosts: [],
    ...GATE_DEFAULTS,
  });
});

Deno.test("parseConfig keeps the seed's legacy default upstream URL when server omits target_base_url", () => {
  const { config } = parse({ server: { sampling_proxy_port: 9001 } });
  assert.equal(config.upstreams[0].baseUrl, "http://127.0.0.1:8000/v1");
  assert.equal(config.listen.port, 9001);
});

Deno.test("parseConfig loads the seed's config_sample.json unchanged and without warnings", () => {
  const { config, warnings } = parse(SEED_SAMPLE);
  assert.deepEqual(warnings, []);
  assert.equal(config.upstreams[0].baseUrl, "http://127.0.0.1:8000");
  assert.equal(config.upstreams[0].supportsAnthropic, true);
  assert.equal(config.listen.host, "0.0.0.0");
  assert.equal(config.listen.port, 8001);
  assert.equal(config.listen.basePath, "");
  assert.equal(config.logging.validation, true);
  assert.equal(config.sampling.overrideModelName, undefined);
  assert.deepEqual(config.sampling.defaultParams, SEED_SAMPLE.default_sampling_params);
  assert.deepEqual(config.sampling.modelParams, SEED_SAMPLE.model_sampling_params);
  assert.deepEqual(config.parallelLimits, { global: 999, "example-model": 2 });
  assert.deepEqual(config.throttle, {
    enabled: false,
    global: { startPauseSeconds: null, endPauseSeconds: null },
    perModel: {},
  });
  assert.deepEqual(config.validation, {
    enabled: false,
    localDetection: true,
    holdBackChars: 256,
    maxRetries: 2,
    retryBaseDelaySeconds: 1,
    retryMultiplier: 2,
    retrySampling: {},
    onExhausted: "truncate",
    midStreamValidationEnabled: true,
    midStreamValidationIntervalWords: 300,
    validatorModel: "Qwen3.5-4B-UD-Q6_K_XL.gguf",
    confidenceThreshold: 0.85,
  });
});

Deno.test("parseConfig loads the seed's z.ai sample (Anthropic-only upstream)", () => {
  const { config, warnings } = parse({
    server: { target_base_url: "https://api.z.ai/api/anthropic", supports_openai: false, supports_anthropic: true },
    validation: { enabled: true, mid_stream_validation_enabled: true, max_retries: 2 },
    parallel_limits: { global: 2, "glm-4.5-air": 5, "glm-4.6": 3, "glm-5-Turbo": 1 },
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.upstreams[0].supportsOpenAI, false);
  assert.equal(config.parallelLimits["glm-5-Turbo"], 1);
});

Deno.test("parseConfig builds the multi-upstream form with bindings in config order", () => {
  const { config, warnings } = parse(MULTI);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.upstreams.map((u) => [u.name, u.baseUrl, u.apiKey]), [
    ["local-openai", "http://127.0.0.1:8000/v1", undefined],
    ["zai-anthropic", "https://api.z.ai/api/anthropic", "zai-key"],
  ]);
  assert.deepEqual(config.bindings, [
    { pattern: "glm-*", upstream: "zai-anthropic" },
    { pattern: "*", upstream: "local-openai" },
  ]);
});

Deno.test("parseConfig applies per-upstream and override settings", () => {
  const { config } = parse({
    upstreams: [{
      name: "vllm",
      base_url: "http://gpu:8000",
      timeout_seconds: 30,
      response_timeout_seconds: 90,
      connect_timeout_seconds: 1,
      headers: { "x-team": "a" },
      reasoning_style: "chat_template_kwargs",
      default_max_tokens: 4096,
      sanitize_tool_schemas: true,
      tokenize: true,
    }],
    override: { developer_to_system: true },
  });
  const [upstream] = config.upstreams;
  assert.equal(upstream.idleTimeoutMs, 30_000);
  assert.equal(upstream.responseTimeoutMs, 90_000);
  assert.equal(upstream.connectTimeoutMs, 1000);
  assert.deepEqual(upstream.headers, { "x-team": "a" });
  assert.equal(upstream.reasoningStyle, "chat_template_kwargs");
  assert.equal(upstream.defaultMaxTokens, 4096);
  assert.equal(upstream.sanitizeToolSchemas, true);
  assert.equal(upstream.tokenize, true);
  assert.equal(config.sampling.developerToSystem, true);
});

Deno.test("parseConfig binds every model to the first upstream and warns when bindings are missing", () => {
  const { config, warnings } = parse({ upstreams: MULTI.upstreams });
  assert.deepEqual(config.bindings, [{ pattern: "*", upstream: "local-openai" }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /model_upstream_binding is not set.*"local-openai"/);
});

Deno.test("parseConfig warns that server.target_base_url is ignored next to upstreams", () => {
  const { config, warnings } = parse({ ...MULTI, server: { target_base_url: "http://other:1" } });
  assert.equal(config.upstreams.length, 2);
  assert.deepEqual(warnings, ["server.target_base_url is ignored because upstreams is set"]);
});

Deno.test("parseConfig reads api_key_env from the env option", () => {
  const file = {
    upstreams: [{ name: "zai", base_url: "https://api.z.ai/api/anthropic", api_key_env: "ZAI_TEST_KEY" }],
  };
  const { config } = parse(file, {}, { ZAI_TEST_KEY: "secret-from-env" });
  assert.equal(config.upstreams[0].apiKey, "secret-from-env");
});

Deno.test("parseConfig rejects every kind of bad file with the file, the JSON path and the problem", () => {
  const upstream = { name: "a", base_url: "http://127.0.0.1:8080" };
  const cases: { name: string; text: string; parts: string[] }[] = [
    {
      name: "invalid JSON",
      text: '{\n  "listen": {"port": 8001 "host": "x"}\n}',
      parts: ["invalid JSON", "line 2, column 27: comma expected"],
    },
    { name: "invalid JSON token", text: '{"listen": }', parts: ["invalid JSON", "line 1, column 12: value expected"] },
    { name: "empty file", text: "", parts: ["invalid JSON"] },
    { name: "top-level array", text: "[]", parts: ["the top level must be an object"] },
    { name: "top-level null", text: "null", parts: ["the top level must be an object"] },
    {
      name: "wrong type",
      text: JSON.stringify({ listen: { port: "8001" } }),
      parts: ['listen.port: expected an integer from 0 to 65535, received "8001"'],
    },
    {
      name: "wrong nested type",
      text: JSON.stringify({ models: { "qwen*": { max_tokens_cap: -1 } } }),
      parts: ['models["qwen*"].max_tokens_cap'],
    },
    {
      name: "unknown upstream in a binding",
      text: JSON.stringify({ upstreams: [upstream], model_upstream_binding: { "glm-*": "zai" } }),
      parts: ['model_upstream_binding["glm-*"]', 'unknown upstream "zai"', "upstreams: a"],
    },
    {
      name: "duplicate upstream names",
      text: JSON.stringify({ upstreams: [upstream, { ...upstream, base_url: "http://other" }] }),
      parts: ["upstreams[1].name", 'duplicate upstream name "a"'],
    },
    {
      name: "bad URL",
      text: JSON.stringify({ upstreams: [{ name: "a", base_url: "127.0.0.1:8080" }] }),
      parts: ['upstreams[0].base_url: expected an http or https URL, received "127.0.0.1:8080"'],
    },
    {
      name: "bad legacy URL",
      text: JSON.stringify({ server: { target_base_url: "ftp://h" } }),
      parts: ['server.target_base_url: expected an http or https URL, received "ftp://h"'],
    },
    {
      name: "both supports_* false",
      text: JSON.stringify({ upstreams: [{ ...upstream, supports_openai: false, supports_anthropic: false }] }),
      parts: ["upstreams[0]:", "supports_openai and supports_anthropic cannot both be false"],
    },
    {
      name: "legacy both supports_* false",
      text: JSON.stringify({ server: { supports_openai: false, supports_anthropic: false } }),
      parts: ["server:", "cannot both be false"],
    },
    {
      name: "api_key and api_key_env",
      text: JSON.stringify({ upstreams: [{ ...upstream, api_key: "k", api_key_env: "K" }] }),
      parts: ["upstreams[0]:", "not both"],
    },
    {
      name: "base path with a query",
      text: JSON.stringify({ listen: { base_path: "/proxy?x=1" } }),
      parts: ["listen.base_path", "is not a path"],
    },
    {
      name: "every problem at once",
      text: JSON.stringify({ listen: { port: 70000 }, upstreams: [{ name: "", base_url: "http://h" }] }),
      parts: [
        "listen.port: expected an integer from 0 to 65535, received 70000; ",
        'upstreams[0].name: expected a non-empty string, received ""',
      ],
    },
    {
      name: "unknown key next to a real error",
      text: JSON.stringify({ listen: { prot: 1, port: -1 } }),
      parts: ["listen.port"],
    },
  ];
  for (const { name, text, parts } of cases) {
    assertConfigError(() => parseConfig(text, { source: "bad.json", env: {} }), [
      "Cannot load config bad.json: ",
      ...parts,
    ], name);
  }
});

Deno.test("parseConfig warns about an unset or empty api_key_env variable and marks only that upstream", () => {
  for (const env of [{}, { EMPTY_KEY: "" }] as Record<string, string>[]) {
    const { config, warnings } = parse(
      {
        upstreams: [
          { name: "a", base_url: "http://h", api_key_env: "EMPTY_KEY" },
          { name: "b", base_url: "http://g", api_key_env: "B_KEY" },
        ],
        model_upstream_binding: { "*": "a" },
      },
      {},
      { ...env, B_KEY: "kb" },
    );
    assert.equal(config.upstreams[0].apiKey, undefined);
    assert.equal(config.upstreams[0].missingKeyEnv, "EMPTY_KEY");
    assert.equal(config.upstreams[1].apiKey, "kb");
    assert.equal(config.upstreams[1].missingKeyEnv, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^upstreams\[0\]\.api_key_env: environment variable EMPTY_KEY is not set; .*"a".*401/);
  }
});

Deno.test("parseConfig loads the shipped config_sample.json without its upstream keys set", async () => {
  const text = await Deno.readTextFile(new URL("../../config_sample.json", import.meta.url));
  const { config, warnings } = parseConfig(text, { source: "config_sample.json", env: {} });
  const zai = config.upstreams.find((u) => u.missingKeyEnv !== undefined);
  assert.equal(zai?.missingKeyEnv, "ZAI_API_KEY");
  assert.deepEqual(warnings.filter((w) => !w.includes("ZAI_API_KEY")), []);
});

Deno.test("parseConfig turns nested unknown keys into warnings naming them and the nearest key, and still loads", () => {
  const { config, warnings } = parse({
    listen: { port: 9000, prot: 1 },
    upstreams: [{ name: "a", base_url: "http://h", tiemout: 3, foo: 1 }],
    models: { "qwen*": { frce: { temperature: 1 } } },
    throttle: { per_model: { m: { start_pause_seconds: 1, extra: true } } },
  });
  assert.equal(config.listen.port, 9000);
  assert.equal(config.upstreams[0].name, "a");
  assert.deepEqual(Object.keys(config.sampling.rules), ["qwen*"]);
  assert.equal(config.sampling.rules["qwen*"].force, undefined);
  assert.deepEqual(config.throttle.perModel, { m: { startPauseSeconds: 1, endPauseSeconds: 0 } });
  assert.deepEqual(warnings.toSorted(), [
    'Unknown key "extra" in throttle.per_model.m (ignored)',
    'Unknown key "frce" (did you mean "force"?) in models["qwen*"] (ignored)',
    'Unknown key "prot" (did you mean "port"?) in listen (ignored)',
    'Unknown keys "tiemout", "foo" in upstreams[0] (ignored)',
  ]);
});

Deno.test("parseConfig rejects an unknown top-level key, naming the nearest known one", () => {
  const upstream = [{ name: "a", base_url: "http://h" }];
  assertConfigError(() => parse({ upstream }), ['Unknown key "upstream" (did you mean "upstreams"?) in the top level']);
  assertConfigError(() => parse({ colour: "blue" }), ['Unknown key "colour" in the top level']);
  assertConfigError(() => parse({ enforced_sampling_params: { temperature: 1 } }), [
    'Unknown key "enforced_sampling_params" (now override.sampling_params) in the top level',
  ]);
});

Deno.test("parseConfig accepts JSONC: comments and trailing commas, as in the README", () => {
  const text = `{
    // The local llama-server.
    "upstreams": [
      { "name": "a", "base_url": "http://h:8080/v1", /* own key */ "api_key": "k", },
    ],
  }`;
  const { config, warnings } = parseConfig(text, { source: "test.jsonc", env: {} });
  assert.deepEqual(warnings, []);
  assert.equal(config.upstreams[0].baseUrl, "http://h:8080/v1");
  assert.equal(config.upstreams[0].apiKey, "k");
});

Deno.test("parseConfig gives CLI flags precedence over the file and the file over the defaults", () => {
  const file = {
    listen: { host: "10.0.0.1", port: 9000, base_path: "/file" },
    upstreams: MULTI.upstreams,
    model_upstream_binding: { "*": "local-openai" },
    override: { sampling_params: { temperature: 0.1, top_k: 5 }, model_name: "file-model" },
    parallel_limits: { global: 2, "glm-*": 1 },
  };
  const fileOnly = parse(file).config;
  assert.deepEqual([fileOnly.listen.host, fileOnly.listen.port, fileOnly.listen.basePath], ["10.0.0.1", 9000, "/file"]);
  const cli: CliOverrides = {
    host: "0.0.0.0",
    port: 0,
    basePath: "cli/",
    targets: [{ name: "zai-anthropic", url: "https://open.bigmodel.cn/api/anthropic" }],
    bindings: { "glm-*": "zai-anthropic", "*": "local-openai" },
    forceParams: { temperature: 0.6 },
    overrideModelName: "cli-model",
    onlyAnthropic: true,
    parallelLimits: { "qwen*": 3 },
    debug: true,
    overrideLogs: true,
  };
  const { config } = parse(file, cli);
  assert.deepEqual(config.listen, {
    host: "0.0.0.0",
    port: 0,
    basePath: "/cli",
    ...BODY_DEFAULTS,
    allowedHosts: [],
    ...GATE_DEFAULTS,
  });
  assert.deepEqual(config.upstreams.map((u) => u.baseUrl), [
    "http://127.0.0.1:8000/v1",
    "https://open.bigmodel.cn/api/anthropic",
  ]);
  assert.deepEqual(config.bindings.map((b) => b.pattern), ["glm-*", "*"]);
  assert.deepEqual(config.sampling.forceParams, { temperature: 0.6 });
  assert.equal(config.sampling.overrideModelName, "cli-model");
  assert.equal(config.sampling.onlyAnthropic, true);
  assert.deepEqual(config.parallelLimits, { "qwen*": 3 });
  assert.equal(config.logging.debug, true);
  assert.equal(config.logging.overrides, true);
});

Deno.test("parseConfig lets CLI listen flags override the legacy server keys", () => {
  const file = {
    server: { sampling_proxy_host: "0.0.0.0", sampling_proxy_port: 9000, sampling_proxy_base_path: "/a" },
  };
  const cases: { cli: CliOverrides; want: [string, number, string] }[] = [
    { cli: {}, want: ["0.0.0.0", 9000, "/a"] },
    { cli: { port: 7000 }, want: ["0.0.0.0", 7000, "/a"] },
    { cli: { host: "::1" }, want: ["::1", 9000, "/a"] },
    { cli: { basePath: "" }, want: ["0.0.0.0", 9000, ""] },
  ];
  for (const { cli, want } of cases) {
    const { listen } = parse(file, cli).config;
    assert.deepEqual([listen.host, listen.port, listen.basePath], want, JSON.stringify(cli));
  }
});

Deno.test("parseConfig replaces the only upstream's URL with a bare --target-base-url", () => {
  const cases: { name: string; file: Record<string, unknown>; wantName: string }[] = [
    { name: "defaults", file: {}, wantName: "default" },
    {
      name: "legacy",
      file: { server: { target_base_url: "http://old:1", supports_anthropic: true } },
      wantName: "default",
    },
    { name: "one upstream", file: { upstreams: [{ name: "solo", base_url: "http://old:1" }] }, wantName: "solo" },
  ];
  for (const { name, file, wantName } of cases) {
    const { config, warnings } = parse(file, { targets: [{ url: "http://new:2/v1" }] });
    assert.deepEqual(warnings, [], name);
    assert.deepEqual(config.upstreams.map((u) => [u.name, u.baseUrl]), [[wantName, "http://new:2/v1"]], name);
  }
  const legacy = parse({ server: { target_base_url: "http://old:1", supports_anthropic: true, timeout_seconds: 9 } }, {
    targets: [{ url: "http://new:2" }],
  }).config.upstreams[0];
  assert.equal(legacy.supportsAnthropic, true, "the legacy settings stay");
  assert.equal(legacy.idleTimeoutMs, 9000, "the legacy settings stay");
});

Deno.test("parseConfig rejects a bare --target-base-url when there are several upstreams", () => {
  assertConfigError(
    () => parse(MULTI, { targets: [{ url: "http://new:2" }] }),
    ["--target-base-url http://new:2 is ambiguous with 2 upstreams", "local-openai, zai-anthropic"],
  );
});

Deno.test("parseConfig replaces a named upstream's URL or adds an upstream with name=URL", () => {
  const { config } = parse(MULTI, {
    targets: [{ name: "zai-anthropic", url: "https://other/api/anthropic" }, { name: "extra", url: "http://x:3" }],
  });
  assert.deepEqual(config.upstreams.map((u) => [u.name, u.baseUrl]), [
    ["local-openai", "http://127.0.0.1:8000/v1"],
    ["zai-anthropic", "https://other/api/anthropic"],
    ["extra", "http://x:3"],
  ]);
  const zai = config.upstreams[1];
  assert.equal(zai.apiKey, "zai-key", "the other settings of a replaced upstream stay");
  assert.equal(zai.supportsAnthropic, true, "the other settings of a replaced upstream stay");
  assert.equal(config.upstreams[2].supportsOpenAI, true, "an added upstream gets the defaults");
  assert.equal(config.upstreams[2].connectTimeoutMs, 5000, "an added upstream gets the defaults");
});

Deno.test("parseConfig adds a named --target-base-url next to the legacy upstream", () => {
  const { config } = parse({ server: { target_base_url: "http://old:1" } }, {
    targets: [{ name: "zai", url: "https://api.z.ai/api/anthropic" }],
    bindings: { "glm-*": "zai", "*": "default" },
  });
  assert.deepEqual(config.upstreams.map((u) => [u.name, u.baseUrl]), [
    ["default", "http://old:1"],
    ["zai", "https://api.z.ai/api/anthropic"],
  ]);
  assert.deepEqual(config.bindings.map((b) => b.upstream), ["zai", "default"]);
});

Deno.test("parseConfig checks CLI bindings against the upstreams", () => {
  assertConfigError(() => parse(MULTI, { bindings: { "*": "nowhere" } }), [
    "test.json",
    'model_upstream_binding["*"]',
    'unknown upstream "nowhere"',
  ]);
});

Deno.test("parseConfig normalises the base path", () => {
  const cases: { input: string; want: string }[] = [
    { input: "", want: "" },
    { input: "/", want: "" },
    { input: "///", want: "" },
    { input: "proxy", want: "/proxy" },
    { input: "/proxy/", want: "/proxy" },
    { input: " /proxy ", want: "/proxy" },
    { input: "/a/b/", want: "/a/b" },
    { input: "//proxy//", want: "/proxy" },
    { input: "/a//b", want: "/a/b" },
  ];
  for (const { input, want } of cases) {
    assert.equal(parse({ listen: { base_path: input } }).config.listen.basePath, want, JSON.stringify(input));
    assert.equal(parse({}, { basePath: input }).config.listen.basePath, want, `--base-path ${JSON.stringify(input)}`);
  }
  for (const input of ["/a b", "/a#b", "/a?b"]) {
    assertConfigError(() => parse({ listen: { base_path: input } }), ["listen.base_path", "is not a path"], input);
  }
  assertConfigError(
    () => parse({ server: { sampling_proxy_base_path: "/a b" } }),
    ['server.sampling_proxy_base_path: "/a b" is not a path'],
  );
});

Deno.test("parseConfig expands ~ in logging.dump_dir from the env option's home", () => {
  const { config } = parse({ logging: { dump_dir: "~/dumps", dump_max_bytes: 1024 } }, {}, { HOME: "/home/tester" });
  assert.equal(config.logging.dumpDir, join("/home/tester", "dumps"));
  assert.equal(config.logging.dumpMaxBytes, 1024);
});

Deno.test("parseConfig returns a deeply frozen config", () => {
  const { config } = parse(MULTI);
  for (
    const part of [config, config.listen, config.upstreams, config.upstreams[1], config.bindings[0], config.sampling]
  ) {
    assert.ok(Object.isFrozen(part));
  }
  assert.throws(() => {
    (config.listen as { port: number }).port = 1;
  }, TypeError);
});

Deno.test("formatPath writes JSON paths the way a user reads them", () => {
  const cases: { path: PropertyKey[]; want: string }[] = [
    { path: [], want: "(top level)" },
    { path: ["listen", "port"], want: "listen.port" },
    { path: ["upstreams", 0, "base_url"], want: "upstreams[0].base_url" },
    { path: ["models", "qwen*", "force"], want: 'models["qwen*"].force' },
    { path: ["parallel_limits", "glm-4.7"], want: 'parallel_limits["glm-4.7"]' },
    { path: ["glm-4.7"], want: '["glm-4.7"]' },
  ];
  for (const { path, want } of cases) assert.equal(formatPath(path), want);
});

Deno.test("parseConfig warns about a base_url ending in an endpoint path or with a doubled /v1", () => {
  const { warnings } = parse({
    upstreams: [
      { name: "a", base_url: "http://h:8080/v1/chat/completions" },
      { name: "b", base_url: "http://h:8081/v1/v1?key=secret" },
      { name: "c", base_url: "http://h:8082/v1" },
    ],
    model_upstream_binding: { "*": "a" },
  });
  assert.equal(warnings.length, 2);
  assert.match(
    warnings[0],
    /^upstreams\[0\]\.base_url: http:\/\/h:8080\/v1\/chat\/completions ends in the endpoint path/,
  );
  assert.match(
    warnings[1],
    /^upstreams\[1\]\.base_url: http:\/\/h:8081\/v1\/v1\?key=\*\*\* has a doubled version segment/,
  );
});

Deno.test("parseConfig defaults max_body_bytes to 16 MiB and keeps the body budget at least one body", () => {
  assert.equal(parseConfig("{}").config.listen.maxBodyBytes, 16 * 1024 * 1024);
  const { config } = parseConfig(JSON.stringify({ listen: { max_body_bytes: 100_000_000, body_budget_bytes: 1000 } }));
  assert.equal(config.listen.bodyBudgetBytes, 100_000_000);
});

Deno.test("parseConfig collects client keys from auth.keys, auth.keys_env and auth.keys_file", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "# team keys\nfile-key-1\n\n  file-key-2  \nkey-a\n");
    const { config } = parseConfig(
      JSON.stringify({ auth: { keys: ["key-a"], keys_env: "PROXY_KEYS", keys_file: file } }),
      { env: { PROXY_KEYS: " env-key-1, env-key-2 ,," } },
    );
    assert.deepEqual(config.auth.keys, ["key-a", "env-key-1", "env-key-2", "file-key-1", "file-key-2"]);
    assert.deepEqual(parseConfig("{}").config.auth.keys, []);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("parseConfig rejects an unset auth.keys_env, a missing auth.keys_file and sources without keys", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ keys_env: "NOPE" }, /auth\.keys_env: environment variable NOPE is not set/],
    [{ keys_file: "/nonexistent/keys.txt" }, /auth\.keys_file: cannot read \/nonexistent\/keys\.txt: file not found/],
    [{ keys_env: "BLANK" }, /auth\.keys_env: environment variable BLANK is not set/],
    [{ keys_env: "COMMAS" }, /auth: the configured key sources hold no key/],
  ];
  for (const [auth, pattern] of cases) {
    assert.throws(
      () => parseConfig(JSON.stringify({ auth }), { env: { BLANK: " ", COMMAS: ",," } }),
      (error: unknown) => error instanceof ConfigError && pattern.test(error.message),
      JSON.stringify(auth),
    );
  }
});

Deno.test("upstream protocols: the list is taken in order, the legacy booleans map to it", () => {
  const { config } = parse({
    upstreams: [
      { name: "both", base_url: "http://127.0.0.1:8000/v1", protocols: ["anthropic_messages", "openai_chat"] },
      { name: "legacy", base_url: "http://127.0.0.1:8001/v1", supports_openai: false, supports_anthropic: true },
      { name: "legacy-both", base_url: "http://127.0.0.1:8002/v1", supports_anthropic: true },
      { name: "plain", base_url: "http://127.0.0.1:8003/v1" },
    ],
  });
  assert.deepEqual(config.upstreams.map((upstream) => upstream.protocols), [
    ["anthropic_messages", "openai_chat"],
    ["anthropic_messages"],
    ["openai_chat", "anthropic_messages"],
    ["openai_chat"],
  ]);
  assert.equal(config.upstreams[0].supportsAnthropic, true);
  assert.equal(config.upstreams[1].supportsOpenAI, false);
});

Deno.test("upstream protocols: an unknown protocol name is a config error naming it", () => {
  assertConfigError(
    () => parse({ upstreams: [{ name: "u", base_url: "http://127.0.0.1:8000/v1", protocols: ["openai"] }] }),
    ["protocols"],
  );
});

Deno.test("parseConfig resolves each per-model queue bound over the queue's own", () => {
  const { config } = parse({ queue: { max_waiting: 5, per_model: { "glm-*": { timeout_seconds: 9 } } } });
  assert.deepEqual(config.queue, {
    maxWaiting: 5,
    timeoutSeconds: 300,
    status: 429,
    perModel: { "glm-*": { maxWaiting: 5, timeoutSeconds: 9 } },
  });
});
