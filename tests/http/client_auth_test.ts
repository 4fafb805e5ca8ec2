import assert from "node:assert/strict";
import { authStartupProblem, ClientAuth } from "../../src/http/client_auth.ts";
import { ProxyError } from "../../src/http/errors.ts";

function get(headers: Record<string, string>): Request {
  return new Request("http://proxy.test/v1/models", { headers });
}

Deno.test("ClientAuth without keys authorizes every request and leaves it untouched", async () => {
  const request = get({ authorization: "Bearer client-key" });
  const access = await new ClientAuth([]).check(request, "/v1/models");
  assert.equal(access.authorized, true);
  assert.equal(access.request, request);
});

Deno.test("ClientAuth accepts a configured key in any of the three headers and removes the credentials", async () => {
  const auth = new ClientAuth(["k-one", "k-two"]);
  const forms: Record<string, string>[] = [{ authorization: "Bearer k-two" }, { authorization: "bearer  k-one " }, {
    "x-api-key": "k-one",
  }, {
    "api-key": "k-two",
  }, { authorization: "Bearer wrong", "x-api-key": "k-two" }];
  for (const headers of forms) {
    const access = await auth.check(get({ ...headers, "x-trace": "1" }), "/v1/models");
    assert.equal(access.authorized, true, JSON.stringify(headers));
    assert.deepEqual([...access.request.headers], [["x-trace", "1"]], JSON.stringify(headers));
  }
});

Deno.test("ClientAuth rejects a missing, wrong, prefixed or truncated key with 401 outside the health routes", async () => {
  const auth = new ClientAuth(["k-one"]);
  const forms: Record<string, string>[] = [{}, { authorization: "Bearer k-on" }, { authorization: "Bearer k-one2" }, {
    authorization: "k-one",
  }, {
    "x-api-key": "K-ONE",
  }];
  for (const headers of forms) {
    await assert.rejects(auth.check(get(headers), "/v1/chat/completions"), (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.deepEqual([error.status, error.kind, error.code], [401, "authentication", "invalid_api_key"]);
      assert.equal(error.headers["www-authenticate"], 'Bearer realm="sampling-proxy"');
      return true;
    }, JSON.stringify(headers));
    await assert.rejects(auth.check(get(headers), undefined), ProxyError, "a path outside the base path too");
    for (const path of ["/", "/health"]) assert.equal((await auth.check(get(headers), path)).authorized, false);
  }
});

Deno.test("authStartupProblem refuses --require-auth and non-loopback binds without keys unless --insecure-no-auth", () => {
  const cases: [string, boolean, boolean, boolean, RegExp | undefined][] = [
    ["127.0.0.1", false, false, false, undefined],
    ["localhost", false, false, false, undefined],
    ["::1", false, false, false, undefined],
    ["127.0.0.1", false, true, false, /--require-auth is given but no client key is configured/],
    ["127.0.0.1", true, true, false, undefined],
    ["127.0.0.1", false, true, true, undefined],
    ["0.0.0.0", false, false, false, /listening on 0\.0\.0\.0 lets anyone .*--insecure-no-auth/],
    ["192.168.1.5", false, false, false, /listening on 192\.168\.1\.5/],
    ["0.0.0.0", true, false, false, undefined],
    ["0.0.0.0", false, false, true, undefined],
  ];
  for (const [host, hasKeys, requireAuth, insecureNoAuth, want] of cases) {
    const problem = authStartupProblem({ host, hasKeys, requireAuth, insecureNoAuth });
    const label = JSON.stringify({ host, hasKeys, requireAuth, insecureNoAuth });
    if (want === undefined) assert.equal(problem, undefined, label);
    else assert.match(problem ?? "", want, label);
  }
});
