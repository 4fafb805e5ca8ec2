import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import { clientResponseHeaders, type UpstreamHeaderOptions, upstreamRequestHeaders } from "../../src/http/headers.ts";

/** The headers as a plain object with lower-case names, for whole-object comparison. */
function plain(headers: Headers): Record<string, string> {
  return Object.fromEntries(headers);
}

const OPENAI_PASSTHROUGH: UpstreamHeaderOptions = { client: OPENAI_CHAT, upstream: OPENAI_CHAT };
const ANTHROPIC_PASSTHROUGH: UpstreamHeaderOptions = { client: ANTHROPIC_MESSAGES, upstream: ANTHROPIC_MESSAGES };
const ANTHROPIC_TO_OPENAI: UpstreamHeaderOptions = { client: ANTHROPIC_MESSAGES, upstream: OPENAI_CHAT };
const OPENAI_TO_ANTHROPIC: UpstreamHeaderOptions = { client: OPENAI_CHAT, upstream: ANTHROPIC_MESSAGES };

Deno.test("upstreamRequestHeaders drops hop-by-hop, proxy, cookie and host headers", () => {
  const incoming = new Headers({
    connection: "keep-alive, X-Trace-Hop",
    "keep-alive": "timeout=5",
    "transfer-encoding": "chunked",
    te: "trailers",
    trailer: "x-checksum",
    upgrade: "h2c",
    host: "proxy.local:8001",
    "content-length": "123",
    cookie: "session=1",
    "accept-encoding": "gzip, br",
    "content-encoding": "gzip",
    "proxy-authorization": "Basic abc",
    "proxy-connection": "keep-alive",
    "x-trace-hop": "1",
    "x-request-id": "req-1",
    accept: "text/event-stream",
  });
  assert.deepEqual(plain(upstreamRequestHeaders(incoming, OPENAI_PASSTHROUGH)), {
    accept: "text/event-stream",
    "content-type": "application/json",
    "x-request-id": "req-1",
  });
});

Deno.test("upstreamRequestHeaders forwards Anthropic and SDK headers on passthrough", () => {
  const incoming = new Headers({
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "interleaved-thinking-2025-05-14",
    "x-stainless-lang": "js",
    "x-stainless-retry-count": "0",
    "user-agent": "claude-cli/2.0",
    "x-api-key": "sk-client",
    "content-type": "application/json; charset=utf-8",
  });
  assert.deepEqual(plain(upstreamRequestHeaders(incoming, ANTHROPIC_PASSTHROUGH)), {
    "anthropic-beta": "interleaved-thinking-2025-05-14",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
    "user-agent": "claude-cli/2.0",
    "x-api-key": "sk-client",
    "x-stainless-lang": "js",
    "x-stainless-retry-count": "0",
  });
});

/** Client headers that carry or qualify a credential or claim a hop, as a client might send them. */
const CLIENT_CREDENTIALS = {
  authorization: "Bearer sk-client",
  "x-api-key": "sk-client",
  "api-key": "azure-client",
  "x-goog-api-key": "AIza-client",
  "openai-organization": "org-client",
  "openai-project": "proj-client",
  forwarded: "for=203.0.113.9",
  "x-forwarded-for": "203.0.113.9",
  "x-forwarded-host": "evil.example",
  "x-real-ip": "203.0.113.9",
};

Deno.test("upstreamRequestHeaders sends only the upstream's key when it has one", () => {
  const incoming = new Headers({ ...CLIENT_CREDENTIALS, "user-agent": "sdk/1", cookie: "session=1" });
  assert.deepEqual(plain(upstreamRequestHeaders(incoming, { ...OPENAI_PASSTHROUGH, apiKey: "sk-ours" })), {
    authorization: "Bearer sk-ours",
    "content-type": "application/json",
    "user-agent": "sdk/1",
  });
  assert.deepEqual(plain(upstreamRequestHeaders(incoming, { ...ANTHROPIC_PASSTHROUGH, apiKey: "sk-ours" })), {
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
    "user-agent": "sdk/1",
    "x-api-key": "sk-ours",
  });
});

Deno.test("upstreamRequestHeaders keeps the client's credentials when the upstream has no key", () => {
  const incoming = new Headers({ authorization: "Bearer sk-client" });
  assert.equal(upstreamRequestHeaders(incoming, OPENAI_PASSTHROUGH).get("authorization"), "Bearer sk-client");
});

Deno.test("upstreamRequestHeaders strips anthropic-* headers when converting to OpenAI", () => {
  const incoming = new Headers({
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "tools-2024-04-04",
    "anthropic-dangerous-direct-browser-access": "true",
    "x-stainless-lang": "js",
    "user-agent": "Anthropic/JS 0.60",
  });
  assert.deepEqual(plain(upstreamRequestHeaders(incoming, ANTHROPIC_TO_OPENAI)), {
    "content-type": "application/json",
    "user-agent": "Anthropic/JS 0.60",
    "x-stainless-lang": "js",
  });
});

Deno.test("upstreamRequestHeaders replaces the client's credentials with the upstream's key", () => {
  const incoming = new Headers({ authorization: "Bearer sk-client", "x-api-key": "sk-client", "api-key": "sk-client" });
  const cases: { name: string; options: UpstreamHeaderOptions; want: Record<string, string> }[] = [
    {
      name: "OpenAI upstream",
      options: { ...OPENAI_PASSTHROUGH, apiKey: "sk-upstream" },
      want: { authorization: "Bearer sk-upstream", "content-type": "application/json" },
    },
    {
      name: "Anthropic upstream",
      options: { ...ANTHROPIC_PASSTHROUGH, apiKey: "sk-upstream" },
      want: {
        "x-api-key": "sk-upstream",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
    },
    {
      name: "converting to OpenAI",
      options: { ...ANTHROPIC_TO_OPENAI, apiKey: "sk-upstream" },
      want: { authorization: "Bearer sk-upstream", "content-type": "application/json" },
    },
    {
      name: "converting to Anthropic",
      options: { ...OPENAI_TO_ANTHROPIC, apiKey: "sk-upstream" },
      want: {
        "x-api-key": "sk-upstream",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
    },
  ];
  for (const { name, options, want } of cases) {
    assert.deepEqual(plain(upstreamRequestHeaders(incoming, options)), want, name);
  }
});

Deno.test("upstreamRequestHeaders moves the client's key to the header style of the upstream when converting", () => {
  const cases: {
    name: string;
    incoming: Record<string, string>;
    options: UpstreamHeaderOptions;
    want: Record<string, string>;
  }[] = [
    {
      name: "x-api-key to bearer",
      incoming: { "x-api-key": "sk-ant" },
      options: ANTHROPIC_TO_OPENAI,
      want: { authorization: "Bearer sk-ant" },
    },
    {
      name: "bearer to x-api-key",
      incoming: { authorization: "Bearer sk-oai" },
      options: OPENAI_TO_ANTHROPIC,
      want: { "x-api-key": "sk-oai" },
    },
    {
      name: "lower-case bearer to x-api-key",
      incoming: { authorization: "bearer sk-oai" },
      options: OPENAI_TO_ANTHROPIC,
      want: { "x-api-key": "sk-oai" },
    },
    {
      name: "an existing bearer wins over x-api-key",
      incoming: { authorization: "Bearer sk-a", "x-api-key": "sk-b" },
      options: ANTHROPIC_TO_OPENAI,
      want: { authorization: "Bearer sk-a" },
    },
    {
      name: "an existing x-api-key wins over a bearer",
      incoming: { authorization: "Bearer sk-a", "x-api-key": "sk-b" },
      options: OPENAI_TO_ANTHROPIC,
      want: { authorization: "Bearer sk-a", "x-api-key": "sk-b" },
    },
  ];
  for (const { name, incoming, options, want } of cases) {
    const out = plain(upstreamRequestHeaders(new Headers(incoming), options));
    delete out["content-type"];
    delete out["anthropic-version"];
    delete out["accept-encoding"];
    assert.deepEqual(out, want, name);
  }
});

Deno.test("upstreamRequestHeaders sets anthropic-version for an Anthropic upstream unless the client did", () => {
  const fromOpenAI = upstreamRequestHeaders(new Headers(), OPENAI_TO_ANTHROPIC);
  assert.equal(fromOpenAI.get("anthropic-version"), "2023-06-01");
  const fromAnthropic = upstreamRequestHeaders(
    new Headers({ "anthropic-version": "2024-01-01" }),
    ANTHROPIC_PASSTHROUGH,
  );
  assert.equal(fromAnthropic.get("anthropic-version"), "2024-01-01");
  assert.equal(upstreamRequestHeaders(new Headers(), OPENAI_PASSTHROUGH).has("anthropic-version"), false);
});

Deno.test("upstreamRequestHeaders lets configured extra headers win over the client's", () => {
  const incoming = new Headers({ "x-team": "client", "x-keep": "1" });
  const out = upstreamRequestHeaders(incoming, { ...OPENAI_PASSTHROUGH, extra: { "X-Team": "config", "x-org": "o" } });
  assert.deepEqual(plain(out), {
    "content-type": "application/json",
    "x-keep": "1",
    "x-org": "o",
    "x-team": "config",
  });
});

Deno.test("clientResponseHeaders passes back content type, request ids, retry and rate-limit headers only", () => {
  const upstream = new Headers({
    "content-type": "text/event-stream",
    "x-request-id": "req-1",
    "request-id": "req-2",
    "retry-after": "3",
    "retry-after-ms": "2500",
    "x-should-retry": "false",
    "x-ratelimit-remaining-requests": "9",
    "anthropic-ratelimit-tokens-remaining": "100",
    "ratelimit-reset": "5",
    "openai-processing-ms": "12",
    "openai-version": "2020-10-01",
    "anthropic-organization-id": "org",
    "cf-ray": "abc",
    "content-length": "10",
    "content-encoding": "gzip",
    "transfer-encoding": "chunked",
    connection: "keep-alive",
    "set-cookie": "a=b",
    server: "uvicorn",
    "keep-alive": "timeout=5",
    "x-powered-by": "express",
  });
  assert.deepEqual(plain(clientResponseHeaders(upstream)), {
    "anthropic-organization-id": "org",
    "anthropic-ratelimit-tokens-remaining": "100",
    "cf-ray": "abc",
    "content-type": "text/event-stream",
    "openai-processing-ms": "12",
    "openai-version": "2020-10-01",
    "ratelimit-reset": "5",
    "request-id": "req-2",
    "retry-after": "3",
    "retry-after-ms": "2500",
    "x-ratelimit-remaining-requests": "9",
    "x-request-id": "req-1",
    "x-should-retry": "false",
  });
});
