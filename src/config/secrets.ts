/**
 * The secret values a config holds, for the redactor: every upstream's key (`api_key`, `api_key_env` values) and
 * the credentials in its `base_url` query or extra `headers`, the validator LLM's included, and the client keys
 * (`auth`).
 *
 * @module
 */

import { isCredentialName } from "../observability/redact.ts";
import type { Config } from "./config.ts";

/** Every configured credential value; empty values are skipped. */
export function configSecrets(config: Config): string[] {
  const upstreams = config.validator ? [...config.upstreams, config.validator] : config.upstreams;
  const values = [
    ...upstreams.flatMap((u) => [u.apiKey, ...queryCredentials(u.baseUrl), ...headerCredentials(u.headers)]),
    ...config.auth.keys,
  ];
  return values.filter((value): value is string => value !== undefined && value !== "");
}

function queryCredentials(url: string): string[] {
  return [...new URL(url).searchParams].filter(([name]) => isCredentialName(name)).map(([, value]) => value);
}

/** Credential header values, without an authorization scheme (`Bearer abc` → `abc`). */
function headerCredentials(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers).filter(([name]) => isCredentialName(name))
    .map(([, value]) => value.replace(/^\s*[A-Za-z]+\s+(?=\S)/, "").trim());
}
