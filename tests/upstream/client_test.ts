import type { Dialect } from "../../src/protocols/dialect.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { App } from "../../src/app.ts";
import { ProxyError } from "../../src/http/errors.ts";
import { memoryLogger } from "../../src/observability/logger.ts";
import { UpstreamClient, upstreamQuery } from "../../src/upstream/client.ts";

/** The upstream of a one-upstream config with `extra` keys. */
function upstream(extra: Record<string, unknown> = {}) {
  const file = { upstreams: [{ name: "u", base_url: "http://127.0.0.1:9/v1", ...extra }] };
  return parseConfig(JSON.stringify(file), { source: "test", env: {} }).config.upstreams[0];
}

Deno.test("upstreamQuery drops the client's credential parameters when the upstream has a key", () => {
  const keyed = upstream({ api_key: "SECRET" });
  assert.equal(
    upstreamQuery(keyed, "http://h/v1/chat/completions?key=ATTACKER&beta=true&api_key=x&access_token=y"),
    "?beta=true",
  );
  assert.equal(upstreamQuery(keyed, "http://h/v1/chat/completions?key=ATTACKER"), "");
  assert.equal(upstreamQuery(keyed, "http://h/v1/chat/completions"), "");
});

Deno.test("upstreamQuery passes the client's query as sent when the upstream has no key", () => {
  assert.equal(
    upstreamQuery(upstream(), "http://h/v1/chat/completions?key=CLIENT&beta=true#f"),
    "?key=CLIENT&beta=true",
  );
});

Deno.test("upstreamQuery drops every credential name the redactor knows, signature and password included", () => {
  const keyed = upstream({ api_key: "SECRET" });
  assert.equal(upstreamQuery(keyed, "http://h/v1/models?X-Amz-Signature=s&password=p&beta=true"), "?beta=true");
});

/** A server on port 0 that records each request's headers and answers `{}`. */
function recordingServer() {
  const seen: Headers[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(request.headers);
    return Response.json({});
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, [Symbol.asyncDispose]: () => server.shutdown() };
}

Deno.test("UpstreamClient sends the key in the headers the upstream dialect names, and no client credential", async () => {
  await using server = recordingServer();
  const keyed = upstream({ base_url: `${server.url}/v1`, api_key: "sk-upstream" });
  const azureLike: Dialect = {
    ...OPENAI_CHAT,
    auth: {
      adoptCredentials: () => {},
      setCredentials: (headers, key) => key === undefined ? undefined : headers.set("api-key", key),
    },
  };
  const call = new UpstreamClient().prepare(keyed, {
    endpoint: "chat/completions",
    incoming: new Headers({ authorization: "Bearer sk-client" }),
    protocols: { client: azureLike, upstream: azureLike },
  });
  await (await call.send("{}")).reader()?.cancel();
  assert.equal(server.seen[0].get("api-key"), "sk-upstream");
  assert.equal(server.seen[0].get("authorization"), null);
});

Deno.test("UpstreamClient GETs without a body or content type, in the upstream's own protocol", async () => {
  await using server = recordingServer();
  const anthropic = upstream({
    base_url: server.url,
    api_key: "sk-ant",
    supports_openai: false,
    supports_anthropic: true,
  });
  const call = new UpstreamClient().prepare(anthropic, { endpoint: "models", method: "GET" });
  assert.equal(call.url, `${server.url}/v1/models`);
  await (await call.send("ignored")).reader()?.cancel();
  assert.equal(server.seen[0].get("content-type"), null);
  assert.equal(server.seen[0].get("x-api-key"), "sk-ant");
  assert.equal(server.seen[0].get("accept-encoding"), "identity");
});

Deno.test("UpstreamClient refuses a call to an upstream whose api_key_env is unset, naming the variable", () => {
  const file = { upstreams: [{ name: "zai", base_url: "http://127.0.0.1:9/v1", api_key_env: "CLIENT_TEST_UNSET" }] };
  const { config } = parseConfig(JSON.stringify(file), { source: "test", env: {} });
  assert.throws(
    () => new UpstreamClient().prepare(config.upstreams[0], { endpoint: "chat/completions" }),
    (error: unknown) =>
      error instanceof ProxyError && error.status === 401 && /CLIENT_TEST_UNSET is not set/.test(error.message),
  );
});

/** A `fetch` that fails the way a broken client library might: with the key it was given in the message. */
const leakyFetch: typeof fetch = (_input, init) =>
  Promise.reject(new Error(`rejected ${new Headers(init?.headers).get("authorization")?.replace("Bearer ", "")}`));

Deno.test("a configured key in an upstream failure reaches neither the client nor /health", async () => {
  const file = { upstreams: [{ name: "u", base_url: "http://127.0.0.1:9/v1", api_key: "hunter2-local" }] };
  const { config } = parseConfig(JSON.stringify(file), { source: "test", env: {} });
  const app = new App(config, { logger: memoryLogger(), fetch: leakyFetch });
  const response = await app.handler(
    new Request("http://127.0.0.1/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    }),
  );
  assert.equal(response.status, 502);
  const body = await response.text();
  assert.match(body, /rejected \[REDACTED\]/);
  const [probe] = await app.upstreamHealth.probeAll();
  assert.match(probe.lastError ?? "", /rejected \[REDACTED\]/);
  assert.doesNotMatch(`${body} ${probe.lastError}`, /hunter2/);
});
