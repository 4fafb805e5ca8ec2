import assert from "node:assert/strict";
import { BrowserGuard, type BrowserGuardOptions } from "../../src/http/browser_guard.ts";
import { ProxyError } from "../../src/http/errors.ts";

const DEFAULTS: BrowserGuardOptions = { boundHost: "127.0.0.1", allowedHosts: [], corsOrigins: [] };

/** The status `admit` throws for `headers`, or "ok" with the returned origin. */
function admit(headers: Record<string, string>, options: Partial<BrowserGuardOptions> = {}): number | string {
  try {
    return `ok ${new BrowserGuard({ ...DEFAULTS, ...options }).admit(new Headers(headers)) ?? "-"}`;
  } catch (error) {
    if (error instanceof ProxyError) return error.status;
    throw error;
  }
}

Deno.test("BrowserGuard accepts loopback names, IP addresses, the bound host and listen.allowed_hosts", () => {
  for (
    const host of ["localhost:8001", "LOCALHOST", "127.0.0.1:1", "[::1]:8001", "app.localhost", "192.168.1.5:8001"]
  ) {
    assert.equal(admit({ host }), "ok -", host);
  }
  assert.equal(admit({ host: "proxy.lan:8001" }, { boundHost: "proxy.lan" }), "ok -");
  assert.equal(admit({ host: "Box.Example:8001" }, { allowedHosts: ["box.example"] }), "ok -");
  assert.equal(admit({}), "ok -");
});

Deno.test("BrowserGuard refuses a foreign Host with 403 and a malformed one with 400", () => {
  assert.equal(admit({ host: "rebind.attacker.example:8001" }), 403);
  assert.equal(admit({ host: "localhost.attacker.example" }), 403);
  assert.equal(admit({ host: "x/v1/models?" }), 400);
});

Deno.test("BrowserGuard refuses an Origin that cors.origins does not list", () => {
  assert.equal(admit({ host: "localhost", origin: "https://evil.example" }), 403);
  assert.equal(admit({ host: "localhost", origin: "null" }), 403);
  const corsOrigins = ["http://localhost:3000"];
  assert.equal(
    admit({ host: "localhost", origin: "http://localhost:3000" }, { corsOrigins }),
    "ok http://localhost:3000",
  );
  assert.equal(admit({ host: "localhost", origin: "http://localhost:3001" }, { corsOrigins }), 403);
});

Deno.test("BrowserGuard refuses a page's no-cors request that has no Origin but Sec-Fetch-Site of another site", () => {
  assert.equal(admit({ host: "localhost", "sec-fetch-site": "cross-site" }), 403);
  assert.equal(admit({ host: "localhost", "sec-fetch-site": "same-site" }), 403);
  // Typed into the address bar, or sent by an SDK or curl: no Origin, and no other site behind it.
  assert.equal(admit({ host: "localhost", "sec-fetch-site": "none" }), "ok -");
  assert.equal(admit({ host: "localhost" }), "ok -");
});

Deno.test("BrowserGuard answers preflights and decorates responses only with cors.origins set", async () => {
  const guard = new BrowserGuard({ ...DEFAULTS, corsOrigins: ["http://localhost:3000"] });
  const preflight = guard.preflight(
    new Headers({ "access-control-request-headers": "content-type, x-api-key" }),
    "http://localhost:3000",
  );
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:3000");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, POST");
  assert.equal(preflight.headers.get("access-control-allow-headers"), "content-type, x-api-key");
  const decorated = guard.decorate(new Response("x"), "http://localhost:3000");
  assert.equal(decorated.headers.get("access-control-allow-origin"), "http://localhost:3000");
  assert.equal(decorated.headers.get("vary"), "origin");
  const noOrigin = guard.decorate(new Response("x"), undefined);
  assert.equal(noOrigin.headers.get("access-control-allow-origin"), null);
  assert.equal(noOrigin.headers.get("vary"), "origin");
  const plain = new BrowserGuard(DEFAULTS).decorate(new Response("x"), undefined);
  assert.equal(plain.headers.get("vary"), null);
  for (const response of [preflight, decorated, noOrigin, plain]) await response.body?.cancel();
});
