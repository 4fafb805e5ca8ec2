/**
 * The request handler, built from a validated {@link Config}: `(Request) => Promise<Response>`.
 *
 * Routes (all under `listen.base_path` when set):
 * - `GET /`, `/health`: health document;
 * - `GET /models`, `/v1/models`: union of the upstreams' model lists; `GET /v1/models/{id}`: one of them;
 * - `POST /chat/completions`, `/v1/chat/completions`: OpenAI generation;
 * - `POST /messages`, `/v1/messages`: Anthropic generation;
 * - `POST /v1/messages/count_tokens`: token count (passthrough, or converted);
 * - `POST /generate`, `/v1/generate`: SGLang's native generation, forwarded to the upstream's server root;
 * - `POST /api/event_logging/batch`: Claude Code telemetry, acknowledged locally;
 * - `POST /tokenize`, `/detokenize` (and under `/v1`): llama.cpp's tokenizer, forwarded to the upstream's server root;
 * - other `POST /v1/*`: passthrough to the upstream bound by the body's `model`, for the endpoints in
 *   `routing/forward_paths.ts` and those an upstream's `forward_paths` allows.
 *
 * Before routing, `Host` and `Origin` are checked (`http/browser_guard.ts`) and the path is decoded without dot
 * segments or encoded slashes (`http/request_target.ts`); routing uses that path, never a URL rebuilt from `Host`.
 * A doubled `/v1` (a client whose base URL already ends in `/v1`) is accepted for the known endpoints, with a
 * one-time hint in the log. An unknown path answers 404 and a known path with the wrong method 405, both as JSON.
 * With client keys configured, every route but the health routes needs one (`http/client_auth.ts`).
 *
 * @module
 */

import type { Config } from "./config/config.ts";
import { createContext, type ProxyContext } from "./context.ts";
import { handleCountTokens } from "./handlers/count_tokens.ts";
import { type GenerationEndpoint, handleGeneration, SGLANG_GENERATE } from "./handlers/generation.ts";
import { handleHealth } from "./handlers/health.ts";
import { modelBody, ModelList, modelListBody } from "./handlers/models.ts";
import { BrowserGuard } from "./http/browser_guard.ts";
import { UpstreamHealth } from "./handlers/upstream_health.ts";
import { errorResponse, ProxyError } from "./http/errors.ts";
import { ANTHROPIC_MESSAGES } from "./protocols/anthropic_messages.ts";
import type { Dialect } from "./protocols/dialect.ts";
import { clientDialect, DEFAULT_DIALECT, dialectOfEndpoint, wireProtocol } from "./protocols/registry.ts";
import { pathSegments, rawPath, routePath } from "./http/request_target.ts";
import {
  type LifecycleSubscriber,
  observeAnswer,
  type RequestKind,
  type RequestLifecycle,
} from "./observability/lifecycle.ts";
import type { Logger } from "./observability/logger.ts";
import { DEFAULT_FORWARDED, isForwarded, notForwarded, SERVER_ROOT_ENDPOINTS } from "./routing/forward_paths.ts";

/** Options of {@link App}. */
export interface AppOptions {
  logger: Logger;
  /** The `fetch` for upstream calls. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Lifecycle subscribers after the request log line. @default none */
  subscribers?: readonly LifecycleSubscriber[];
}

/** One running proxy: its shared state and its request handler. */
export class App {
  /** Shared state, for the health route and tests. */
  readonly context: ProxyContext;
  /** Upstream probes for `/health`; `main.ts` starts and stops them (tests start them when they need them). */
  readonly upstreamHealth: UpstreamHealth;
  #models: ModelList;
  #browser: BrowserGuard;
  #basePath: string[];
  #forwardPaths: string[];
  #doubledV1Hinted = false;

  constructor(config: Config, options: AppOptions) {
    this.context = createContext(config, options);
    this.upstreamHealth = new UpstreamHealth(this.context, config.healthCheck);
    this.#models = new ModelList(this.context, { extra: () => [...this.context.policy.virtualModels] });
    this.#browser = new BrowserGuard({
      boundHost: config.listen.host,
      allowedHosts: config.listen.allowedHosts,
      corsOrigins: config.cors.origins,
    });
    this.#basePath = config.listen.basePath.split("/").filter(Boolean);
    this.#forwardPaths = config.upstreams.flatMap((upstream) => upstream.forwardPaths);
  }

  /** Handles one request; never throws. */
  readonly handler = async (request: Request): Promise<Response> => {
    const path = rawPath(request.url);
    const dialect = clientDialect(path, request.headers);
    let origin: string | undefined;
    try {
      // `admit` checks that `Host` is `host[:port]`, so the path read from `request.url` is the request target.
      origin = this.#browser.admit(request.headers);
      if (this.context.drain.draining) throw this.context.drain.admission.reason;
      if (origin !== undefined && this.#browser.isPreflight(request)) {
        return this.#browser.preflight(request.headers, origin);
      }
      return this.#browser.decorate(await this.#route(request, pathSegments(path), dialect), origin);
    } catch (error) {
      if (error instanceof ProxyError) return this.#browser.decorate(errorResponse(dialect, error), origin);
      this.context.logger.log("error", `Unhandled error: ${error instanceof Error ? error.stack : String(error)}`);
      return errorResponse(dialect, new ProxyError(500, "api_error", "Internal error"));
    }
  };

  async #route(incoming: Request, full: string[], dialect: Dialect): Promise<Response> {
    const below = this.#belowBasePath(full);
    if (below === undefined) throw notFound(rawPath(incoming.url));
    const segments = this.#withoutDoubledV1(below);
    const modelId = modelItemId(segments);
    const path = modelId === undefined ? routePath(segments) : "/v1/models/{id}";
    const { request, authorized } = await this.context.clientAuth.check(incoming, path);
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
        return handleHealth(this.context, this.upstreamHealth, authorized);
      case "models":
        return await this.#observed(request, "models", dialect, async () => {
          return Response.json(modelListBody(await this.#models.get(request.headers), dialect));
        });
      case "model":
        return await this.#observed(request, "models", dialect, async () => {
          const entry = (await this.#models.get(request.headers)).find((model) => model.id === modelId);
          if (!entry) throw new ProxyError(404, "not_found", `Model "${modelId}" is not served by any upstream`);
          return Response.json(modelBody(entry, dialect));
        });
      case "count_tokens":
        return await this.#observed(
          request,
          "count_tokens",
          ANTHROPIC_MESSAGES,
          (events) => handleCountTokens(this.context, request, events),
        );
      case "event_logging":
        await request.body?.cancel();
        return Response.json({ status: "ok" });
      case "generation":
        if (!isForwarded(generationPath(path), this.#forwardPaths)) throw notForwarded(path);
        return await handleGeneration(this.context, request, generationEndpoint(path));
    }
  }

  /** Answers `request` inside a lifecycle of `kind` (see `observeAnswer`). */
  #observed(
    request: Request,
    kind: RequestKind,
    dialect: Dialect,
    answer: (events: RequestLifecycle) => Promise<Response>,
  ): Promise<Response> {
    const { lifecycle, nextRequestId } = this.context;
    return observeAnswer(
      lifecycle,
      nextRequestId(),
      { kind, dialect: wireProtocol(dialect), signal: request.signal },
      answer,
    );
  }

  /** The segments below `listen.base_path`, or undefined when the path is outside it. */
  #belowBasePath(segments: string[]): string[] | undefined {
    const base = this.#basePath;
    return base.every((segment, i) => segments[i] === segment) ? segments.slice(base.length) : undefined;
  }

  /** `/v1/v1/…` of a known endpoint as `/v1/…`, with a one-time hint; any other path unchanged. */
  #withoutDoubledV1(segments: string[]): string[] {
    if (segments[0] !== "v1" || segments[1] !== "v1") return segments;
    const rest = segments.slice(1);
    const known = modelItemId(rest) !== undefined || KNOWN_V1.has(rest.slice(1).join("/"));
    if (!known) return segments;
    if (!this.#doubledV1Hinted) {
      this.#doubledV1Hinted = true;
      this.context.logger.log(
        "warn",
        `A client called /v1/${rest.join("/")}: its base URL ends in /v1 and the proxy's paths do too; ` +
          "remove /v1 from the client's base URL (served anyway)",
      );
    }
    return rest;
  }
}

interface RouteSpec {
  kind: "health" | "models" | "model" | "count_tokens" | "event_logging" | "generation";
  methods: string[];
  match: (path: string) => boolean;
}

const ROUTES: RouteSpec[] = [
  { kind: "health", methods: ["GET"], match: (p) => p === "/" || p === "/health" },
  { kind: "models", methods: ["GET"], match: (p) => p === "/models" || p === "/v1/models" },
  { kind: "model", methods: ["GET"], match: (p) => p === "/v1/models/{id}" },
  {
    kind: "count_tokens",
    methods: ["POST"],
    match: (p) => p === "/v1/messages/count_tokens" || p === "/messages/count_tokens",
  },
  { kind: "event_logging", methods: ["POST"], match: (p) => p === "/api/event_logging/batch" },
  {
    kind: "generation",
    methods: ["POST"],
    match: (p) =>
      p === "/chat/completions" || p === "/messages" || p === "/generate" || p.startsWith("/v1/") ||
      SERVER_ROOT_ENDPOINTS.includes(p.slice(1)),
  },
];

/** Endpoints below `/v1` served under a doubled `/v1/v1` too (a model item is checked apart). */
const KNOWN_V1 = new Set(["models", "messages/count_tokens", ...DEFAULT_FORWARDED]);

/** The model id of `/v1/models/{id}` or `/models/{id}` (the id may hold `/`), else undefined. */
function modelItemId(segments: readonly string[]): string | undefined {
  const at = segments[0] === "v1" ? 1 : 0;
  return segments[at] === "models" && segments.length > at + 1 ? segments.slice(at + 1).join("/") : undefined;
}

/** The `/v1/…` path of a generation route's path (`/chat/completions` and `/messages` are `/v1` endpoints). */
function generationPath(path: string): string {
  return path.startsWith("/v1/") ? path : `/v1${path}`;
}

/** The generation endpoint of a path that matched the generation route. */
function generationEndpoint(path: string): GenerationEndpoint {
  const endpoint = path.replace(/^\/(v1\/)?/, "");
  const dialect = dialectOfEndpoint(endpoint);
  if (dialect !== undefined) return { dialect, endpoint, convertible: true };
  if (endpoint === SGLANG_GENERATE.endpoint) return SGLANG_GENERATE;
  if (SERVER_ROOT_ENDPOINTS.includes(endpoint)) {
    return { dialect: DEFAULT_DIALECT, endpoint, convertible: false, serverRoot: true, modelOptional: true };
  }
  return { dialect: DEFAULT_DIALECT, endpoint, convertible: false };
}

function notFound(path: string): ProxyError {
  return new ProxyError(404, "not_found", `No route for ${path}`);
}
