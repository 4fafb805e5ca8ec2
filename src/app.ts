/**
 * The request handler, built from a validated {@link Config}: `(Request) => Promise<Response>`.
 *
 * Routes (all under `listen.base_path` when set):
 * - `GET /`, `/health`: health document;
 * - `GET /models`, `/v1/models`: union of the upstreams' model lists;
 * - `POST /chat/completions`, `/v1/chat/completions`: OpenAI generation;
 * - `POST /messages`, `/v1/messages`: Anthropic generation;
 * - `POST /v1/messages/count_tokens`: token count (passthrough, or converted);
 * - `POST /api/event_logging/batch`: Claude Code telemetry, acknowledged locally;
 * - other `POST /v1/*`: passthrough to the upstream bound by the body's `model`.
 *
 * An unknown path answers 404 and a known path with the wrong method 405, both as JSON. Routing uses the raw
 * request path, never a URL rebuilt from `Host`.
 *
 * @module
 */

import type { Config } from "./config/config.ts";
import { createContext, type ProxyContext } from "./context.ts";
import { handleCountTokens } from "./handlers/count_tokens.ts";
import { type GenerationEndpoint, handleGeneration } from "./handlers/generation.ts";
import { handleHealth } from "./handlers/health.ts";
import { ModelList } from "./handlers/models.ts";
import { errorResponse, type Protocol, ProxyError } from "./http/errors.ts";
import type { Logger } from "./observability/logger.ts";

/** Options of {@link App}. */
export interface AppOptions {
  logger: Logger;
  /** The `fetch` for upstream calls. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** One running proxy: its shared state and its request handler. */
export class App {
  /** Shared state, for the health route and tests. */
  readonly context: ProxyContext;
  #models: ModelList;

  constructor(config: Config, options: AppOptions) {
    this.context = createContext(config, options);
    this.#models = new ModelList(this.context, { extra: () => [...this.context.policy.virtualModels] });
  }

  /** Handles one request; never throws. */
  readonly handler = async (request: Request): Promise<Response> => {
    const pathname = requestPath(request.url);
    const path = stripBasePath(pathname, this.context.config.listen.basePath);
    const protocol: Protocol = path !== undefined && /(^|\/)messages(\/|$)/.test(path) ? "anthropic" : "openai";
    try {
      if (this.context.drain.draining) throw this.context.drain.admission.reason;
      if (path === undefined) throw notFound(pathname);
      return await this.#route(request, path);
    } catch (error) {
      if (error instanceof ProxyError) return errorResponse(protocol, error);
      this.context.logger.log("error", `Unhandled error: ${error instanceof Error ? error.stack : String(error)}`);
      return errorResponse(protocol, new ProxyError(500, "api_error", "Internal error"));
    }
  };

  #route(request: Request, path: string): Promise<Response> | Response {
    const method = request.method;
    const route = ROUTES.find((r) => r.match(path));
    if (!route) throw notFound(path);
    if (!route.methods.includes(method) && !(method === "HEAD" && route.methods.includes("GET"))) {
      throw new ProxyError(405, "method_not_allowed", `Method ${method} is not allowed on ${path}`, {
        headers: { allow: route.methods.join(", ") },
      });
    }
    switch (route.kind) {
      case "health":
        return handleHealth(this.context);
      case "models":
        return this.#models.get(request.headers).then((data) => Response.json({ object: "list", data }));
      case "count_tokens":
        return handleCountTokens(this.context, request);
      case "event_logging":
        return request.body?.cancel().then(() => Response.json({ status: "ok" })) ?? Response.json({ status: "ok" });
      case "generation":
        return handleGeneration(this.context, request, generationEndpoint(path));
    }
  }
}

interface RouteSpec {
  kind: "health" | "models" | "count_tokens" | "event_logging" | "generation";
  methods: string[];
  match: (path: string) => boolean;
}

const ROUTES: RouteSpec[] = [
  { kind: "health", methods: ["GET"], match: (p) => p === "/" || p === "/health" },
  { kind: "models", methods: ["GET"], match: (p) => p === "/models" || p === "/v1/models" },
  {
    kind: "count_tokens",
    methods: ["POST"],
    match: (p) => p === "/v1/messages/count_tokens" || p === "/messages/count_tokens",
  },
  { kind: "event_logging", methods: ["POST"], match: (p) => p === "/api/event_logging/batch" },
  {
    kind: "generation",
    methods: ["POST"],
    match: (p) => p === "/chat/completions" || p === "/messages" || /^\/v1\/[A-Za-z0-9_\-/.]+$/.test(p),
  },
];

/** The generation endpoint of a path that matched the generation route. */
function generationEndpoint(path: string): GenerationEndpoint {
  const endpoint = path.replace(/^\/(v1\/)?/, "").replace(/\/+$/, "");
  if (endpoint === "chat/completions") return { protocol: "openai", endpoint, convertible: true };
  if (endpoint === "messages") return { protocol: "anthropic", endpoint, convertible: true };
  return { protocol: "openai", endpoint, convertible: false };
}

/**
 * The path of an absolute request URL, read without building a `URL` (the hot path runs this per request; the
 * server always gives an absolute `scheme://authority/path?query` URL).
 */
export function requestPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query >= 0 ? query : hash >= 0 ? hash : url.length;
  return decodeURIComponent(url.slice(start, end));
}

/** The path below the base path, or undefined when the path is outside it. */
function stripBasePath(path: string, basePath: string): string | undefined {
  const normalised = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (basePath === "") return normalised;
  if (normalised === basePath) return "/";
  return normalised.startsWith(basePath + "/") ? normalised.slice(basePath.length) : undefined;
}

function notFound(path: string): ProxyError {
  return new ProxyError(404, "not_found", `No route for ${path}`);
}
