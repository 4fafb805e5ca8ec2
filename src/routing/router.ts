/**
 * Model → upstream routing: the exact name first, then glob patterns in config order; first match wins.
 *
 * Matching is case-sensitive, on the model name exactly as the client sent it (see `policy/model_matcher.ts`).
 *
 * @module
 */

import type { Binding, UpstreamConfig } from "../config/config.ts";
import { ProxyError } from "../http/errors.ts";
import { ModelMatcher } from "../policy/model_matcher.ts";

/** The binding key that catches every model, and requests without one. */
const CATCH_ALL = "*";

/** The upstream chosen for a model, and the binding key that chose it. */
export interface Route {
  readonly upstream: UpstreamConfig;
  readonly pattern: string;
}

/** Picks an upstream for each model name. */
export class Router {
  #matcher: ModelMatcher<UpstreamConfig>;
  #patterns: string[];
  #catchAll: Route | undefined;

  /** Compiles the bindings; every binding must name one of `upstreams` (the config loader checks this). */
  constructor(upstreams: readonly UpstreamConfig[], bindings: readonly Binding[]) {
    const byName = new Map(upstreams.map((u) => [u.name, u]));
    this.#matcher = new ModelMatcher(bindings.map((b) => {
      const upstream = byName.get(b.upstream);
      if (!upstream) throw new TypeError(`Binding "${b.pattern}" names unknown upstream "${b.upstream}"`);
      return [b.pattern, upstream] as const;
    }));
    this.#patterns = bindings.map((b) => b.pattern);
    const star = this.#matcher.match(CATCH_ALL);
    this.#catchAll = star?.pattern === CATCH_ALL ? { upstream: star.value, pattern: CATCH_ALL } : undefined;
  }

  /**
   * The upstream of the `"*"` binding, for requests that name no model (SGLang's `/generate`).
   *
   * @throws {ProxyError} 400 when no `"*"` binding exists
   */
  catchAll(): Route {
    if (this.#catchAll) return this.#catchAll;
    throw new ProxyError(
      400,
      "invalid_request",
      'The request names no "model" and no "*" binding catches it: add a "model" or a "*" binding',
    );
  }

  /**
   * Finds the upstream for `model`.
   *
   * @throws {ProxyError} 400 when no binding matches, naming the model and the patterns tried
   */
  route(model: string): Route {
    const match = this.#matcher.match(model);
    if (!match) {
      const tried = this.#patterns.map((p) => JSON.stringify(p)).join(", ");
      throw new ProxyError(
        400,
        "invalid_request",
        `No upstream is bound to model "${model}" (patterns tried: ${tried || "none"})`,
      );
    }
    return { upstream: match.value, pattern: match.pattern };
  }
}
