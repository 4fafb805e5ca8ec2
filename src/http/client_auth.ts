/**
 * Client keys: who may use the proxy.
 *
 * With `auth.keys` (or `auth.keys_env` / `auth.keys_file`) set, every route but `/` and `/health` needs one of the
 * keys, sent as `Authorization: Bearer KEY`, `x-api-key: KEY` or `api-key: KEY` (what the OpenAI and Anthropic
 * SDKs, Azure-style clients, Claude Code and Codex send). Keys are compared as SHA-256 digests in constant time,
 * against every configured key. A missing or wrong key gets 401 `authentication_error` in the client's protocol
 * shape with `www-authenticate: Bearer`. Once accepted, the client's credential headers are removed from the
 * request, so its key never reaches an upstream (an upstream with its own key gets that one, others get none).
 * The health routes stay open, but show their full document only with a valid key.
 *
 * @module
 */

import { ProxyError } from "./errors.ts";

/** What {@link ClientAuth.check} decided. */
export interface ClientAccess {
  /** The request to serve: the client's, minus its credentials when client keys are configured. */
  request: Request;
  /** The request carried a valid key, or no key is needed. */
  authorized: boolean;
}

const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "api-key"];
const OPEN_PATHS = new Set(["/", "/health"]);
const encoder = new TextEncoder();

/** Checks client keys; one per proxy instance. */
export class ClientAuth {
  #digests: Promise<Uint8Array[]>;
  #enabled: boolean;

  /** Accepts any of `keys`; with none, every request is authorized and left untouched. */
  constructor(keys: readonly string[]) {
    this.#enabled = keys.length > 0;
    this.#digests = Promise.all(keys.map(digest));
  }

  /**
   * Checks `request` for `path` (below the base path).
   *
   * @throws {ProxyError} 401 when a key is needed for `path` and none of the presented ones is valid
   */
  async check(request: Request, path: string | undefined): Promise<ClientAccess> {
    if (!this.#enabled) return { request, authorized: true };
    const authorized = await this.#valid(presentedKeys(request.headers));
    if (!authorized && !(path !== undefined && OPEN_PATHS.has(path))) {
      throw new ProxyError(
        401,
        "authentication",
        "Missing or invalid client key: send one of the proxy's auth.keys as Authorization: Bearer, x-api-key or api-key",
        { code: "invalid_api_key", headers: { "www-authenticate": 'Bearer realm="sampling-proxy"' } },
      );
    }
    return { request: withoutCredentials(request), authorized };
  }

  async #valid(presented: string[]): Promise<boolean> {
    const known = await this.#digests;
    let match = false;
    for (const key of presented) {
      const candidate = await digest(key);
      // Every key is compared in full, so the time taken does not tell which one (or how much of it) matched.
      for (const expected of known) match = constantTimeEqual(candidate, expected) || match;
    }
    return match;
  }
}

/** The keys a request presents, in any of the three accepted headers. */
function presentedKeys(headers: Headers): string[] {
  const keys: string[] = [];
  const bearer = /^\s*bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  if (bearer) keys.push(bearer[1]);
  for (const name of ["x-api-key", "api-key"]) {
    const value = headers.get(name)?.trim();
    if (value) keys.push(value);
  }
  return keys;
}

async function digest(key: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(key)));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/** The request without the client's credential headers (same body, same abort signal). */
function withoutCredentials(request: Request): Request {
  if (!CREDENTIAL_HEADERS.some((name) => request.headers.has(name))) return request;
  const headers = new Headers(request.headers);
  for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  return new Request(request, { headers });
}

/** Options of {@link authStartupProblem}. */
export interface AuthStartupOptions {
  /** The bound address. */
  host: string;
  /** Client keys are configured. */
  hasKeys: boolean;
  /** `--require-auth`. */
  requireAuth: boolean;
  /** `--insecure-no-auth`. */
  insecureNoAuth: boolean;
}

/**
 * Why the proxy must not start without client keys, or undefined when it may: `--require-auth`, or a bind to a
 * non-loopback address, without keys and without `--insecure-no-auth`.
 */
export function authStartupProblem(options: AuthStartupOptions): string | undefined {
  if (options.hasKeys || options.insecureNoAuth) return undefined;
  const fix = "set auth.keys (or auth.keys_env / auth.keys_file), or pass --insecure-no-auth to run without keys";
  if (options.requireAuth) return `--require-auth is given but no client key is configured: ${fix}`;
  if (!isLoopback(options.host)) {
    return `listening on ${options.host} lets anyone who can reach it use your upstreams and their keys: ${fix}`;
  }
  return undefined;
}

/** Whether `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");
}
