/**
 * Masks secrets before text reaches a log line or a dump file: the one redactor of the proxy.
 *
 * Covered: the configured keys' values (upstream `api_key` / `api_key_env`, the validator's key, client keys),
 * given to a {@link Redactor}; `Authorization`/`Proxy-Authorization` credentials (any scheme: `Bearer`, `Basic`,
 * …), `x-api-key`, `api-key`, `x-goog-api-key` and `api_key`/`apikey` values in headers, JSON or `key=value` text,
 * `key`, `api_key`, `apikey`, `access_token` and `token` query parameters, and provider keys shaped like `sk-…`,
 * `sk-ant-…`, `sk-proj-…`, `AIza…` (Google), `ghp_…`/`gho_…`/`github_pat_…` (GitHub) and `xox…` (Slack).
 * Masking keeps the name and the scheme (`Bearer [REDACTED]`) so logs stay readable.
 *
 * @module
 */

/** What a secret is replaced with. */
export const REDACTED = "[REDACTED]";

/** Names of query parameters and headers whose values are credentials: the one list the proxy uses. */
const CREDENTIAL_NAME = /key|token|secret|auth|password|signature/i;

/**
 * Whether a query parameter or header named `name` carries a credential (`key`, `api_key`, `access_token`,
 * `x-goog-api-key`, `authorization`, `password`, `signature`, …): such values are masked in display URLs, dropped
 * from a client's query to a keyed upstream and known to the redactor.
 */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

// `Authorization: Bearer abc`, `"authorization": "Basic abc"`, `authorization=Bearer abc`: keep name and scheme.
const AUTHORIZATION =
  /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token|digest|apikey)\s+)?[^\s"',;&}]+/gi;
// A bare `Bearer abc` anywhere else (e.g. a curl command line).
const BEARER = /\b(bearer\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{8,}/gi;
// `x-api-key: abc`, `"api-key": "abc"`, `api_key=abc`, `x-goog-api-key: abc`.
const API_KEY = /\b((?:x-(?:goog-)?)?api[-_]?key["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^\s"',;&}]+/gi;
// `?key=abc`, `&api_key=abc`, `&access_token=abc`.
const QUERY_KEY = /([?&](?:key|api[-_]?key|access_token|token)=)[^&\s#"']+/gi;
// Provider keys: `sk-…`, `sk-ant-…`, `sk-proj-…` with at least 16 key characters.
const PROVIDER_KEY = /\bsk-(ant-|proj-)?[A-Za-z0-9_-]{16,}/g;
// Google `AIza…`, GitHub `ghp_…`/`gho_…`/`ghu_…`/`ghs_…`/`ghr_…`/`github_pat_…`, Slack `xoxb-…`/`xoxp-…`/….
const TOKEN_PREFIXED_KEY = /\b(AIza|gh[pousr]_|github_pat_|xox[abposr]-)[A-Za-z0-9_-]{10,}/g;

/**
 * Returns `text` with every secret it recognises replaced by {@link REDACTED}.
 *
 * @example Redact a header line and a URL
 * ```ts
 * import { redactSecrets } from "./redact.ts";
 * redactSecrets("Authorization: Bearer abc.def.ghi"); // "Authorization: Bearer [REDACTED]"
 * redactSecrets("https://host/v1/models?key=AIza123"); // "https://host/v1/models?key=[REDACTED]"
 * ```
 */
export function redactSecrets(text: string): string {
  return PATTERNS_ONLY.redact(text);
}

/**
 * The redactor: known secret values (the configured keys) first, then every pattern {@link redactSecrets} knows.
 * Values are matched exactly and URL-encoded, longest first.
 *
 * @example Redact a configured key that has no recognisable shape
 * ```ts
 * import { Redactor } from "./redact.ts";
 * new Redactor(["hunter2-local"]).redact("GET /v1?k=hunter2-local"); // "GET /v1?k=[REDACTED]"
 * ```
 */
export class Redactor {
  #known: RegExp | undefined;
  #secrets: readonly string[];

  /** A redactor that also masks every value of `secrets` (empty values are ignored). */
  constructor(secrets: Iterable<string> = []) {
    const values = new Set<string>();
    for (const secret of secrets) {
      if (secret === "") continue;
      values.add(secret);
      values.add(encodeURIComponent(secret));
    }
    this.#secrets = [...values];
    const sorted = [...values].sort((a, b) => b.length - a.length);
    this.#known = sorted.length === 0 ? undefined : new RegExp(sorted.map(escapeRegExp).join("|"), "g");
  }

  /** A redactor that masks this one's secrets plus `secrets`. */
  with(secrets: Iterable<string>): Redactor {
    return new Redactor([...this.#secrets, ...secrets]);
  }

  /** Returns `text` with every known value and every recognised secret replaced by {@link REDACTED}. */
  redact(text: string): string {
    return (this.#known ? text.replace(this.#known, REDACTED) : text)
      .replace(
        AUTHORIZATION,
        (_match, prefix: string, scheme: string | undefined) => `${prefix}${scheme ? `${scheme} ` : ""}${REDACTED}`,
      )
      .replace(BEARER, `$1${REDACTED}`)
      .replace(API_KEY, `$1${REDACTED}`)
      .replace(QUERY_KEY, `$1${REDACTED}`)
      .replace(PROVIDER_KEY, (_match, prefix: string | undefined) => `sk-${prefix ?? ""}${REDACTED}`)
      .replace(TOKEN_PREFIXED_KEY, `$1${REDACTED}`);
  }
}

const PATTERNS_ONLY = new Redactor();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
