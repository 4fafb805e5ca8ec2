import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { upstreamQuery } from "../../src/upstream/client.ts";

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
