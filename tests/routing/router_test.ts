import assert from "node:assert/strict";
import type { Binding, UpstreamConfig } from "../../src/config/config.ts";
import { parseConfig } from "../../src/config/load.ts";
import { ProxyError } from "../../src/http/errors.ts";
import { Router } from "../../src/routing/router.ts";

/** Upstreams with default settings and the given names, as the config loader builds them. */
function upstreams(...names: string[]): readonly UpstreamConfig[] {
  const file = { upstreams: names.map((name) => ({ name, base_url: `http://${name}:8080/v1` })) };
  return parseConfig(JSON.stringify(file), { env: {} }).config.upstreams;
}

/** A router over upstreams `local`, `zai` and `vllm` with `bindings` given as [pattern, upstream] pairs. */
function router(bindings: [string, string][]): Router {
  const list: Binding[] = bindings.map(([pattern, name]) => ({ pattern, upstream: name }));
  return new Router(upstreams("local", "zai", "vllm"), list);
}

Deno.test("Router routes a model to the upstream of the first matching binding", () => {
  const r = router([["glm-4*", "zai"], ["glm-*", "vllm"], ["*", "local"]]);
  const cases: { model: string; upstream: string; pattern: string }[] = [
    { model: "glm-4.7", upstream: "zai", pattern: "glm-4*" },
    { model: "glm-5", upstream: "vllm", pattern: "glm-*" },
    { model: "qwen3-8b", upstream: "local", pattern: "*" },
    { model: "", upstream: "local", pattern: "*" },
  ];
  for (const { model, upstream: name, pattern } of cases) {
    const route = r.route(model);
    assert.deepEqual([route.upstream.name, route.pattern], [name, pattern], model);
  }
});

Deno.test("Router prefers an exact name over globs that come before it", () => {
  const r = router([["glm-*", "zai"], ["*", "vllm"], ["glm-5", "local"]]);
  assert.equal(r.route("glm-5").upstream.name, "local");
  assert.equal(r.route("glm-5").pattern, "glm-5");
  assert.equal(r.route("glm-5.1").upstream.name, "zai");
});

Deno.test("Router tries globs in config order, so a catch-all first shadows later globs", () => {
  const r = router([["*", "local"], ["glm-*", "zai"]]);
  assert.equal(r.route("glm-5").upstream.name, "local");
});

Deno.test("Router returns the configured upstream object", () => {
  const configured = upstreams("local", "zai");
  const r = new Router(configured, [{ pattern: "*", upstream: "zai" }]);
  assert.equal(r.route("m").upstream, configured[1]);
});

Deno.test("Router matches case-sensitively", () => {
  const r = router([["GLM-5", "zai"], ["qwen*", "vllm"]]);
  assert.equal(r.route("GLM-5").upstream.name, "zai");
  for (const model of ["glm-5", "Qwen3"]) assert.throws(() => r.route(model), ProxyError, model);
});

Deno.test("Router answers 400 naming the model and the patterns tried when nothing matches", () => {
  const r = router([["glm-*", "zai"], ["qwen3", "local"]]);
  assert.throws(() => r.route("llama-3"), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.equal(error.status, 400);
    assert.equal(error.kind, "invalid_request");
    assert.equal(error.message, 'No upstream is bound to model "llama-3" (patterns tried: "glm-*", "qwen3")');
    return true;
  });
});

Deno.test("Router says no patterns were tried when there are no bindings", () => {
  assert.throws(() => router([]).route("m"), /\(patterns tried: none\)$/);
});

Deno.test("Router rejects a binding to an unknown upstream", () => {
  assert.throws(() => router([["*", "nowhere"]]), {
    name: "TypeError",
    message: 'Binding "*" names unknown upstream "nowhere"',
  });
});

Deno.test('Router.catchAll gives the upstream of the "*" binding, not of another glob', () => {
  const r = router([["glm-*", "zai"], ["*", "vllm"], ["**", "local"]]);
  assert.deepEqual([r.catchAll().upstream.name, r.catchAll().pattern], ["vllm", "*"]);
});

Deno.test('Router.catchAll answers 400 when no "*" binding exists', () => {
  const r = router([["glm-*", "zai"], ["**", "local"]]);
  assert.throws(() => r.catchAll(), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.equal(error.status, 400);
    assert.match(error.message, /no "\*" binding/);
    return true;
  });
});
