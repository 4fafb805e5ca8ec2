/**
 * An attacker's web page for browser end-to-end tests: a `Deno.serve` server on 127.0.0.1 port 0 serving one HTML
 * page whose script calls the proxy the ways a hostile page can (a "simple" `text/plain` fetch, the same from a
 * sandboxed frame so its `Origin` is `null`, a JSON fetch that needs a preflight (streamed or not), a `text/plain` form post, a beacon, a
 * no-cors GET), writes what it could observe into the page
 * and reports it back to this server. The page's `load` event waits for that report (a script the server holds), so
 * Chromium's `--dump-dom` exits only after every attempt settled.
 *
 * The page takes its target from its own URL: `http://HOST:PORT/?proxy=http://127.0.0.1:PROXYPORT`. Each attempt
 * tags its URL with `?via=NAME` so the proxy side can tell them apart.
 *
 * @module
 */

/** The ways the page calls the proxy. */
export type Attack = "simple" | "sandboxed" | "json" | "stream" | "form" | "beacon" | "models";

/**
 * What the page observed per attack: `status …`, an error such as `TypeError: Failed to fetch`, or a note; or, when
 * its script broke, `pageError`.
 */
export type Observations = Partial<Record<Attack | "pageError", string>>;

/** Options of {@linkcode startAttackPage}. */
export interface AttackPageOptions {
  /** Which attacks the page runs, in this order. */
  attacks: readonly Attack[];
}

/** A running attack page. `await using` closes it. */
export interface AttackPage extends AsyncDisposable {
  /** The port the page is served on (load it as `http://127.0.0.1:PORT/` or through a mapped name). */
  readonly port: number;
  /** What the page reported, once it has. */
  readonly observations: Observations | undefined;
  /** Stops the server (releasing a held script); safe to call more than once. */
  close(): Promise<void>;
}

/** A chat request body that is valid JSON as the page sends it. */
const CHAT_BODY = { model: "mock-model", messages: [{ role: "user", content: "sent by a web page" }] };

/**
 * The form's single field: `text/plain` encodes it as `name=value`, so a name that opens a JSON string and a value
 * that closes it make the whole body a valid chat request.
 */
const FORM_NAME = JSON.stringify({ ...CHAT_BODY, pad: "" }).slice(0, -2);
const FORM_VALUE = '"}';

/** Reports a script error of the page at once, so a broken page fails fast instead of holding its load. */
const ERROR_SCRIPT = String.raw`addEventListener("error", (event) => {
  fetch("/report", { method: "POST", body: JSON.stringify({ pageError: String(event.message) }) });
});`;

/** The page's script: runs the attacks one after another, shows and reports what it saw. */
const SCRIPT = String.raw`
const attempts = {
  simple: async () => {
    const response = await fetch(PROXY + "/v1/chat/completions?via=simple", {
      method: "POST", headers: { "content-type": "text/plain" }, body: BODY,
    });
    return "status " + response.status;
  },
  sandboxed: () => new Promise((resolve) => {
    addEventListener("message", (event) => resolve(String(event.data)), { once: true });
    const frame = document.createElement("iframe");
    frame.sandbox = "allow-scripts";
    frame.srcdoc = "<script>fetch(" + JSON.stringify(PROXY + "/v1/chat/completions?via=sandboxed") +
      ", { method: 'POST', headers: { 'content-type': 'text/plain' }, body: " + JSON.stringify(BODY) + " })" +
      ".then((response) => 'status ' + response.status, (error) => error.name + ': ' + error.message)" +
      ".then((seen) => parent.postMessage(seen, '*'));<\/script>";
    document.body.append(frame);
  }),
  json: async () => {
    const response = await fetch(PROXY + "/v1/chat/completions?via=json", {
      method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-page" }, body: BODY,
    });
    const answer = await response.json();
    return "status " + response.status + ": " + answer.choices[0].message.content;
  },
  stream: async () => {
    const response = await fetch(PROXY + "/v1/chat/completions?via=stream", {
      method: "POST", headers: { "content-type": "application/json" }, body: STREAM_BODY,
    });
    const text = await response.text();
    const events = text.split("\n").filter((line) => line.startsWith("data: {"));
    const content = events.map((line) => JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? "").join("");
    return "status " + response.status + ", streamed: " + content + (text.includes("data: [DONE]") ? " [DONE]" : "");
  },
  form: () => new Promise((resolve) => {
    document.getElementById("sink").onload = () => resolve("submitted, its frame loaded");
    document.getElementById("form").submit();
  }),
  beacon: async () => navigator.sendBeacon(PROXY + "/v1/chat/completions?via=beacon", BODY) ? "queued" : "not queued",
  models: async () => {
    const response = await fetch(PROXY + "/v1/models?via=models", { mode: "no-cors" });
    return "response type " + response.type;
  },
};
(async () => {
  const seen = {};
  for (const name of ATTACKS) {
    try {
      seen[name] = await attempts[name]();
    } catch (error) {
      seen[name] = error.name + ": " + error.message;
    }
    document.getElementById("observations").textContent = JSON.stringify(seen, null, 2);
  }
  await fetch("/report", { method: "POST", body: JSON.stringify(seen) });
})();
`;

/** Escapes text for an HTML attribute value in double quotes. */
function attribute(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}

/** The page's HTML, aimed at `proxy` (e.g. `http://127.0.0.1:PORT` or `http://evil.test:PORT`). */
function pageHtml(proxy: string, attacks: readonly Attack[]): string {
  const constants = `const PROXY = ${JSON.stringify(proxy)}; const ATTACKS = ${JSON.stringify(attacks)}; const BODY = ${
    JSON.stringify(JSON.stringify(CHAT_BODY))
  }; const STREAM_BODY = ${JSON.stringify(JSON.stringify({ ...CHAT_BODY, stream: true }))};`;
  const action = `${proxy}/v1/chat/completions?via=form`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>attack page</title></head>
<body style="font: 16px monospace">
<h1>A web page calling ${attribute(proxy)}</h1>
<pre id="observations">running</pre>
<iframe name="sink" id="sink" width="600" height="120"></iframe>
<form id="form" method="post" enctype="text/plain" target="sink" action="${attribute(action)}">
<input type="hidden" name="${attribute(FORM_NAME)}" value="${attribute(FORM_VALUE)}">
</form>
<script>${ERROR_SCRIPT}</script>
<script>${constants}${SCRIPT}</script>
<script src="/after-report.js"></script>
</body></html>`;
}

/** Starts an attack page server for `options`. */
export function startAttackPage(options: AttackPageOptions): Promise<AttackPage> {
  const reported = Promise.withResolvers<void>();
  const closing = Promise.withResolvers<void>();
  let observations: Observations | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/report") {
      observations = await request.json();
      reported.resolve();
      return new Response(null, { status: 204 });
    }
    if (path === "/after-report.js") {
      await Promise.race([reported.promise, closing.promise]);
      return new Response("", { headers: { "content-type": "text/javascript" } });
    }
    const proxy = url.searchParams.get("proxy");
    if (path !== "/" || proxy === null) return new Response(null, { status: 404 });
    return new Response(pageHtml(proxy, options.attacks), { headers: { "content-type": "text/html; charset=utf-8" } });
  });
  let closed: Promise<void> | undefined;
  const close = () => {
    closing.resolve();
    closed ??= server.shutdown();
    return closed;
  };
  return Promise.resolve({
    port: server.addr.port,
    get observations() {
      return observations;
    },
    close,
    [Symbol.asyncDispose]: close,
  });
}
