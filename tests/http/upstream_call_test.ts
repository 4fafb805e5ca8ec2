import assert from "node:assert/strict";
import { ProxyError } from "../../src/http/errors.ts";
import {
  callUpstream,
  type UpstreamCallOptions,
  UpstreamLimitError,
  UpstreamTimeoutError,
} from "../../src/http/upstream_call.ts";
import { blackHole, closedPort } from "../support/black_hole.ts";
import { gzipBomb } from "../support/gzip_bomb.ts";

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

/**
 * A server that holds each request until it is aborted: `arrived` resolves when a request comes, `sawAbort` when
 * it is aborted.
 */
function abortWatchingServer(): ReturnType<typeof serve> & { arrived: Promise<void>; sawAbort: Promise<void> } {
  const arrived = Promise.withResolvers<void>();
  const sawAbort = Promise.withResolvers<void>();
  const server = serve(async (request) => {
    arrived.resolve();
    await aborted(request.signal);
    sawAbort.resolve();
    return new Response(null);
  });
  return Object.assign(server, { arrived: arrived.promise, sawAbort: sawAbort.promise });
}

/** The check for `assert.rejects` that the call failed with a 504 timeout saying `message` (or matching it). */
function timeoutError(message: string | RegExp): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.kind], [504, "timeout"]);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  };
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
  await using server = abortWatchingServer();
  await assert.rejects(
    callUpstream(server.url, callOptions({ responseTimeoutMs: 50 })),
    timeoutError('Upstream "local" sent no response within 50 ms'),
  );
  await within(server.sawAbort, "the upstream seeing the abort");
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

Deno.test("callUpstream answers 504 at the connect timeout itself when the upstream never accepts", async () => {
  await using hole = await blackHole();
  // The response timeout comes soon after the connect timeout: only a probe that ends at the connect timeout
  // (rather than one connect timeout later) reports the connect failure.
  const options = callOptions({ connectTimeoutMs: 200, responseTimeoutMs: 350 });
  await assert.rejects(
    callUpstream(`http://127.0.0.1:${hole.port}/v1/chat/completions`, options),
    timeoutError('Could not connect to upstream "local" within 0.2 s'),
  );
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
  await using server = abortWatchingServer();
  const client = new AbortController();
  const call = callUpstream(server.url, callOptions({ signal: client.signal }));
  await within(server.arrived, "the request arriving");
  const reason = new DOMException("Client went away", "AbortError");
  client.abort(reason);
  await assert.rejects(call, (error: unknown) => error === reason);
  await within(server.sawAbort, "the upstream seeing the abort");
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

Deno.test("callUpstream answers 504 when the whole request outlasts maxDurationMs before the headers", async () => {
  await using server = abortWatchingServer();
  await assert.rejects(
    callUpstream(server.url, callOptions({ maxDurationMs: 100 })),
    timeoutError(/^Upstream "local" did not finish within 0\.1 s \(max_duration_seconds\)$/),
  );
  await within(server.sawAbort, "the upstream seeing the abort");
});

Deno.test("callUpstream ends a body that trickles past maxDurationMs although it is never idle", async () => {
  const cancelled = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await using server = serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => timer = setTimeout(resolve, 20));
          controller.enqueue(encoder.encode("x"));
        },
        cancel() {
          clearTimeout(timer);
          cancelled.resolve();
        },
      }),
    )
  );
  const response = await callUpstream(server.url, callOptions({ idleTimeoutMs: 5_000, maxDurationMs: 300 }));
  const reader = response.reader()!;
  const error = await within(
    (async () => {
      try {
        while (!(await reader.read()).done);
      } catch (error) {
        return error;
      }
    })(),
    "the deadline",
  );
  assert.ok(error instanceof UpstreamTimeoutError);
  assert.match(error.message, /did not finish within 0\.3 s \(max_duration_seconds\)$/);
  await within(cancelled.promise, "the upstream seeing the cancel");
});

/** Reads `reader` to the end and returns what it threw, or the number of bytes read. */
async function drain(reader: { read(): Promise<ReadableStreamReadResult<Uint8Array>> }): Promise<unknown> {
  let bytes = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return bytes;
      bytes += value.length;
    }
  } catch (error) {
    return error;
  }
}

Deno.test("callUpstream stops reading a body at maxResponseBytes", async () => {
  const cancelled = Promise.withResolvers<void>();
  let sent = 0;
  await using server = serve(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += 64 * 1024;
          controller.enqueue(new Uint8Array(64 * 1024));
        },
        cancel() {
          cancelled.resolve();
        },
      }),
    )
  );
  const response = await callUpstream(server.url, callOptions({ maxResponseBytes: 1024 * 1024 }));
  const error = await within(drain(response.reader()!), "the size limit");
  assert.ok(error instanceof UpstreamLimitError);
  assert.equal(error.message, "Upstream response is larger than the limit of 1048576 bytes");
  await within(cancelled.promise, "the upstream seeing the cancel");
  assert.ok(sent < 64 * 1024 * 1024, `the upstream sent ${sent} bytes`);
});

Deno.test("callUpstream asks for identity, and caps a gzip body the upstream sends anyway after inflating it", async () => {
  const bombs = [await gzipBomb(2), await gzipBomb(200)];
  let asked: string | null = null;
  await using server = serve((request) => {
    asked = request.headers.get("accept-encoding");
    const bomb = bombs[Number(new URL(request.url).searchParams.get("bomb"))];
    return new Response(bomb, { headers: { "content-encoding": "gzip", "content-type": "application/json" } });
  });
  const small = await callUpstream(`${server.url}?bomb=0`, callOptions({ maxResponseBytes: 4 * 1024 * 1024 }));
  assert.equal(asked, "identity");
  assert.equal(await within(drain(small.reader()!), "the whole body"), 2 * 1024 * 1024, "decoded in full");
  const capped = await callUpstream(`${server.url}?bomb=1`, callOptions({ maxResponseBytes: 1024 * 1024 }));
  const error = await within(drain(capped.reader()!), "the size limit");
  assert.ok(error instanceof UpstreamLimitError);
});

Deno.test("callUpstream asks for identity even when the headers it is given name an encoding", async () => {
  let asked: string | null = null;
  await using server = serve((request) => {
    asked = request.headers.get("accept-encoding");
    return new Response("ok");
  });
  const headers = new Headers({ "accept-encoding": "gzip" });
  const response = await callUpstream(server.url, callOptions({ headers }));
  await response.reader()?.cancel();
  assert.equal(asked, "identity");
});

Deno.test("callUpstream answers 502 for a body in an encoding it cannot decode", async () => {
  await using server = serve(() => new Response("x", { headers: { "content-encoding": "br" } }));
  await assert.rejects(callUpstream(server.url, callOptions()), (error: unknown) => {
    assert.ok(error instanceof ProxyError);
    assert.deepEqual([error.status, error.kind], [502, "api_error"]);
    assert.match(error.message, /unsupported encoding "br"$/);
    return true;
  });
});
