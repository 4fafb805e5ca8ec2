import assert from "node:assert/strict";
import { ProxyError } from "../../src/http/errors.ts";
import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import { OPENAI_CHAT } from "../../src/protocols/openai_chat.ts";
import {
  canServe,
  clientDialect,
  converterFor,
  CONVERTERS,
  dialectOfEndpoint,
  DIALECTS,
} from "../../src/protocols/registry.ts";

Deno.test("registry: every dialect is found by its own name", () => {
  for (const [name, dialect] of Object.entries(DIALECTS)) assert.equal(dialect.name, name);
});

Deno.test("registry: the client's dialect comes from the path, then the anthropic-version header, else OpenAI", () => {
  const none = new Headers();
  const anthropicSdk = new Headers({ "anthropic-version": "2023-06-01" });
  assert.equal(clientDialect("/v1/messages", none), ANTHROPIC_MESSAGES);
  assert.equal(clientDialect("/v1/messages/count_tokens", none), ANTHROPIC_MESSAGES);
  assert.equal(clientDialect("/v1/chat/completions", anthropicSdk), OPENAI_CHAT);
  assert.equal(clientDialect("/v1/models", anthropicSdk), ANTHROPIC_MESSAGES);
  assert.equal(clientDialect("/v1/models", none), OPENAI_CHAT);
  assert.equal(dialectOfEndpoint("messages"), ANTHROPIC_MESSAGES);
  assert.equal(dialectOfEndpoint("chat/completions"), OPENAI_CHAT);
  assert.equal(dialectOfEndpoint("embeddings"), undefined);
});

Deno.test("registry: the converter is looked up per (client, upstream) pair, in the upstream's order", () => {
  const found = converterFor(ANTHROPIC_MESSAGES, ["openai_chat"], { upstream: "u", servedElsewhere: false });
  assert.equal(found.dialect, OPENAI_CHAT);
  assert.equal(found.create, CONVERTERS.anthropic_messages?.openai_chat);
  assert.equal(canServe(OPENAI_CHAT, ["anthropic_messages"]), true);
  assert.equal(canServe(OPENAI_CHAT, ["anthropic_messages"], {}), false);
});

Deno.test("registry: no converter is a 400 naming both dialects when another upstream serves the client", () => {
  assert.throws(
    () => converterFor(OPENAI_CHAT, ["anthropic_messages"], { upstream: "zai", servedElsewhere: true, converters: {} }),
    (error: unknown) =>
      error instanceof ProxyError && error.status === 400 && error.kind === "invalid_request" &&
      error.message.includes("openai_chat") && error.message.includes("anthropic_messages") &&
      error.message.includes('"zai"'),
  );
});

Deno.test("registry: no converter and no other upstream is a 501 the SDKs are told not to retry", () => {
  assert.throws(
    () =>
      converterFor(OPENAI_CHAT, ["anthropic_messages"], { upstream: "zai", servedElsewhere: false, converters: {} }),
    (error: unknown) =>
      error instanceof ProxyError && error.status === 501 && error.kind === "not_implemented" &&
      error.headers["x-should-retry"] === "false" && error.message.includes("openai_chat") &&
      error.message.includes("anthropic_messages"),
  );
});
