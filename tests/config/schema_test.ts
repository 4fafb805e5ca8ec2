import assert from "node:assert/strict";
import { configFileSchema, configJsonSchema, upstreamEntrySchema } from "../../src/config/schema.ts";

Deno.test("upstreamEntrySchema fills in every upstream default", () => {
  const result = upstreamEntrySchema.validate({ name: "local", base_url: "http://127.0.0.1:8080" });
  assert.ok(result.ok);
  assert.deepEqual(result.value, {
    name: "local",
    base_url: "http://127.0.0.1:8080",
    connect_timeout_seconds: 5,
    timeout_seconds: 1200,
    max_duration_seconds: 1800,
    max_response_bytes: 64 * 1024 * 1024,
    max_event_bytes: 4 * 1024 * 1024,
    supports_openai: true,
    supports_anthropic: false,
    headers: {},
    reasoning_style: "none",
    default_max_tokens: 8192,
    sanitize_tool_schemas: false,
    tokenize: false,
    forward_paths: [],
  });
});

Deno.test("upstreamEntrySchema rejects bad upstream values at their key", () => {
  const cases: { name: string; entry: Record<string, unknown>; key: string }[] = [
    { name: "empty name", entry: { name: "", base_url: "http://h" }, key: "name" },
    { name: "non-http URL", entry: { name: "a", base_url: "ftp://h" }, key: "base_url" },
    { name: "not a URL", entry: { name: "a", base_url: "localhost:8080" }, key: "base_url" },
    { name: "zero timeout", entry: { name: "a", base_url: "http://h", timeout_seconds: 0 }, key: "timeout_seconds" },
    { name: "string flag", entry: { name: "a", base_url: "http://h", supports_openai: "yes" }, key: "supports_openai" },
    {
      name: "unknown style",
      entry: { name: "a", base_url: "http://h", reasoning_style: "loud" },
      key: "reasoning_style",
    },
    { name: "header not string", entry: { name: "a", base_url: "http://h", headers: { x: 1 } }, key: "headers" },
    { name: "empty api_key", entry: { name: "a", base_url: "http://h", api_key: "" }, key: "api_key" },
  ];
  for (const { name, entry, key } of cases) {
    const result = upstreamEntrySchema.validate(entry);
    assert.ok(!result.ok, name);
    assert.equal(result.problems[0].path[0], key, name);
  }
});

Deno.test("configFileSchema accepts the multi-upstream form from the seed's README", () => {
  const result = configFileSchema.validate({
    listen: { host: "0.0.0.0", port: 8001, base_path: "" },
    upstreams: [
      { name: "local-openai", base_url: "http://127.0.0.1:8000/v1", supports_anthropic: false },
      { name: "zai-anthropic", base_url: "https://api.z.ai/api/anthropic", supports_openai: false },
    ],
    model_upstream_binding: { "glm-*": "zai-anthropic", "*": "local-openai" },
  });
  assert.ok(result.ok);
  assert.equal(result.value.upstreams?.[1].supports_anthropic, false);
  assert.deepEqual(Object.keys(result.value.model_upstream_binding ?? {}), ["glm-*", "*"]);
});

Deno.test("configFileSchema accepts null sampling values and null pauses", () => {
  const result = configFileSchema.validate({
    default_sampling_params: { temperature: null, top_k: 20 },
    model_sampling_params: { m: { top_p: null } },
    override: { model_name: null, sampling_params: { min_p: null } },
    throttle: { global: { start_pause_seconds: null, end_pause_seconds: null } },
  });
  assert.ok(result.ok);
});

Deno.test("configFileSchema reports unknown keys apart with their parent path and leaves them out", () => {
  const result = configFileSchema.validate({
    listen: { prot: 1 },
    upstreams: [{ name: "a", base_url: "http://h", x: 1 }],
  });
  assert.deepEqual(result.unknownKeys.map(({ path, keys }) => ({ path, keys })), [
    { path: ["listen"], keys: ["prot"] },
    { path: ["upstreams", 0], keys: ["x"] },
  ]);
  assert.ok(result.unknownKeys[0].known.includes("port"));
  assert.ok(result.ok);
  assert.ok(!("prot" in result.value.listen));
  assert.equal(result.value.listen.port, 8001);
  assert.ok(!("x" in (result.value.upstreams?.[0] ?? {})));
});

Deno.test("configFileSchema rejects values outside their range", () => {
  const cases: { name: string; file: Record<string, unknown>; path: PropertyKey[] }[] = [
    { name: "port too big", file: { listen: { port: 65536 } }, path: ["listen", "port"] },
    { name: "fractional port", file: { listen: { port: 80.5 } }, path: ["listen", "port"] },
    { name: "empty upstreams", file: { upstreams: [] }, path: ["upstreams"] },
    { name: "zero limit", file: { parallel_limits: { global: 0 } }, path: ["parallel_limits", "global"] },
    { name: "queue status 500", file: { queue: { status: 500 } }, path: ["queue", "status"] },
    {
      name: "negative pause",
      file: { throttle: { global: { end_pause_seconds: -1 } } },
      path: [
        "throttle",
        "global",
        "end_pause_seconds",
      ],
    },
    {
      name: "threshold above 1",
      file: { validation: { confidence_threshold: 1.5 } },
      path: [
        "validation",
        "confidence_threshold",
      ],
    },
    {
      name: "binding to a number",
      file: { model_upstream_binding: { "*": 1 } },
      path: ["model_upstream_binding", "*"],
    },
    {
      name: "forward path without a leading slash",
      file: { upstreams: [{ name: "u", base_url: "http://h", forward_paths: ["v1/batches"] }] },
      path: ["upstreams", 0, "forward_paths", 0],
    },
    { name: "CORS origin with a path", file: { cors: { origins: ["http://a/b"] } }, path: ["cors", "origins", 0] },
    {
      name: "CORS origin without scheme",
      file: { cors: { origins: ["localhost:3000"] } },
      path: ["cors", "origins", 0],
    },
    { name: "empty allowed host", file: { listen: { allowed_hosts: [""] } }, path: ["listen", "allowed_hosts", 0] },
  ];
  for (const { name, file, path } of cases) {
    const result = configFileSchema.validate(file);
    assert.ok(!result.ok, name);
    assert.deepEqual(result.problems[0].path, path, name);
  }
});

Deno.test("configJsonSchema describes the file for editors with an id and the draft", () => {
  const schema = configJsonSchema();
  assert.equal(schema.$id, "https://github.com/sampling-proxy/sampling-proxy/config.schema.json");
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  const properties = schema.properties as Record<string, { description?: string }>;
  for (const key of ["listen", "upstreams", "model_upstream_binding", "server", "parallel_limits", "throttle"]) {
    assert.ok(key in properties, key);
  }
  assert.match(properties.model_upstream_binding.description ?? "", /exact names first/);
});

Deno.test("configJsonSchema matches the committed config.schema.json", async () => {
  const committed = JSON.parse(await Deno.readTextFile(new URL("../../config.schema.json", import.meta.url)));
  assert.deepEqual(committed, configJsonSchema(), "run `deno task schema` to regenerate config.schema.json");
});
