/**
 * End-to-end with a real browser: headless Chromium loads an attacker's page (another local port, or a name mapped
 * to loopback as after DNS rebinding) that calls the proxy every way a page can without the user's help. The proxy
 * must refuse each call before any upstream sees it, and serve an origin listed in `cors.origins` with a working
 * preflight. Skipped when no Chromium is installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Attack, type Observations, startAttackPage } from "../support/attack_page.ts";
import { findChromium, loadPage } from "../support/headless_chromium.ts";
import { DEFAULT_REPLY_TEXT } from "../support/mock_reply_plan.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { startProxy } from "../support/proxy_server.ts";
import { proxyConfig, waitUntil } from "./harness.ts";

const chromium = findChromium();
if (chromium === undefined) {
  console.warn("tests/e2e/browser_test.ts skipped: no Chromium on PATH (install chromium or set CHROMIUM_BIN)");
}

/** One request as it reached the proxy, with the proxy's answer. */
interface Arrival {
  /** The `?via=` tag of the attempt. */
  via: string;
  method: string;
  status: number;
  /** The request's `Origin` header. */
  origin: string | null;
  /** The error message of a refusal. */
  message?: string;
}

/** Options of {@linkcode attack}. */
interface AttackOptions {
  /** What the page tries, in this order. */
  attacks: readonly Attack[];
  /** The proxy's `cors.origins`, given the page's origin. @default none */
  corsOrigins?: (pageOrigin: string) => string[];
  /** The name the page and the proxy are reached by; a name needs `hostResolverRules`. @default 127.0.0.1 */
  hostname?: string;
  /** Chromium's `--host-resolver-rules`. */
  hostResolverRules?: string;
}

/** What one browser run left: the page's observations, the requests at the proxy and the mock upstream. */
interface AttackOutcome {
  page: Observations;
  arrivals: Arrival[];
  mock: MockUpstream;
}

/** Reads the error message of a refusal body in either protocol shape. */
async function refusalMessage(response: Response): Promise<string> {
  const body = await response.clone().json();
  return String(body.error?.message ?? "");
}

/**
 * Starts a mock upstream, the attack page and a proxy that records every request it answers; loads the page in
 * Chromium; waits until every attack reached the proxy (a refused preflight stands for its request); then hands the
 * outcome to `check`.
 */
async function attack(options: AttackOptions, check: (outcome: AttackOutcome) => void): Promise<void> {
  const hostname = options.hostname ?? "127.0.0.1";
  await using mock = await startMockUpstream();
  await using page = await startAttackPage({ attacks: options.attacks });
  const arrivals: Arrival[] = [];
  const messages: Promise<void>[] = [];
  const onResponse = (request: Request, response: Response) => {
    const via = new URL(request.url).searchParams.get("via") ?? "";
    const origin = request.headers.get("origin");
    const arrival: Arrival = { via, method: request.method, status: response.status, origin };
    arrivals.push(arrival);
    if (response.status === 403) messages.push(refusalMessage(response).then((text) => void (arrival.message = text)));
  };
  const origins = options.corsOrigins?.(`http://${hostname}:${page.port}`) ?? [];
  await using proxy = await startProxy(proxyConfig(mock, { config: { cors: { origins } } }), {}, { onResponse });
  const target = `http://${hostname}:${new URL(proxy.url).port}`;
  const url = `http://${hostname}:${page.port}/?proxy=${encodeURIComponent(target)}`;
  const load = await loadPage(chromium ?? "", url, { hostResolverRules: options.hostResolverRules });
  assert.ok(page.observations, `The page reported nothing; Chromium said:\n${load.stderr.slice(-2000)}`);
  assert.equal(page.observations.pageError, undefined, "the page's script broke");
  assert.match(load.dom, /<pre id="observations">\{/, "the page wrote its observations before load");
  await waitUntil(
    () => options.attacks.every((via) => arrivals.some((arrival) => arrival.via === via)),
    `requests ${options.attacks.join(", ")} at the proxy (got ${JSON.stringify(arrivals)})`,
  );
  await Promise.all(messages);
  check({ page: page.observations, arrivals, mock });
}

Deno.test({
  name: "a page on another local port reaches no upstream by fetch (sandboxed too), preflight, form, beacon or GET",
  ignore: chromium === undefined,
  fn: () =>
    attack(
      { attacks: ["simple", "sandboxed", "json", "form", "beacon", "models"] },
      ({ page, arrivals, mock }) => {
        assert.match(page.simple ?? "", /^TypeError/, "the page cannot read the refusal");
        assert.match(page.sandboxed ?? "", /^TypeError/);
        assert.match(page.json ?? "", /^TypeError/);
        assert.equal(page.beacon, "queued");
        assert.deepEqual(
          arrivals.map(({ via, method, status }) => `${method} ${via} ${status}`).sort(),
          [
            "GET models 403",
            "OPTIONS json 403",
            "POST beacon 403",
            "POST form 403",
            "POST sandboxed 403",
            "POST simple 403",
          ],
          "the preflight is refused, so the JSON POST is never sent; the no-cors GET (no Origin) by Sec-Fetch-Site",
        );
        assert.equal(arrivals.find(({ via }) => via === "sandboxed")?.origin, "null", "an opaque origin");
        for (const arrival of arrivals) assert.match(arrival.message ?? "", /cors\.origins/, arrival.via);
        assert.equal(mock.requests.length, 0);
      },
    ),
});

Deno.test({
  name: "a page whose origin is in cors.origins gets its preflights answered and reads answers, streamed or not",
  ignore: chromium === undefined,
  fn: () =>
    attack(
      { attacks: ["json", "stream"], corsOrigins: (pageOrigin) => [pageOrigin] },
      ({ page, arrivals, mock }) => {
        assert.equal(page.json, `status 200: ${DEFAULT_REPLY_TEXT}`);
        assert.equal(page.stream, `status 200, streamed: ${DEFAULT_REPLY_TEXT} [DONE]`);
        assert.deepEqual(arrivals.map(({ via, method, status }) => `${method} ${via} ${status}`), [
          "OPTIONS json 204",
          "POST json 200",
          "OPTIONS stream 204",
          "POST stream 200",
        ]);
        assert.equal(mock.requests.length, 2);
      },
    ),
});

Deno.test({
  name: "a page on a rebound name (evil.test → 127.0.0.1) is refused by the Host check, even for a GET without Origin",
  ignore: chromium === undefined,
  fn: () =>
    attack(
      {
        attacks: ["simple", "json", "form", "beacon", "models"],
        hostname: "evil.test",
        hostResolverRules: "MAP evil.test 127.0.0.1",
        // Even a user who allowed the page's origin is protected: the Host check comes first.
        corsOrigins: (pageOrigin) => [pageOrigin],
      },
      ({ page, arrivals, mock }) => {
        assert.equal(page.models, "response type opaque");
        assert.equal(arrivals.find(({ via }) => via === "models")?.origin, null, "only the Host check can stop it");
        assert.deepEqual(
          arrivals.map(({ via, method, status }) => `${method} ${via} ${status}`).sort(),
          ["GET models 403", "OPTIONS json 403", "POST beacon 403", "POST form 403", "POST simple 403"],
        );
        for (const arrival of arrivals) assert.match(arrival.message ?? "", /listen\.allowed_hosts/, arrival.via);
        assert.equal(mock.requests.length, 0);
      },
    ),
});
