/**
 * A minimal, fast mock LLM upstream for the benchmark, run as its own process so that it never shares an event
 * loop with the load generator.
 *
 * Routes:
 * - `GET /v1/models`: a one-model list;
 * - `POST /v1/chat/completions`: an OpenAI chat completion, or with `"stream": true` a stream of chunks;
 * - `POST /v1/messages`: an Anthropic message, or with `"stream": true` a stream of events;
 * - `GET /bench/arrivals`: the `x-bench-index` header values of the generation requests received so far, in the
 *   order they arrived, each with its arrival time (`{"arrivals": [{"index": "0", "atMs": 12.5}, …]}`);
 *   `DELETE /bench/arrivals` forgets them. Requests without the header are not recorded. A client passes its
 *   arrival index through the proxy in this header, so the order in which the proxy lets requests through to the
 *   upstream can be checked (FIFO); at most {@link MAX_RECORDED_ARRIVALS} are kept.
 *
 * A stream carries N content deltas of a few tokens each, sent as fast as possible, one event per write, framed
 * by the protocol's opening and closing events (`data: [DONE]`, `message_stop`). N comes from the
 * `x-bench-events` request header, else from a model name ending in `-ev<N>` (e.g. `bench-ev200`), else
 * {@link DEFAULT_STREAM_EVENTS}. Bodies are built once per (protocol, model, N) and cached.
 *
 * Responses are never compressed (`cache-control: no-transform` stops `Deno.serve`'s automatic gzip), as with
 * llama.cpp or vLLM, so the figures measure proxying rather than compression.
 *
 * Run: `deno run --allow-net bench/fast_upstream.ts` prints `fast-upstream listening on http://127.0.0.1:PORT`.
 *
 * @module
 */

/** Content deltas in a stream when neither the header nor the model name says. */
export const DEFAULT_STREAM_EVENTS = 200;
/** The largest N accepted, so that a typo cannot exhaust memory. */
export const MAX_STREAM_EVENTS = 100_000;

/** The most arrivals `GET /bench/arrivals` keeps; later ones are dropped, so a long run cannot exhaust memory. */
export const MAX_RECORDED_ARRIVALS = 10_000;

/** One tagged request, as `GET /bench/arrivals` lists it. */
export interface Arrival {
  /** The request's `x-bench-index` header. */
  index: string;
  /** `performance.now()` of the upstream process when the request arrived. */
  atMs: number;
}

/** The line printed on stdout once listening, followed by the base URL (without `/v1`). */
export const FAST_UPSTREAM_LISTENING = "fast-upstream listening on ";

/** Options of {@link serveFastUpstream}. */
export interface FastUpstreamOptions {
  /** Port to listen on. @default 0 (a free port) */
  port?: number;
  /** Called once listening, with the base URL (`http://127.0.0.1:PORT`). */
  onListen?: (baseUrl: string) => void;
  /** Stops the server. */
  signal?: AbortSignal;
}

type Protocol = "openai" | "anthropic";

const WORDS = [" the", " quick", " brown", " fox", " jumps", " over", " a", " lazy", " dog", " and", " runs", " far"];
const CREATED = 1_700_000_000;
const MAX_CACHED_BODIES = 64;
const encoder = new TextEncoder();

/** Starts the mock upstream on 127.0.0.1; see the module doc for its routes. */
export function serveFastUpstream(options: FastUpstreamOptions = {}): Deno.HttpServer {
  const { port = 0, onListen, signal } = options;
  const cache = new Map<string, Uint8Array<ArrayBuffer>[]>();
  const cached = (key: string, build: () => Uint8Array<ArrayBuffer>[]): Uint8Array<ArrayBuffer>[] => {
    let value = cache.get(key);
    if (value === undefined) {
      if (cache.size >= MAX_CACHED_BODIES) cache.clear();
      value = build();
      cache.set(key, value);
    }
    return value;
  };
  const arrivals: Arrival[] = [];
  const modelsBody = encoder.encode(JSON.stringify({
    object: "list",
    data: [{ id: "bench", object: "model", created: CREATED, owned_by: "fast-upstream" }],
  }));

  return Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal,
    onListen: ({ port }) => onListen?.(`http://127.0.0.1:${port}`),
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/v1/models") return jsonResponse(modelsBody);
    if (path === "/bench/arrivals" && (request.method === "GET" || request.method === "DELETE")) {
      if (request.method === "DELETE") arrivals.length = 0;
      return Response.json({ arrivals });
    }
    const protocol: Protocol | undefined = path === "/v1/chat/completions"
      ? "openai"
      : path === "/v1/messages"
      ? "anthropic"
      : undefined;
    if (request.method !== "POST" || protocol === undefined) {
      await request.body?.cancel();
      return Response.json({ error: { message: `No route for ${request.method} ${path}` } }, { status: 404 });
    }
    const index = request.headers.get("x-bench-index");
    if (index !== null && arrivals.length < MAX_RECORDED_ARRIVALS) arrivals.push({ index, atMs: performance.now() });
    let body: { model?: unknown; stream?: unknown };
    try {
      body = await request.json();
    } catch {
      return Response.json({ error: { message: "Body is not JSON" } }, { status: 400 });
    }
    const model = typeof body.model === "string" ? body.model : "bench";
    if (body.stream !== true) {
      const [json] = cached(`json ${protocol} ${model}`, () => [encoder.encode(completionBody(protocol, model))]);
      return jsonResponse(json);
    }
    const count = streamEvents(request.headers, model);
    const events = cached(`sse ${protocol} ${count} ${model}`, () => streamBody(protocol, model, count));
    const gapMs = eventGapMs(model);
    let next = 0;
    const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
      async pull(controller) {
        // A paced stream sleeps between content events, like a model generating tokens at a finite rate.
        if (gapMs > 0 && next > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        controller.enqueue(events[next++]);
        if (next === events.length) controller.close();
      },
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache, no-transform" },
    });
  });
}

function jsonResponse(body: Uint8Array<ArrayBuffer>): Response {
  return new Response(body, { headers: { "content-type": "application/json", "cache-control": "no-transform" } });
}

/** Milliseconds between two events, from a model name containing `-gap<N>` (e.g. `bench-ev200-gap5`); 0 = none. */
function eventGapMs(model: string): number {
  return Number(/-gap(\d+)/.exec(model)?.[1] ?? 0);
}

/** N from the `x-bench-events` header, else the model's `-ev<N>` suffix, else the default; capped. */
function streamEvents(headers: Headers, model: string): number {
  const text = headers.get("x-bench-events") ?? /-ev(\d+)/.exec(model)?.[1];
  const count = text === undefined ? DEFAULT_STREAM_EVENTS : Number(text);
  return Number.isInteger(count) && count >= 0 ? Math.min(count, MAX_STREAM_EVENTS) : DEFAULT_STREAM_EVENTS;
}

/** A short answer in `protocol`'s non-streamed shape. */
function completionBody(protocol: Protocol, model: string): string {
  const text = WORDS.join("").trim() + ".";
  if (protocol === "openai") {
    return JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion",
      created: CREATED,
      model,
      choices: [{ index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 24, completion_tokens: WORDS.length + 1, total_tokens: 24 + WORDS.length + 1 },
    });
  }
  return JSON.stringify({
    id: "msg_bench",
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 24, output_tokens: WORDS.length + 1 },
  });
}

/** Vocabulary of the streamed prose. */
const PROSE_WORDS = (
  "model server token stream proxy request answer context window memory latency budget sampling temperature " +
  "queue slot limit upstream client protocol message event block thinking tool call result schema field value " +
  "config binding pattern route header status error retry loop detector window buffer chunk byte text prose " +
  "table list code function module test bench figure ratio median percentile second minute"
).split(" ");

/**
 * `count` deltas of two words each, drawn by a fixed-seed generator: text that reads like prose and, unlike a
 * cycle of words, never repeats, so garbage detection (rightly) finds no loop in it.
 */
function proseDeltas(count: number): string[] {
  let seed = 0x2545f491;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  const word = () => PROSE_WORDS[next() % PROSE_WORDS.length];
  return Array.from({ length: count }, () => ` ${word()} ${word()}${next() % 7 === 0 ? "." : ""}`);
}

/** The wire events of a stream with `count` content deltas, one encoded event per element. */
function streamBody(protocol: Protocol, model: string, count: number): Uint8Array<ArrayBuffer>[] {
  const deltas = proseDeltas(count);
  const events = protocol === "openai" ? openAIEvents(model, deltas) : anthropicEvents(model, deltas);
  return events.map((event) => encoder.encode(event));
}

function openAIEvents(model: string, deltas: string[]): string[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: Record<string, number>) =>
    `data: ${
      JSON.stringify({
        id: "chatcmpl-bench",
        object: "chat.completion.chunk",
        created: CREATED,
        model,
        system_fingerprint: "fast-upstream",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      })
    }\n\n`;
  const tokens = deltas.length * 2;
  return [
    chunk({ role: "assistant", content: "" }, null),
    ...deltas.map((content) => chunk({ content }, null)),
    chunk({}, "stop", { prompt_tokens: 24, completion_tokens: tokens, total_tokens: 24 + tokens }),
    "data: [DONE]\n\n",
  ];
}

function anthropicEvents(model: string, deltas: string[]): string[] {
  const event = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    event("message_start", {
      message: {
        id: "msg_bench",
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 24, output_tokens: 1 },
      },
    }),
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...deltas.map((text) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
    event("content_block_stop", { index: 0 }),
    event("message_delta", {
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: deltas.length * 2 },
    }),
    event("message_stop", {}),
  ];
}

if (import.meta.main) {
  const server = serveFastUpstream({ onListen: (url) => console.log(FAST_UPSTREAM_LISTENING + url) });
  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
}
