/** The proxy's version, printed by `--version` and reported by the health route. */
export const VERSION = "0.1.0";

/**
 * The git commit a compiled binary was built from, printed by `--version` and reported by the health route.
 * `scripts/compile.ts` writes it into the copy of the sources it compiles; a run from a checkout says `"source"`.
 */
export const COMMIT = "source";
