/**
 * End-to-end: what clients and logs see when things fail. Errors never echo an upstream's URL, address or port
 * (nor the key in its query), and every log line is redacted and escaped.
 */

import { postJson } from "../support/http.ts";
import { closedPort } from "../support/black_hole.ts";
import assert from "node:assert/strict";
import { startProxy } from "../support/proxy_server.ts";

const URL_KEY = "AIzaUrlKeyValue0123456789";
const API_KEY = "plain-upstream-key-42";

Deno.test("an unreachable keyed upstream: client bodies name it, never its URL, port or keys; logs never show the keys", async () => {
  const port = closedPort();
  const baseUrl = `http://127.0.0.1:${port}/v1?key=${URL_KEY}`;
  await using proxy = await startProxy({
    upstreams: [
      { name: "keyed", base_url: baseUrl, supports_anthropic: true, api_key: API_KEY },
      { name: "tok", base_url: `http://127.0.0.1:${port}/v1?key=${URL_KEY}`, tokenize: true, api_key: API_KEY },
    ],
    model_upstream_binding: { "tok-*": "tok", "*": "keyed" },
  });
  const calls: { path: string; body: unknown; anthropic: boolean }[] = [
    {
      path: "/v1/chat/completions",
      body: { model: "m", messages: [{ role: "user", content: "x" }] },
      anthropic: false,
    },
    {
      path: "/v1/messages",
      body: { model: "m", max_tokens: 8, messages: [{ role: "user", content: "x" }] },
      anthropic: true,
    },
    {
      path: "/v1/messages/count_tokens",
      body: { model: "m", messages: [{ role: "user", content: "x" }] },
      anthropic: true,
    },
    { path: "/v1/embeddings", body: { model: "m", input: "x" }, anthropic: false },
  ];
  for (const call of calls) {
    const response = await postJson(`${proxy.url}${call.path}`, call.body);
    const text = await response.text();
    assert.equal(response.status, 502, `${call.path}: ${text}`);
    const json = JSON.parse(text);
    assert.equal(json.error.message, 'Upstream "keyed" could not be reached: connection refused', call.path);
    if (call.anthropic) assert.equal(json.type, "error");
    for (const secret of [URL_KEY, API_KEY, String(port), "127.0.0.1", "http://"]) {
      assert.equal(text.includes(secret), false, `${call.path} body shows ${secret}: ${text}`);
    }
  }
  const models = await fetch(`${proxy.url}/v1/models`);
  assert.equal(models.status, 200);
  await models.body?.cancel();
  const counted = await postJson(`${proxy.url}/v1/messages/count_tokens`, {
    model: "tok-m",
    messages: [{ role: "user", content: "x" }],
  });
  assert.equal(counted.status, 200, "a failed tokenize falls back to the local estimate");
  await counted.body?.cancel();

  const logs = proxy.logs.join("\n");
  assert.match(logs, /Model list of upstream "keyed" skipped: .*connection refused/);
  assert.match(logs, /Tokenize on upstream "tok" failed \(.*connection refused\)/);
  assert.match(logs, /reason="Upstream \\"keyed\\" could not be reached: connection refused"/);
  // Logs are the operator's: they may name the URL called (issue 10.17), but never with its keys.
  for (const secret of [URL_KEY, API_KEY, baseUrl]) {
    assert.equal(logs.includes(secret), false, `logs show ${secret}:\n${logs}`);
  }
});

Deno.test("model names with newlines and terminal escapes are written escaped, one record per line", async () => {
  await using proxy = await startProxy({ upstreams: [{ name: "down", base_url: `http://127.0.0.1:${closedPort()}` }] });
  const model = "evil\n2026-01-01T00:00:00.000Z INFO  [req-9] forged\x1b[2J\u2028";
  const response = await postJson(`${proxy.url}/v1/chat/completions`, { model, messages: [] });
  await response.body?.cancel();
  const line = proxy.logs.find((entry) => entry.includes("model=evil"));
  assert.ok(line, proxy.logs.join("\n"));
  assert.ok(line.includes("model=evil\\n2026-01-01T00:00:00.000Z INFO  [req-9] forged\\x1b[2J\\u2028"), line);
  for (const entry of proxy.logs) {
    for (const raw of ["\n", "\r", "\x1b", "\u2028"]) assert.equal(entry.includes(raw), false, entry);
  }
});
