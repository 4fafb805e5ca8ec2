import assert from "node:assert/strict";
import { DEFAULT_FORWARDED, isForwarded, matchesForwardPath } from "../../src/routing/forward_paths.ts";

Deno.test("isForwarded allows the default inference endpoints under /v1 only", () => {
  for (const endpoint of DEFAULT_FORWARDED) assert.ok(isForwarded(`/v1/${endpoint}`, []), endpoint);
  for (
    const path of ["/v1/fine_tuning/jobs", "/v1/batches", "/v1/organization/admin_api_keys", "/v1/slots/0", "/v1/files"]
  ) {
    assert.equal(isForwarded(path, []), false, path);
  }
});

Deno.test("matchesForwardPath takes exact paths, * within a segment and ** across segments", () => {
  const cases: [string, string, boolean][] = [
    ["/v1/batches", "/v1/batches", true],
    ["/v1/batches/", "/v1/batches", true],
    ["/v1/batches", "/v1/batches/b1", false],
    ["/v1/files/*", "/v1/files/f1", true],
    ["/v1/files/*", "/v1/files/f1/content", false],
    ["/v1/files/**", "/v1/files/f1/content", true],
    ["/v1/*/jobs", "/v1/fine_tuning/jobs", true],
    ["/v1/a.b", "/v1/aXb", false],
    ["/v1/(x)+", "/v1/(x)+", true],
  ];
  for (const [pattern, path, expected] of cases) {
    assert.equal(matchesForwardPath(pattern, path), expected, `${pattern} ~ ${path}`);
  }
  assert.ok(isForwarded("/v1/batches", ["/v1/files/*", "/v1/batches"]));
});
