/**
 * The request target, read before any routing: a well-formed `Host` and a path without tricks.
 *
 * `Deno.serve` builds `request.url` as `http://` + the `Host` header + the raw target, so a `Host` such as
 * `x/v1/models?` would move the path. A `Host` is therefore checked to be `host[:port]` first (by
 * `browser_guard.ts`, before routing), which also means the path starts at the first `/` after the authority. The
 * path is then percent-decoded one segment at a time: a malformed escape, a `.` or `..` segment (written plainly or
 * encoded) and an encoded `/` or `\` inside a segment are refused with 400, so no path reaches an upstream other
 * than the one the proxy routed.
 *
 * @module
 */

import { ProxyError } from "./errors.ts";

/** `host[:port]`: a registered name, an IPv4 address or a bracketed IPv6 address (RFC 9110 §7.2, RFC 3986 §3.2.2). */
const HOST_HEADER = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{0,5})?$/;

/** A well-formed `Host` value split into its host (lower-cased, IPv6 with brackets) and port. */
export interface HostHeader {
  /** The host name or address, lower-cased; an IPv6 address keeps its brackets. */
  hostname: string;
  /** The port as written, `""` when absent. */
  port: string;
}

/**
 * Parses a `Host` header value.
 *
 * @throws {ProxyError} 400 when the value is not `host[:port]`
 */
export function parseHostHeader(value: string): HostHeader {
  if (!HOST_HEADER.test(value)) throw new ProxyError(400, "invalid_request", "Malformed Host header");
  const colon = value.lastIndexOf(":");
  const hasPort = colon > value.lastIndexOf("]");
  return {
    hostname: (hasPort ? value.slice(0, colon) : value).toLowerCase(),
    port: hasPort ? value.slice(colon + 1) : "",
  };
}

/**
 * The raw path of an absolute request URL (no query, no fragment), read without building a `URL`; the server
 * always gives an absolute `scheme://authority/path?query` URL.
 */
export function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query >= 0 ? query : hash >= 0 ? hash : url.length;
  return url.slice(start, end);
}

/**
 * Splits a raw path into decoded segments; empty segments (from `//` or a trailing `/`) are dropped.
 *
 * @example
 * ```ts
 * pathSegments("/v1/models/Qwen%2FQwen3-8B"); // ["v1", "models", "Qwen/Qwen3-8B"]
 * ```
 *
 * @throws {ProxyError} 400 for a malformed percent escape, a `.` or `..` segment, or an encoded `\` or NUL
 */
export function pathSegments(path: string): string[] {
  const segments: string[] = [];
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw badPath("it has a malformed percent escape");
    }
    if (segment === "." || segment === "..") throw badPath("it has a dot segment");
    if (segment.includes("\\") || segment.includes("\0")) throw badPath("it has an encoded backslash or NUL");
    segments.push(segment);
  }
  return segments;
}

/**
 * The routing path of decoded segments (`/` for none): each segment percent-encoded again, so that a decoded `?`,
 * `#` or `%` cannot change the meaning of an upstream URL built from it.
 *
 * @example
 * ```ts
 * routePath(["v1", "chat", "completions"]); // "/v1/chat/completions"
 * ```
 *
 * @throws {ProxyError} 400 when a segment holds an encoded `/`
 */
export function routePath(segments: readonly string[]): string {
  if (segments.some((segment) => segment.includes("/"))) throw badPath("it has an encoded slash");
  return `/${segments.map(encodeURIComponent).join("/")}`;
}

function badPath(reason: string): ProxyError {
  return new ProxyError(400, "invalid_request", `Request path refused: ${reason}`);
}
