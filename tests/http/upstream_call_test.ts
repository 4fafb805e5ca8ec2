import assert from "node:assert/strict";
import { ProxyError } from "../../src/http/errors.ts";
import { callUpstream, type UpstreamCallOptions, UpstreamTimeoutError } from "../../src/http/upstream_call.ts";

const encoder = new TextEncoder();

/** A local upstream on port 0; `await using` shuts it down once its handlers are done. */
function serve(handler: (request: Request) => Response | Promise<Response>): { url: string } & AsyncDisposable {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1/chat/completions`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Resolves with `promise`, or rejects naming `label` after `ms`: a safety net, not a timing assertion. */
async function within<T>(promise: Promise<T>, label: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Call options with long timeouts unless overridden. */
function callOptions(overrides: Partial<UpstreamCallOptions> = {}): UpstreamCallOptions {
  return {
    upstream: "local",
    method: "POST",
    headers: new Headers({ "content-type": "application/json", "x-test": "1" }),
    body: '{"model":"m"}',
    signal: new AbortController().signal,
    connectTimeoutMs: 10_000,
    responseTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    ...overrides,
  };
}

/** A response body that sends `first` and then nothing until it is cancelled; `cancelled` resolves then. */
function stalledBody(first: string) {
  const cancelled = Promise.withResolvers<void>();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(first));
    },
    cancel() {
      cancelled.resolve();
    },
  });
  return { body, cancelled: cancelled.promise };
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** A port on 127.0.0.1 that nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("callUpstream sends the request and returns status, headers and body", async () => {
  const seen: { method: string; path: string; header: string | null; body: string }[] = [];
  await using server = serve(async (request) => {
    seen.push({
      method: request.method,
      path: new URL(request.url).pathname,
      header: request.headers.get("x-test"),
      body: await request.text(),
    });
    return Response.json({ ok: true }, { status: 201, headers: { "x-request-id": "r1" } });
  });
  const response = await callUpstream(server.url, callOptions());
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("x-request-id"), "r1");
  assert.ok(response.headersMs >= 0);
  assert.deepEqual(await new Response(response.body).json(), { ok: true });
  assert.deepEqual(seen, [{ method: "POST", path: "/v1/chat/completions", header: "1", body: '{"model":"m"}' }]);
});

Deno.test("callUpstream returns a null body for a response without one", async () => {
  await using server = serve(() => new Response(null, { status: 204 }));
  const response = await callUpstream(server.url, callOptions());
  assert.equal(response.status, 204);
  assert.equal(response.body, null);
});

Deno.test("callUpstream does not follow redirects", async () => {
  await using server = serve(() => new Response(null, { status: 302, headers: { location: "http://example.com/" } }));
  const response = await callUpstream(server.url, callOptions());
  assert.equal(response.status, 302);
  assert.equal(response.headers.get("location"), "http://example.com/");
  await response.body?.cancel();
});

Deno.test("callUpstream answers 504 when the response headers do not come in time, and aborts the request", async () => {
  const serverSawAbort = Promise.withResolvers<void>();
  await using server = serve(async (request) => {
    await aborted(request.signal);
    serverSawAbort.resolve();
    return new Response(null);
  });
  await assert.rejects(callUpstream(server.url, callOptions({ responseTimeoutMs: 50 })), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.kind], [504, "timeout"]);
    assert.equal(error.message, 'Upstream "local" sent no response within 50 ms');
    return true;
  });
  await within(serverSawAbort.promise, "the upstream seeing the abort");
});

Deno.test("callUpstream errors the body with UpstreamTimeoutError when the upstream goes quiet mid-body", async () => {
  const { body, cancelled } = stalledBody('data: {"n":1}\n\n');
  await using server = serve(() => new Response(body, { headers: { "content-type": "text/event-stream" } }));
  const response = await callUpstream(server.url, callOptions({ idleTimeoutMs: 50 }));
  assert.ok(response.body);
  const reader = response.body.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: {"n":1}\n\n');
  await assert.rejects(within(reader.read(), "the idle timeout"), (error: unknown) => {
    assert.ok(error instanceof UpstreamTimeoutError);
    assert.equal(error.name, "UpstreamTimeoutError");
    assert.match(error.message, /^Upstream sent nothing for \d+ ms$/);
    return true;
  });
  await within(cancelled, "the upstream seeing the abort");
});

Deno.test("callUpstream keeps a body alive while chunks keep coming faster than the idle timeout", async () => {
  const chunks = 30;
  await using server = serve(() => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        controller.enqueue(encoder.encode(`${sent++};`));
        if (sent === chunks) controller.close();
      },
    });
    return new Response(body);
  });
  const response = await callUpstream(server.url, callOptions({ idleTimeoutMs: 400 }));
  const text = await new Response(response.body).text();
  assert.equal(text.split(";").length - 1, chunks);
});

Deno.test("callUpstream does not blame the upstream for a consumer that reads slowly", async () => {
  await using server = serve(() => new Response("abc"));
  const response = await callUpstream(server.url, callOptions({ idleTimeoutMs: 30 }));
  // The whole body is waiting at the proxy; only the consumer is idle.
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(await new Response(response.body).text(), "abc");
});

Deno.test("callUpstream answers 502 naming the upstream and the reason, never its URL, when the connection is refused", async () => {
  const port = closedPort();
  await assert.rejects(
    callUpstream(`http://127.0.0.1:${port}/v1/chat/completions?key=SECRET123`, callOptions()),
    (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.deepEqual([error.status, error.kind], [502, "api_error"]);
      assert.equal(error.message, 'Upstream "local" could not be reached: connection refused');
      return true;
    },
  );
});

Deno.test("callUpstream answers 504 when the upstream cannot be connected to within the connect timeout", async () => {
  const port = closedPort();
  // fetch exposes no connect phase: this one hangs until aborted, as a connect to a silent host would.
  const hangingFetch: typeof fetch = (_input, init) =>
    new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
  const options = callOptions({ connectTimeoutMs: 20, fetch: hangingFetch });
  await assert.rejects(callUpstream(`http://127.0.0.1:${port}/v1/chat/completions`, options), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.kind], [504, "timeout"]);
    assert.equal(error.message, 'Could not connect to upstream "local" within the connect timeout');
    return true;
  });
});

Deno.test("callUpstream ignores a connect probe that fails after the response has started", async () => {
  const probeStarted = Promise.withResolvers<void>();
  const probe = Promise.withResolvers<never>();
  const realConnect = Deno.connect;
  // The probe's connect is held open so that the response arrives while it is still running.
  Deno.connect = (() => {
    probeStarted.resolve();
    return probe.promise;
  }) as typeof Deno.connect;
  try {
    const lateFetch: typeof fetch = async (_input, init) => {
      await probeStarted.promise;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          init?.signal?.addEventListener("abort", () => controller.error(init.signal?.reason));
        },
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          controller.enqueue(encoder.encode("ok"));
          controller.close();
        },
      });
      return new Response(body);
    };
    const response = await callUpstream(
      "http://127.0.0.1:1/v1",
      callOptions({ connectTimeoutMs: 1, fetch: lateFetch }),
    );
    probe.reject(new Error("Connection refused"));
    assert.equal(await new Response(response.body).text(), "ok");
  } finally {
    Deno.connect = realConnect;
  }
});

Deno.test("callUpstream aborts the upstream request when the client goes away while waiting", async () => {
  const arrived = Promise.withResolvers<void>();
  const serverSawAbort = Promise.withResolvers<void>();
  await using server = serve(async (request) => {
    arrived.resolve();
    await aborted(request.signal);
    serverSawAbort.resolve();
    return new Response(null);
  });
  const client = new AbortController();
  const call = callUpstream(server.url, callOptions({ signal: client.signal }));
  await within(arrived.promise, "the request arriving");
  const reason = new DOMException("Client went away", "AbortError");
  client.abort(reason);
  await assert.rejects(call, (error: unknown) => error === reason);
  await within(serverSawAbort.promise, "the upstream seeing the abort");
});

Deno.test("callUpstream rejects at once when the client has already gone", async () => {
  let calls = 0;
  const countingFetch: typeof fetch = () => {
    calls++;
    return Promise.resolve(new Response(null));
  };
  const reason = new Error("gone");
  const options = callOptions({ signal: AbortSignal.abort(reason), fetch: countingFetch });
  await assert.rejects(callUpstream("http://127.0.0.1:1/v1", options), (error: unknown) => error === reason);
  assert.equal(calls, 0);
});

Deno.test("callUpstream aborts the upstream when the client goes away mid-body", async () => {
  const { body, cancelled } = stalledBody("first");
  await using server = serve(() => new Response(body));
  const client = new AbortController();
  const response = await callUpstream(server.url, callOptions({ signal: client.signal }));
  assert.ok(response.body);
  const reader = response.body.getReader();
  await reader.read();
  const reason = new Error("client disconnected");
  client.abort(reason);
  await assert.rejects(within(reader.read(), "the body erroring"), (error: unknown) => error === reason);
  await within(cancelled, "the upstream seeing the abort");
});

Deno.test("callUpstream aborts the upstream when the returned body is cancelled", async () => {
  const { body, cancelled } = stalledBody("first");
  await using server = serve(() => new Response(body));
  const response = await callUpstream(server.url, callOptions());
  assert.ok(response.body);
  const reader = response.body.getReader();
  await reader.read();
  await reader.cancel("client cancelled");
  await within(cancelled, "the upstream seeing the cancel");
});

Deno.test("callUpstream's abort stops the upstream and errors the body with the reason", async () => {
  const { body, cancelled } = stalledBody("first");
  await using server = serve(() => new Response(body));
  const response = await callUpstream(server.url, callOptions());
  assert.ok(response.body);
  const reader = response.body.getReader();
  await reader.read();
  const reason = new Error("garbage loop");
  response.abort(reason);
  await assert.rejects(within(reader.read(), "the body erroring"), (error: unknown) => error === reason);
  await within(cancelled, "the upstream seeing the abort");
});
