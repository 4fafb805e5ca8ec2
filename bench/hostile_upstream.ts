/**
 * An upstream that misbehaves on purpose, for the soak run (`deno task bench --soak`), run as its own process.
 *
 * `POST /v1/chat/completions` answers according to the request's model name:
 * - `hostile-hang`: sends the response headers, then nothing, ever;
 * - `hostile-trickle`: a stream that sends one byte every {@link TRICKLE_GAP_MS} ms and never finishes;
 * - `hostile-endless-line`: one SSE `data:` line that never ends (no blank line), as fast as the proxy reads it;
 * - `hostile-gzip-bomb`: a non-streamed answer of {@link BOMB_INFLATED_BYTES} zero bytes gzip-compressed, sent with
 *   `content-encoding: gzip` whatever the request asked for;
 * - `hostile-drop`: half a stream, then the connection is cut;
 * - `hostile-garbage`: a 200 JSON body that is not JSON.
 *
 * `GET /v1/models` lists these names. Everything is made on demand and bounded: the endless line and the trickle
 * stop when the proxy cancels them.
 *
 * Run: `deno run --allow-net bench/hostile_upstream.ts` prints `hostile-upstream listening on http://127.0.0.1:PORT`.
 *
 * @module
 */

/** The line printed on stdout once listening, followed by the base URL (without `/v1`). */
export const HOSTILE_UPSTREAM_LISTENING = "hostile-upstream listening on ";

/** The misbehaviours served, one model name each. */
export const HOSTILE_MODELS = [
  "hostile-hang",
  "hostile-trickle",
  "hostile-endless-line",
  "hostile-gzip-bomb",
  "hostile-drop",
  "hostile-garbage",
] as const;

/** Gap between two bytes of the trickle. */
export const TRICKLE_GAP_MS = 3000;
/** Size of the gzip bomb once inflated. */
export const BOMB_INFLATED_BYTES = 1 << 30;

const ENDLESS_CHUNK_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/** Options of {@link serveHostileUpstream}. */
export interface HostileUpstreamOptions {
  /** Called with the base URL once listening. */
  onListen?: (url: string) => void;
  /** Stops the server. */
  signal?: AbortSignal;
}

/** Starts the hostile upstream on 127.0.0.1, port 0; see the module doc. */
export async function serveHostileUpstream(options: HostileUpstreamOptions = {}): Promise<Deno.HttpServer> {
  const bomb = await gzipBomb(BOMB_INFLATED_BYTES);
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: options.signal,
    onListen: ({ port }) => options.onListen?.(`http://127.0.0.1:${port}`),
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/v1/models") {
      return Response.json({ object: "list", data: HOSTILE_MODELS.map((id) => ({ id, object: "model" })) });
    }
    let model = "";
    try {
      const body = await request.json();
      model = typeof body?.model === "string" ? body.model : "";
    } catch {
      return Response.json({ error: { message: "Body is not JSON" } }, { status: 400 });
    }
    return answer(model, bomb);
  });
}

function answer(model: string, bomb: Uint8Array<ArrayBuffer>): Response {
  const sse = { "content-type": "text/event-stream", "cache-control": "no-cache, no-transform" };
  switch (model) {
    case "hostile-hang":
      return new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), { headers: sse });
    case "hostile-trickle":
      return new Response(repeating(encoder.encode(":"), TRICKLE_GAP_MS), { headers: sse });
    case "hostile-endless-line": {
      const chunk = new Uint8Array(ENDLESS_CHUNK_BYTES).fill(0x61);
      const start = encoder.encode('data: {"choices":[{"delta":{"content":"');
      return new Response(prefixed(start, repeating(chunk, 0)), { headers: sse });
    }
    case "hostile-gzip-bomb":
      return new Response(bomb, {
        headers: { "content-type": "application/json", "content-encoding": "gzip", "cache-control": "no-transform" },
      });
    case "hostile-drop":
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(encoder.encode('data: {"choices":[{"index":0,"delta":{"content":"half"}}]}\n\n'));
          },
          pull(controller) {
            controller.error(new Error("dropped on purpose"));
          },
        }),
        { headers: sse },
      );
    case "hostile-garbage":
      return new Response("<html>this is not json", { headers: { "content-type": "application/json" } });
    default:
      return Response.json({ error: { message: `Unknown model ${model}` } }, { status: 404 });
  }
}

/** A stream that repeats `chunk` forever, `gapMs` apart, until cancelled. */
function repeating(chunk: Uint8Array, gapMs: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      controller.enqueue(chunk);
    },
  });
}

function prefixed(first: Uint8Array, rest: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = rest.getReader();
  let sentFirst = false;
  return new ReadableStream({
    async pull(controller) {
      if (!sentFirst) {
        sentFirst = true;
        controller.enqueue(first);
        return;
      }
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** `size` zero bytes, gzip-compressed (about 1 MiB per GiB). */
async function gzipBomb(size: number): Promise<Uint8Array<ArrayBuffer>> {
  const block = new Uint8Array(1 << 20);
  let left = size;
  const zeros = new ReadableStream<BufferSource>({
    pull(controller) {
      if (left <= 0) return controller.close();
      const n = Math.min(block.length, left);
      left -= n;
      controller.enqueue(n === block.length ? block : block.subarray(0, n));
    },
  });
  return new Uint8Array(await new Response(zeros.pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}

if (import.meta.main) {
  await serveHostileUpstream({ onListen: (url) => console.log(`${HOSTILE_UPSTREAM_LISTENING}${url}`) });
}
