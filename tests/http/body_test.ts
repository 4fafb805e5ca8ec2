import assert from "node:assert/strict";
import { type BodyLimits, readJsonBody } from "../../src/http/body.ts";
import { BodyBudget } from "../../src/http/body_budget.ts";
import { ProxyError } from "../../src/http/errors.ts";

const encoder = new TextEncoder();

/** Limits of `maxBytes` with generous depth and value budgets and a budget that never makes a body wait. */
function limits(maxBytes: number, overrides: Partial<BodyLimits> = {}): BodyLimits {
  const budget = new BodyBudget({ capacityBytes: maxBytes, waitMs: 1000 });
  return { maxBytes, maxDepth: 64, maxValues: 10_000, budget, ...overrides };
}

/** A POST request with `body` and the given headers. */
function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://proxy.test/v1/chat/completions", { method: "POST", body, headers });
}

/** Compresses `bytes` with `format`. */
async function compress(bytes: Uint8Array<ArrayBuffer>, format: CompressionFormat): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A body of `chunks` chunks of `chunkSize` zero bytes, made on demand; `pulled` counts the bytes handed out and
 * `cancelled` tells whether the reader gave up.
 */
function zeros(chunks: number, chunkSize: number) {
  const state = { pulled: 0, cancelled: false };
  let left = chunks;
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      if (left-- === 0) return controller.close();
      state.pulled += chunkSize;
      controller.enqueue(new Uint8Array(chunkSize));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/** Asserts that reading `request` fails with a {@link ProxyError} of `status` whose message matches `pattern`. */
async function assertRejects(request: Request, maxBytes: number, status: number, pattern: RegExp): Promise<void> {
  await assert.rejects(readJsonBody(request, limits(maxBytes)), (error: unknown) => {
    assert.ok(error instanceof ProxyError, `expected a ProxyError, got ${error}`);
    assert.equal(error.status, status);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("readJsonBody returns the text and the parsed object", async () => {
  const text = '{"model":"m","messages":[{"role":"user","content":"héllo"}]}';
  assert.deepEqual(await readJsonBody(post(text), limits(1024)), { text, json: JSON.parse(text) });
});

Deno.test("readJsonBody accepts a body of exactly the limit and a UTF-8 byte order mark", async () => {
  const exact = '{"a":"' + "x".repeat(10) + '"}';
  assert.equal((await readJsonBody(post(exact), limits(encoder.encode(exact).length))).json.a, "x".repeat(10));
  assert.deepEqual((await readJsonBody(post("\uFEFF{}"), limits(100))).json, {});
});

Deno.test("readJsonBody decodes gzip and deflate bodies, whatever the header's case", async () => {
  const text = '{"model":"m"}';
  for (const [format, header] of [["gzip", "gzip"], ["deflate", "deflate"], ["gzip", " GZIP "]] as const) {
    const body = await compress(encoder.encode(text), format);
    const { json } = await readJsonBody(post(body, { "content-encoding": header }), limits(1024));
    assert.deepEqual(json, { model: "m" }, header);
  }
  assert.deepEqual((await readJsonBody(post(text, { "content-encoding": "identity" }), limits(1024))).json, {
    model: "m",
  });
});

Deno.test("readJsonBody answers 413 on a declared size above the limit without reading the body", async () => {
  const { stream, state } = zeros(100, 1024);
  await assertRejects(post(stream, { "content-length": "102400" }), 1000, 413, /larger than the limit of 1000 bytes/);
  assert.ok(state.pulled <= 1024, "at most the chunk the Request buffers itself");
  await stream.cancel();
});

Deno.test("readJsonBody answers 413 on an actual size above the limit and stops reading", async () => {
  await assertRejects(post('{"a":"' + "x".repeat(100) + '"}'), 100, 413, /larger than the limit of 100 bytes/);
  const { stream, state } = zeros(1024, 1024);
  await assertRejects(post(stream), 10 * 1024, 413, /larger than the limit/);
  assert.ok(state.pulled < 64 * 1024, `read ${state.pulled} bytes of 1 MiB`);
  assert.equal(state.cancelled, true);
});

Deno.test("readJsonBody counts the limit after decompression, so a gzip bomb gets 413", async () => {
  const { stream, state } = zeros(64, 1024 * 1024);
  const bomb = stream.pipeThrough(new CompressionStream("gzip"));
  await assertRejects(post(bomb, { "content-encoding": "gzip" }), 1024 * 1024, 413, /larger than the limit/);
  assert.ok(state.pulled < 32 * 1024 * 1024, `inflated ${state.pulled} bytes of a 64 MiB bomb`);
  assert.equal(state.cancelled, true);
});

Deno.test("readJsonBody answers 400 for empty, invalid or non-object bodies", async () => {
  const cases: { name: string; body: BodyInit | null; pattern: RegExp }[] = [
    { name: "no body", body: null, pattern: /^Request body is empty; expected a JSON object$/ },
    { name: "empty", body: "", pattern: /^Request body is empty/ },
    { name: "whitespace", body: " \n\t", pattern: /^Request body is empty/ },
    { name: "invalid JSON", body: '{"model":', pattern: /^Request body is not valid JSON: / },
    { name: "array", body: "[]", pattern: /^Request body must be a JSON object$/ },
    { name: "null", body: "null", pattern: /^Request body must be a JSON object$/ },
    { name: "string", body: '"hi"', pattern: /^Request body must be a JSON object$/ },
    {
      name: "bad UTF-8",
      body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      pattern: /^Request body is not valid UTF-8$/,
    },
  ];
  for (const { name, body, pattern } of cases) {
    await assert.rejects(readJsonBody(post(body), limits(1024)), (error: unknown) => {
      assert.ok(error instanceof ProxyError, name);
      assert.deepEqual([error.status, error.kind], [400, "invalid_request"], name);
      assert.match(error.message, pattern, name);
      return true;
    });
  }
});

Deno.test("readJsonBody answers 400 for a body that does not decompress", async () => {
  await assertRejects(post("not gzip at all", { "content-encoding": "gzip" }), 1024, 400, /could not be read/);
});

Deno.test("readJsonBody answers 415 for an unknown content-encoding and cancels the body", async () => {
  for (const encoding of ["br", "compress", "gzip, gzip"]) {
    const { stream, state } = zeros(4, 16);
    await assertRejects(post(stream, { "content-encoding": encoding }), 1024, 415, /^Unsupported content-encoding "/);
    assert.equal(state.cancelled, true, encoding);
  }
});

Deno.test("readJsonBody answers 413 for a body of many small values before parsing it", async () => {
  const bomb = '{"model":"m","x":[' + new Array(5000).fill("{}").join(",") + "]}";
  await assert.rejects(readJsonBody(post(bomb), limits(1024 * 1024, { maxValues: 1000 })), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.kind], [413, "request_too_large"]);
    assert.match(error.message, /more than 1000 JSON values \(listen\.max_json_elements\)/);
    return true;
  });
  const fits = '{"model":"m","x":[' + new Array(400).fill('{"k":"v,{[\\"]"}').join(",") + "]}";
  assert.equal((await readJsonBody(post(fits), limits(1024 * 1024, { maxValues: 1000 }))).json.model, "m");
});

Deno.test("readJsonBody answers 400 for a body nested deeper than the depth budget", async () => {
  const deep = '{"model":"m","x":' + "[".repeat(100) + "]".repeat(100) + "}";
  await assert.rejects(readJsonBody(post(deep), limits(1024, { maxDepth: 50 })), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.kind], [400, "invalid_request"]);
    assert.match(error.message, /nested deeper than 50 levels \(listen\.max_json_depth\)/);
    return true;
  });
  const fits = '{"model":"m","x":' + "[".repeat(49) + "]".repeat(49) + "}";
  assert.equal((await readJsonBody(post(fits), limits(1024, { maxDepth: 50 }))).json.model, "m");
});

Deno.test("readJsonBody answers 503 with retry-after when the body budget stays full", async () => {
  const budget = new BodyBudget({ capacityBytes: 100, waitMs: 50 });
  const held = await budget.reserve(100);
  const text = '{"model":"m"}';
  await assert.rejects(
    readJsonBody(post(text, { "content-length": String(text.length) }), limits(1024, { budget })),
    (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.deepEqual([error.status, error.kind, error.headers["retry-after"]], [503, "overloaded", "1"]);
      return true;
    },
  );
  held();
  assert.equal(budget.used, 0);
});

Deno.test("readJsonBody waits for the body budget and gives its share back once parsed", async () => {
  const budget = new BodyBudget({ capacityBytes: 100, waitMs: 10_000 });
  const held = await budget.reserve(95);
  const text = '{"model":"m"}';
  const read = readJsonBody(post(text, { "content-length": String(text.length) }), limits(1024, { budget }));
  assert.equal(budget.used, 95, "the body waits: its 13 bytes do not fit");
  held();
  assert.equal((await read).json.model, "m");
  assert.equal(budget.used, 0);
});
