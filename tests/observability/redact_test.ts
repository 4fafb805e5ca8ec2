import assert from "node:assert/strict";
import { Redactor, redactSecrets } from "../../src/observability/redact.ts";

Deno.test("redactSecrets masks every kind of secret it knows", () => {
  const cases: [string, string][] = [
    ["Authorization: Bearer abc.def.ghi", "Authorization: Bearer [REDACTED]"],
    ["authorization: Basic dXNlcjpwYXNz", "authorization: Basic [REDACTED]"],
    ["Proxy-Authorization: Bearer tok123456", "Proxy-Authorization: Bearer [REDACTED]"],
    ["Authorization: plainsecretvalue", "Authorization: [REDACTED]"],
    ['{"authorization":"Bearer xyz123456789"}', '{"authorization":"Bearer [REDACTED]"}'],
    ["curl -H 'Authorization: Bearer tok_123456789' url", "curl -H 'Authorization: Bearer [REDACTED]' url"],
    ["token is Bearer abcdefghijkl now", "token is Bearer [REDACTED] now"],
    ["x-api-key: secret-value", "x-api-key: [REDACTED]"],
    ['"x-api-key": "secret123"', '"x-api-key": "[REDACTED]"'],
    ["api-key=abc123&foo=1", "api-key=[REDACTED]&foo=1"],
    ["x-goog-api-key: AIzaSyA1", "x-goog-api-key: [REDACTED]"],
    ["api_key: 'hunter2'", "api_key: '[REDACTED]'"],
    ["https://h/v1/models?key=AIza123&alt=sse", "https://h/v1/models?key=[REDACTED]&alt=sse"],
    ["GET /v1?alt=sse&key=AIza123 HTTP/1.1", "GET /v1?alt=sse&key=[REDACTED] HTTP/1.1"],
    ["/cb?access_token=abc&x=1", "/cb?access_token=[REDACTED]&x=1"],
    ["key sk-ant-api03-abcdefghijklmnop end", "key sk-ant-[REDACTED] end"],
    ["key sk-proj-ABCDEFGHIJKLMNOPQRST end", "key sk-proj-[REDACTED] end"],
    ["key sk-1234567890abcdefgh end", "key sk-[REDACTED] end"],
    ["google AIzaSyD-abcdefghijklmnop_123 end", "google AIza[REDACTED] end"],
    ["gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 end", "gh ghp_[REDACTED] end"],
    ["gh github_pat_11ABCDEFG0123456789_abcdefghijkl end", "gh github_pat_[REDACTED] end"],
    ["slack xoxb-123456789012-abcdefghij end", "slack xoxb-[REDACTED] end"],
    ["slack xoxp-1234-5678-abcdefghijkl", "slack xoxp-[REDACTED]"],
    ["GET /v1?token=abc123 HTTP/1.1", "GET /v1?token=[REDACTED] HTTP/1.1"],
  ];
  for (const [input, want] of cases) assert.equal(redactSecrets(input), want, input);
});

Deno.test("redactSecrets leaves ordinary text alone", () => {
  const texts = [
    "sk-learn is a library",
    "the api key is set in the environment",
    "Set validator_api_key_env to the variable name",
    "A bearer of good news",
    "monkey=banana&turkey=1",
  ];
  for (const text of texts) assert.equal(redactSecrets(text), text);
});

Deno.test("redactSecrets is idempotent", () => {
  const once = redactSecrets("Authorization: Bearer abc.def.ghi x-api-key: k ?key=v sk-ant-abcdefghijklmnopqr");
  assert.equal(redactSecrets(once), once);
});

Deno.test("Redactor masks the configured values wherever they appear, raw or URL-encoded, longest first", () => {
  const redactor = new Redactor(["local-key", "local-key-long", "p@ss/word+1", ""]);
  const cases: [string, string][] = [
    ["upstream said: bad key local-key-long!", "upstream said: bad key [REDACTED]!"],
    ["http://h:1/v1?k=local-key&x=1", "http://h:1/v1?k=[REDACTED]&x=1"],
    ["url http://h/v1?secret=p%40ss%2Fword%2B1 failed", "url http://h/v1?secret=[REDACTED] failed"],
    ["raw p@ss/word+1 here", "raw [REDACTED] here"],
    ["nothing secret here", "nothing secret here"],
  ];
  for (const [input, want] of cases) assert.equal(redactor.redact(input), want, input);
  assert.equal(redactor.redact("Authorization: Bearer zzz"), "Authorization: Bearer [REDACTED]", "patterns too");
});

Deno.test("Redactor.with adds values and keeps the ones it had", () => {
  const redactor = new Redactor(["first-secret"]).with(["second-secret"]);
  assert.equal(redactor.redact("first-secret second-secret"), "[REDACTED] [REDACTED]");
  assert.equal(new Redactor().redact("first-secret"), "first-secret");
});
