/**
 * The secret values a config holds, for the redactor: upstream keys (`api_key`, `api_key_env` values), credentials
 * in an upstream's `base_url` query or extra `headers`, the validator's key (`validation.validator_api_key_env`,
 * the `validator_url` query) and the client keys (`auth`).
 *
 * @module
 */

import type { Config } from "./config.ts";

/** Names of query parameters and headers whose values are credentials. */
const CREDENTIAL_NAME = /key|token|secret|auth|password|signature/i;

/** Every configured key value (looked up in `env` where the config names a variable); empty values are skipped. */
export function configSecrets(
  config: Config,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string[] {
  const { validator_api_key_env: validatorEnv, validator_url: validatorUrl } = config.validation;
  const values = [
    ...config.upstreams.flatMap((u) => [u.apiKey, ...queryCredentials(u.baseUrl), ...headerCredentials(u.headers)]),
    validatorEnv ? env(validatorEnv) : undefined,
    ...(validatorUrl ? queryCredentials(validatorUrl) : []),
    ...config.auth.keys,
  ];
  return values.filter((value): value is string => value !== undefined && value !== "");
}

function queryCredentials(url: string): string[] {
  return [...new URL(url).searchParams].filter(([name]) => CREDENTIAL_NAME.test(name)).map(([, value]) => value);
}

/** Credential header values, without an authorization scheme (`Bearer abc` → `abc`). */
function headerCredentials(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers).filter(([name]) => CREDENTIAL_NAME.test(name))
    .map(([, value]) => value.replace(/^\s*[A-Za-z]+\s+(?=\S)/, "").trim());
}
