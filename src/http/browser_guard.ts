/**
 * Defence against web pages: DNS rebinding (a foreign `Host`) and cross-origin requests (a foreign `Origin`), plus
 * CORS for the origins the config lists.
 *
 * - `Host` must name this proxy: `localhost` (or a `*.localhost` name), an IP address (a rebinding attack needs a
 *   name it controls, so an address literal is never one), the bound host, or a name in `listen.allowed_hosts`.
 *   A request without `Host` (HTTP/1.0) passes: browsers always send one.
 * - A request with an `Origin` comes from a browser page; it is refused unless the origin is in `cors.origins`. So
 *   is a request without one that a browser marks as another site's (`Sec-Fetch-Site: cross-site` or `same-site`:
 *   a page's no-cors GET). Requests without either (SDKs, curl, CLIs, a URL typed in the address bar) are
 *   unaffected.
 * - For a listed origin, preflights (`OPTIONS` with `access-control-request-method`) are answered and responses
 *   carry `access-control-allow-origin`; with any origin listed every response carries `vary: origin`.
 *
 * @module
 */

import { ProxyError } from "./errors.ts";
import { parseHostHeader } from "./request_target.ts";

/** Options of {@link BrowserGuard}. */
export interface BrowserGuardOptions {
  /** The address the proxy is bound to (`listen.host`). */
  boundHost: string;
  /** Extra host names accepted in `Host` (`listen.allowed_hosts`). */
  allowedHosts: readonly string[];
  /** Origins allowed to call the proxy from a browser (`cors.origins`), e.g. `http://localhost:3000`. */
  corsOrigins: readonly string[];
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Response headers the SDKs read, made visible to allowed browser origins. */
const EXPOSED_HEADERS = "retry-after, retry-after-ms, x-should-retry, x-request-id, request-id";

/** Checks `Host` and `Origin` of each request and adds CORS headers for allowed origins. */
export class BrowserGuard {
  #hosts: Set<string>;
  #origins: Set<string>;

  constructor(options: BrowserGuardOptions) {
    const bound = options.boundHost.includes(":") ? `[${options.boundHost}]` : options.boundHost;
    this.#hosts = new Set(["localhost", bound, ...options.allowedHosts].map((name) => name.toLowerCase()));
    this.#origins = new Set(options.corsOrigins.map((origin) => origin.replace(/\/+$/, "").toLowerCase()));
  }

  /**
   * Admits a request by its `Host` and `Origin`; returns the request's origin when it is an allowed one.
   *
   * @throws {ProxyError} 400 for a malformed `Host`; 403 for a foreign `Host` or `Origin`
   */
  admit(headers: Headers): string | undefined {
    const host = headers.get("host");
    if (host !== null && !this.#hostAllowed(parseHostHeader(host).hostname)) {
      throw new ProxyError(
        403,
        "permission",
        "Host header names no address of this proxy; add the name to listen.allowed_hosts to accept it",
      );
    }
    const origin = headers.get("origin");
    // A page's no-cors GET carries no Origin, but browsers mark it with Sec-Fetch-Site.
    const site = headers.get("sec-fetch-site");
    if (origin === null && site !== "cross-site" && site !== "same-site") return undefined;
    if (origin === null || !this.#origins.has(origin.toLowerCase())) {
      throw new ProxyError(
        403,
        "permission",
        "Requests from web pages are refused; list the page's origin in cors.origins to allow it",
      );
    }
    return origin;
  }

  /** The answer to a CORS preflight from an allowed `origin`. */
  preflight(headers: Headers, origin: string): Response {
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": headers.get("access-control-request-headers") ?? "content-type",
        "access-control-max-age": "600",
        vary: "origin, access-control-request-method, access-control-request-headers",
      },
    });
  }

  /** Whether a request is a CORS preflight. */
  isPreflight(request: Request): boolean {
    return request.method === "OPTIONS" && request.headers.has("access-control-request-method");
  }

  /** Adds the CORS headers of a response to a request from `origin` (undefined: no allowed origin). */
  decorate(response: Response, origin: string | undefined): Response {
    if (this.#origins.size === 0) return response;
    response.headers.append("vary", "origin");
    if (origin !== undefined) {
      response.headers.set("access-control-allow-origin", origin);
      response.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    }
    return response;
  }

  #hostAllowed(hostname: string): boolean {
    return this.#hosts.has(hostname) || hostname.endsWith(".localhost") || IPV4.test(hostname) ||
      hostname.startsWith("[");
  }
}
