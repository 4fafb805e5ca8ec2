/**
 * The secret values a config holds, for the redactor: upstream keys (`api_key`, `api_key_env` values), the
 * validator's key (`validation.validator_api_key_env`) and the client keys (`auth`).
 *
 * @module
 */

import type { Config } from "./config.ts";

/** Every configured key value (looked up in `env` where the config names a variable); empty values are skipped. */
export function configSecrets(
  config: Config,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string[] {
  const validatorEnv = config.validation.validator_api_key_env;
  const values = [
    ...config.upstreams.map((u) => u.apiKey),
    validatorEnv ? env(validatorEnv) : undefined,
    ...config.auth.keys,
  ];
  return values.filter((value): value is string => value !== undefined && value !== "");
}
