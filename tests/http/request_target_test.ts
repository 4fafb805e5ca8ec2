import assert from "node:assert/strict";
import { ProxyError } from "../../src/http/errors.ts";
import { parseHostHeader, pathSegments, rawPath, routePath } from "../../src/http/request_target.ts";

/** Asserts that `run` throws a 400 ProxyError. */
function assertBadRequest(run: () => unknown, what: string): void {
  assert.throws(run, (error: unknown) => error instanceof ProxyError && error.status === 400, what);
}

Deno.test("parseHostHeader splits host and port and lower-cases the host", () => {
  assert.deepEqual(parseHostHeader("LocalHost:8001"), { hostname: "localhost", port: "8001" });
  assert.deepEqual(parseHostHeader("127.0.0.1"), { hostname: "127.0.0.1", port: "" });
  assert.deepEqual(parseHostHeader("[::1]:8001"), { hostname: "[::1]", port: "8001" });
  assert.deepEqual(parseHostHeader("[::1]"), { hostname: "[::1]", port: "" });
});

Deno.test("parseHostHeader refuses a Host that is not host[:port]", () => {
  for (const host of ["x/v1/models?", "a b", "a@b", "a#b", "", "[::1", "a:80:80", "a:123456"]) {
    assertBadRequest(() => parseHostHeader(host), host);
  }
});

Deno.test("rawPath reads the path of an absolute URL without its query or fragment", () => {
  assert.equal(rawPath("http://h:1/v1/models?x=1"), "/v1/models");
  assert.equal(rawPath("http://h:1/v1/%2e%2e/x#f"), "/v1/%2e%2e/x");
  assert.equal(rawPath("http://h:1"), "/");
});

Deno.test("pathSegments decodes each segment and drops empty ones", () => {
  assert.deepEqual(pathSegments("/v1/models/Qwen%2FQwen3-8B"), ["v1", "models", "Qwen/Qwen3-8B"]);
  assert.deepEqual(pathSegments("//v1/chat/completions/"), ["v1", "chat", "completions"]);
  assert.deepEqual(pathSegments("/"), []);
});

Deno.test("pathSegments refuses dot segments, malformed escapes, backslashes and NUL", () => {
  for (
    const path of [
      "/v1/../slots/0",
      "/v1/./chat/completions",
      "/v1/%2e%2e/slots/0",
      "/v1/%2E%2E/slots/0",
      "/v1/.%2e/slots/0",
      "/v1/%2e/chat/completions",
      "/v1/%ZZ",
      "/%",
      "/v1/a%5c..",
      "/v1/a%00",
    ]
  ) {
    assertBadRequest(() => pathSegments(path), path);
  }
});

Deno.test("routePath re-encodes segments and refuses an encoded slash", () => {
  assert.equal(routePath(["v1", "chat", "completions"]), "/v1/chat/completions");
  assert.equal(routePath([]), "/");
  assert.equal(routePath(["v1", "files", "a?key=x#y"]), "/v1/files/a%3Fkey%3Dx%23y");
  assertBadRequest(() => routePath(["v1", "../slots"]), "..%2F");
  assertBadRequest(() => routePath(["v1", "a/b"]), "a%2Fb");
});
