import assert from "node:assert/strict";
import {
  apiRoot,
  baseUrlProblem,
  displayUrl,
  serverRootUrl,
  upstreamEndpoints,
  upstreamUrl,
} from "../../src/routing/upstream_url.ts";

const URL_CASES: { base: string; endpoint: string; search?: string; want: string }[] = [
  { base: "http://127.0.0.1:8080", endpoint: "chat/completions", want: "http://127.0.0.1:8080/v1/chat/completions" },
  { base: "http://127.0.0.1:8080/", endpoint: "chat/completions", want: "http://127.0.0.1:8080/v1/chat/completions" },
  { base: "http://127.0.0.1:8080/v1", endpoint: "chat/completions", want: "http://127.0.0.1:8080/v1/chat/completions" },
  {
    base: "http://127.0.0.1:8080/v1/",
    endpoint: "chat/completions",
    want: "http://127.0.0.1:8080/v1/chat/completions",
  },
  { base: "http://127.0.0.1:8080/v1//", endpoint: "messages", want: "http://127.0.0.1:8080/v1/messages" },
  {
    base: "http://127.0.0.1:8080/v1",
    endpoint: "/chat/completions",
    want: "http://127.0.0.1:8080/v1/chat/completions",
  },
  { base: "http://127.0.0.1:8080", endpoint: "models", want: "http://127.0.0.1:8080/v1/models" },
  { base: "http://h:8000/v1", endpoint: "messages/count_tokens", want: "http://h:8000/v1/messages/count_tokens" },
  { base: "https://api.z.ai/api/anthropic", endpoint: "messages", want: "https://api.z.ai/api/anthropic/v1/messages" },
  { base: "https://api.z.ai/api/anthropic/", endpoint: "messages", want: "https://api.z.ai/api/anthropic/v1/messages" },
  {
    base: "https://api.z.ai/api/paas/v4",
    endpoint: "chat/completions",
    want: "https://api.z.ai/api/paas/v4/chat/completions",
  },
  {
    base: "https://api.z.ai/api/paas/v4/",
    endpoint: "chat/completions",
    want: "https://api.z.ai/api/paas/v4/chat/completions",
  },
  {
    base: "https://openrouter.ai/api/v1",
    endpoint: "chat/completions",
    want: "https://openrouter.ai/api/v1/chat/completions",
  },
  { base: "https://h/v1beta", endpoint: "models", want: "https://h/v1beta/models" },
  { base: "https://h/prefix/v2alpha1", endpoint: "models", want: "https://h/prefix/v2alpha1/models" },
  { base: "https://h/v1x", endpoint: "models", want: "https://h/v1x/v1/models" },
  {
    base: "https://api.anthropic.com",
    endpoint: "messages",
    search: "?beta=true",
    want: "https://api.anthropic.com/v1/messages?beta=true",
  },
  { base: "http://h:8080/v1", endpoint: "chat/completions", search: "", want: "http://h:8080/v1/chat/completions" },
  {
    base: "https://h/v1?api-version=2024-06-01",
    endpoint: "chat/completions",
    want: "https://h/v1/chat/completions?api-version=2024-06-01",
  },
  {
    base: "https://h/openai?key=abc",
    endpoint: "chat/completions",
    search: "?beta=true",
    want: "https://h/openai/v1/chat/completions?key=abc&beta=true",
  },
];

Deno.test("upstreamUrl joins every base URL form and an endpoint into one API URL", () => {
  for (const { base, endpoint, search, want } of URL_CASES) {
    assert.equal(upstreamUrl(base, endpoint, search), want, `${base} + ${endpoint}`);
  }
});

Deno.test("upstreamUrl never doubles and never drops the version segment", () => {
  for (const { base, endpoint, search } of URL_CASES) {
    const { pathname } = new URL(upstreamUrl(base, endpoint, search));
    assert.doesNotMatch(pathname, /\/v1\/v1\//, base);
    assert.match(pathname, /\/v\d+(?:beta|alpha)?\d*\/[a-z]/, base);
    assert.doesNotMatch(pathname, /\/\//, base);
  }
});

Deno.test("serverRootUrl puts an endpoint at the root, below any path prefix", () => {
  const cases: { base: string; want: string }[] = [
    { base: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/tokenize" },
    { base: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080/tokenize" },
    { base: "http://127.0.0.1:8080/v1", want: "http://127.0.0.1:8080/tokenize" },
    { base: "http://127.0.0.1:8080/v1/", want: "http://127.0.0.1:8080/tokenize" },
    { base: "http://gpu/llama/v1", want: "http://gpu/llama/tokenize" },
    { base: "https://api.z.ai/api/paas/v4", want: "https://api.z.ai/api/paas/tokenize" },
    { base: "http://gpu/v1?key=abc", want: "http://gpu/tokenize?key=abc" },
  ];
  for (const { base, want } of cases) {
    assert.equal(serverRootUrl(apiRoot(base), "tokenize"), want, base);
    assert.equal(serverRootUrl(apiRoot(base), "/tokenize"), want, `${base} with a leading slash`);
  }
});

Deno.test("serverRootUrl puts SGLang's /generate at the server root, keeping both queries", () => {
  const cases: { base: string; search?: string; want: string }[] = [
    { base: "http://127.0.0.1:30000", want: "http://127.0.0.1:30000/generate" },
    { base: "http://127.0.0.1:30000/v1/", want: "http://127.0.0.1:30000/generate" },
    { base: "http://gpu/sglang/v1", want: "http://gpu/sglang/generate" },
    { base: "http://gpu/v1?key=abc", search: "?trace=1", want: "http://gpu/generate?key=abc&trace=1" },
  ];
  for (const { base, search, want } of cases) {
    assert.equal(serverRootUrl(apiRoot(base), "generate", search), want, base);
  }
});

Deno.test("displayUrl strips credentials and masks key-like query values", () => {
  const cases: { base: string; want: string }[] = [
    { base: "http://127.0.0.1:8080/v1", want: "http://127.0.0.1:8080/v1" },
    { base: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080" },
    { base: "https://user:sk-secret@api.example.com/v1", want: "https://api.example.com/v1" },
    { base: "https://:pw@h/v1", want: "https://h/v1" },
    { base: "https://h/v1?key=sk-1&region=eu", want: "https://h/v1?key=***&region=eu" },
    {
      base: "https://h/v1?api_token=t&Authorization=a&client_secret=s",
      want: "https://h/v1?api_token=***&Authorization=***&client_secret=***",
    },
  ];
  for (const { base, want } of cases) {
    const shown = displayUrl(base);
    assert.equal(shown, want, base);
    assert.doesNotMatch(shown, /secret@|sk-|pw|=t&|=a&|=s$/, base);
  }
});

Deno.test("displayUrl masks the same credential names the redactor knows (password, signature)", () => {
  const shown = displayUrl("https://h/v1?password=hunter2&X-Amz-Signature=abc123&region=eu");
  assert.equal(shown, "https://h/v1?password=***&X-Amz-Signature=***&region=eu");
});

Deno.test("baseUrlProblem flags a base URL ending in an endpoint path or with a doubled version segment", () => {
  const cases: { base: string; want: RegExp | undefined }[] = [
    { base: "http://h:8080/v1/chat/completions", want: /endpoint path \/chat\/completions; .*\(e\.g\. \/v1\)/ },
    { base: "http://h:8080/v1/messages/", want: /endpoint path \/messages;/ },
    { base: "http://h:8080/chat/completions", want: /endpoint path \/chat\/completions; .*\(e\.g\. \/v1\)/ },
    { base: "https://api.z.ai/api/paas/v4/models", want: /\(e\.g\. \/api\/paas\/v4\)/ },
    { base: "http://h:8080/v1/v1", want: /doubled version segment/ },
    { base: "http://h:8080/v1/v1/", want: /doubled version segment/ },
    { base: "http://h:8080/v1", want: undefined },
    { base: "http://h:8080", want: undefined },
    { base: "https://api.z.ai/api/anthropic", want: undefined },
    { base: "https://api.z.ai/api/paas/v4", want: undefined },
  ];
  for (const { base, want } of cases) {
    const problem = baseUrlProblem(base);
    if (want === undefined) assert.equal(problem, undefined, base);
    else assert.match(problem ?? "", want, base);
  }
});

Deno.test("upstreamEndpoints lists the URLs the proxy calls, with query keys masked", () => {
  const base = "http://h:8080/v1?key=secret";
  const upstream = { api: apiRoot(base), supportsOpenAI: true, supportsAnthropic: true, tokenize: true };
  assert.deepEqual(upstreamEndpoints(upstream), {
    chat: "http://h:8080/v1/chat/completions?key=***",
    messages: "http://h:8080/v1/messages?key=***",
    models: "http://h:8080/v1/models?key=***",
    tokenize: "http://h:8080/tokenize?key=***",
  });
  const anthropic = { ...upstream, supportsOpenAI: false, tokenize: false, api: apiRoot("https://a.example/api") };
  assert.deepEqual(Object.keys(upstreamEndpoints(anthropic)), ["messages", "models"]);
});
