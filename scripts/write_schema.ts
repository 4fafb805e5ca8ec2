/**
 * `deno task schema`: writes `config.schema.json` from the config schema (`src/config/schema.ts`).
 *
 * A test checks that the committed file is up to date.
 *
 * @module
 */

import { configJsonSchema } from "../src/config/schema.ts";

await Deno.writeTextFile("config.schema.json", JSON.stringify(configJsonSchema(), null, 2) + "\n");
console.log("Wrote config.schema.json");
