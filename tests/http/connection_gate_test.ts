/**
 * The connection gate over real sockets: connection cap, accept errors, slow-client timeouts (with short
 * configured values) and what they must not cut.
 */

import { ANTHROPIC_MESSAGES } from "../../src/protocols/anthropic_messages.ts";
import assert from "node:assert/strict";
import { readJsonBody } from "../../src/http/body.ts";
import { BodyBudget } from "../../src/http/body_budget.ts";
import { type ConnectionGateOptions, defaultMaxConnections, serveGated } from "../../src/http/connection_gate.ts";
import { errorResponse, ProxyError } from "../../src/http/errors.ts";
import { waitUntil } from "../e2e/harness.ts";
import { readToEnd } from "../support/raw_conn.ts";

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Short timeouts so tests see them act; long ones where a test must not trip them. */
function options(overrides: Partial<ConnectionGateOptions> = {}): ConnectionGateOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    hostname: "127.0.0.1",
    port: 0,
    headerTimeoutSeconds: 30,
    bodyTimeoutSeconds: 30,
    keepAliveTimeoutSeconds: 30,
    log: (level, message) => lines.push(`${level} ${message}`),
    lines,
    ...overrides,
  };
}

const LIMITS = {
  maxBytes: 1024 * 1024,
  maxDepth: 16,
  maxValues: 1000,
  budget: new BodyBudget({ capacityBytes: 1024 * 1024, waitMs: 1000 }),
};

/** Echoes the JSON body's `model`, as the proxy's handlers read bodies (408 on a stalled body). */
async function echo(request: Request): Promise<Response> {
  if (request.method === "GET") return new Response("ok");
  try {
    const body = await readJsonBody(request, LIMITS);
    return Response.json({ model: body.json.model });
  } catch (error) {
    if (error instanceof ProxyError) return errorResponse(ANTHROPIC_MESSAGES, error);
    throw error;
  }
}

function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

const GET = "GET /health HTTP/1.1\r\nhost: x\r\n\r\n";

Deno.test("gate serves requests through to the handler", async () => {
  const gate = serveGated(echo, options());
  try {
    const base = `http://127.0.0.1:${gate.addr.port}`;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/v1/messages`, { method: "POST", body: JSON.stringify({ model: `m${i}` }) });
      assert.deepEqual(await response.json(), { model: `m${i}` });
    }
    assert.equal(gate.inFlight, 0);
  } finally {
    await gate.close();
  }
});

Deno.test("gate sheds connections beyond max_connections with a 503 and keeps serving", async () => {
  const opts = options({ maxConnections: 2 });
  const gate = serveGated(echo, opts);
  const held = [await connect(gate.addr.port), await connect(gate.addr.port)];
  try {
    // Both held connections are counted before the third arrives.
    await waitUntil(() => gate.connections === 2, "two counted connections");
    const extra = await connect(gate.addr.port);
    await extra.write(encoder.encode(GET));
    const shed = await readToEnd(extra);
    assert.match(shed, /^HTTP\/1\.1 503 /);
    assert.match(shed, /connection: close/i);
    assert.match(shed, /"type":"error"/);
    assert.ok(opts.lines.some((line) => line.startsWith("warn Connection limit of 2 reached")), opts.lines.join("\n"));
    held.pop()?.close();
    await waitUntil(() => gate.connections === 1, "the freed connection");
    const response = await fetch(`http://127.0.0.1:${gate.addr.port}/health`);
    assert.equal(await response.text(), "ok");
  } finally {
    for (const conn of held) conn.close();
    await gate.close();
  }
});

Deno.test("gate logs an accept error and goes on accepting", async () => {
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let failures = 2;
  const listener = {
    addr: real.addr,
    close: () => real.close(),
    accept: () => failures-- > 0 ? Promise.reject(new Error("Too many open files (os error 24)")) : real.accept(),
  };
  const opts = options({ listener });
  const gate = serveGated(echo, opts);
  try {
    const response = await fetch(`http://127.0.0.1:${gate.addr.port}/health`);
    assert.equal(await response.text(), "ok");
    // Rate-limited: one line for the burst.
    assert.equal(opts.lines.filter((line) => line.includes("Too many open files")).length, 1);
  } finally {
    await gate.close();
  }
});

Deno.test("gate closes a connection that sends nothing, or trickles its headers, after header_timeout", async () => {
  const gate = serveGated(echo, options({ headerTimeoutSeconds: 0.2 }));
  try {
    const silent = await connect(gate.addr.port);
    assert.equal(await readToEnd(silent), "");
    const trickle = await connect(gate.addr.port);
    let cut = false;
    for (const char of GET) {
      try {
        await trickle.write(encoder.encode(char));
      } catch {
        cut = true;
        break;
      }
      await sleep(50);
      if (gate.connections === 0) {
        cut = true;
        break;
      }
    }
    assert.ok(cut, "the trickled headers were never cut");
    assert.equal(await readToEnd(trickle), "");
  } finally {
    await gate.close();
  }
});

Deno.test("gate answers 408 in the handler's shape when the body stalls for body_timeout", async () => {
  const gate = serveGated(echo, options({ bodyTimeoutSeconds: 0.2 }));
  try {
    const conn = await connect(gate.addr.port);
    await conn.write(encoder.encode(
      'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{"mo',
    ));
    const text = await readToEnd(conn);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"type":"error","error":\{"type":"timeout_error"/);
    assert.equal(gate.connections, 0);
  } finally {
    await gate.close();
  }
});

Deno.test("gate closes an idle kept-alive connection after keep_alive_timeout", async () => {
  const gate = serveGated(echo, options({ keepAliveTimeoutSeconds: 0.2 }));
  try {
    const conn = await connect(gate.addr.port);
    await conn.write(encoder.encode(GET));
    const text = await readToEnd(conn);
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /\r\n\r\nok$/);
  } finally {
    await gate.close();
  }
});

Deno.test("gate timeouts do not cut a slow answer or a stream with long pauses", async () => {
  const slow = async (request: Request): Promise<Response> => {
    if (request.method === "POST") {
      await request.text();
      await sleep(600);
      return Response.json({ done: true });
    }
    let n = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) =>
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (n++ === 3) controller.close();
            else controller.enqueue(encoder.encode(`data: ${n}\n\n`));
            resolve();
          }, 300);
        }),
      cancel: () => clearTimeout(timer),
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  };
  const gate = serveGated(
    slow,
    options({ headerTimeoutSeconds: 0.1, bodyTimeoutSeconds: 0.1, keepAliveTimeoutSeconds: 0.1 }),
  );
  try {
    const base = `http://127.0.0.1:${gate.addr.port}`;
    const answer = await fetch(`${base}/v1/chat/completions`, { method: "POST", body: "{}" });
    assert.deepEqual(await answer.json(), { done: true });
    const stream = await fetch(`${base}/stream`);
    assert.equal(await stream.text(), "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  } finally {
    await gate.close();
  }
});

Deno.test("gate passes a client disconnect on to request.signal", async () => {
  const { promise: aborted, resolve } = Promise.withResolvers<void>();
  const hang = (request: Request): Promise<Response> => {
    request.signal.addEventListener("abort", () => resolve());
    return aborted.then(() => new Response("late"));
  };
  const gate = serveGated(hang, options());
  try {
    const conn = await connect(gate.addr.port);
    await conn.write(encoder.encode(GET));
    await waitUntil(() => gate.inFlight === 1, "the request in flight");
    conn.close();
    await aborted;
  } finally {
    await gate.close();
  }
});

Deno.test("defaultMaxConnections leaves room below the open-file limit", () => {
  const limits = "Limit                     Soft Limit           Hard Limit           Units\n" +
    "Max open files            1024                 1048576              files\n";
  assert.equal(defaultMaxConnections(limits), 240);
  assert.equal(defaultMaxConnections(""), 4080);
  assert.ok(defaultMaxConnections() >= 1);
});

Deno.test("gate refuses requests on the inner port that did not come through it", async () => {
  let reached = false;
  const gate = serveGated(() => {
    reached = true;
    return new Response("ok");
  }, options());
  try {
    const response = await fetch(`http://127.0.0.1:${gate.innerAddr.port}/health`);
    assert.equal(response.status, 403);
    assert.equal((await response.json()).error.type, "permission_error");
    assert.equal(reached, false);
  } finally {
    await gate.close();
  }
});

Deno.test("gate hands the handler the raw request target, dot segments and escapes included", async () => {
  const gate = serveGated((request) => new Response(request.url), options());
  try {
    const conn = await connect(gate.addr.port);
    await conn.write(encoder.encode("GET /v1/../slots/%2e%2e/0 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"));
    assert.match(await readToEnd(conn), /http:\/\/x\/v1\/\.\.\/slots\/%2e%2e\/0$/);
  } finally {
    await gate.close();
  }
});

Deno.test("gate keeps backpressure: a client that stops reading stops the handler's stream", async () => {
  const CHUNK = 64 * 1024;
  let pulled = 0;
  const { promise: cancelled, resolve: onCancel } = Promise.withResolvers<void>();
  const gate = serveGated(() => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK));
      },
      cancel: () => onCancel(),
    }, { highWaterMark: 0 });
    return new Response(body);
  }, options());
  try {
    const conn = await connect(gate.addr.port);
    await conn.write(encoder.encode(GET));
    // Without backpressure the handler's stream would be pulled for ever; with it, it stops once buffers are full.
    let previous = -1;
    await waitUntil(async () => {
      const settled = pulled === previous;
      previous = pulled;
      await sleep(100);
      return settled;
    }, "the stream to stop being pulled");
    assert.ok(pulled > 0 && pulled < 64 * 1024 * 1024, `${pulled} bytes pulled for a client that read nothing`);
    conn.close();
    await cancelled;
  } finally {
    await gate.close();
  }
});

Deno.test("gate keeps backpressure: a handler that does not read the body stops the client's upload", async () => {
  const { promise: release, resolve: done } = Promise.withResolvers<void>();
  const gate = serveGated(async () => {
    await release;
    return new Response("late");
  }, options());
  const conn = await connect(gate.addr.port);
  try {
    const total = 256 * 1024 * 1024;
    await conn.write(encoder.encode(`POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: ${total}\r\n\r\n`));
    const chunk = new Uint8Array(64 * 1024);
    let written = 0;
    const writer = (async () => {
      while (written < total) written += await conn.write(chunk);
    })().catch(() => {});
    let previous = -1;
    await waitUntil(async () => {
      const settled = written === previous;
      previous = written;
      await sleep(100);
      return settled;
    }, "the upload to stall");
    assert.ok(written > 0 && written < 64 * 1024 * 1024, `${written} bytes taken from a body nobody reads`);
    conn.close();
    await writer;
  } finally {
    done();
    await gate.close();
  }
});
