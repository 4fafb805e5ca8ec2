/**
 * The resolved config of an empty config file, for tests that build one component from its config section.
 *
 * @module
 */

import type { Config, ValidationConfig } from "../../src/config/config.ts";
import { parseConfig } from "../../src/config/load.ts";

/** What `load` resolves from `{}` (with an empty environment): every default of the schema. */
export const DEFAULT_CONFIG: Config = parseConfig("{}", { source: "defaults", env: {} }).config;

/** The default `validation` section with `changes` over it. */
export function validationConfig(changes: Partial<ValidationConfig> = {}): ValidationConfig {
  return { ...DEFAULT_CONFIG.validation, ...changes };
}
