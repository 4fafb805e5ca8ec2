/** The proxy's version, printed by `--version` and reported by the health route. */
export const VERSION = "0.1.0";
