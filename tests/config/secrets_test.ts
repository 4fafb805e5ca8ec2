import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { configSecrets } from "../../src/config/secrets.ts";

Deno.test("configSecrets lists every configured credential and nothing else", () => {
  const { config } = parseConfig(
    JSON.stringify({
      upstreams: [
        { name: "a", base_url: "https://a.test/v1?key=url-key-1&alt=sse", api_key: "api-key-1" },
        {
          name: "b",
          base_url: "https://b.test",
          api_key_env: "B_KEY",
          headers: { "x-goog-api-key": "hdr-key", "x-trace": "1" },
        },
        { name: "c", base_url: "https://c.test", headers: { Authorization: "Bearer hdr-bearer" } },
      ],
      model_upstream_binding: { "*": "a" },
      validation: {
        enabled: true,
        validator_api_key_env: "JUDGE",
        validator_url: "http://v.test/v1?api_key=judge-url-key",
      },
      auth: { keys: ["client-key-1"] },
    }),
    { env: { B_KEY: "env-key-1", JUDGE: "judge-key" } },
  );
  const secrets = configSecrets(config);
  assert.deepEqual(secrets.sort(), [
    "api-key-1",
    "client-key-1",
    "env-key-1",
    "hdr-bearer",
    "hdr-key",
    "judge-key",
    "judge-url-key",
    "url-key-1",
  ]);
});
