/**
 * A start-up check that the failure-dump folder can be written under the permissions the proxy runs with.
 *
 * `deno task start` grants writes to `~/.sampling-proxy` only; a `logging.dump_dir` elsewhere would make every dump
 * fail long after start. With garbage detection on (the only writer of dumps), the proxy refuses to start instead,
 * and says how to fix it. A compiled binary or `--allow-write` grants everything, so the check passes there.
 *
 * @module
 */

/**
 * Why `dumpDir` cannot be written under the granted permissions, with the fix; undefined when it can.
 *
 * @param dumpDir the absolute dump folder (`logging.dump_dir`, `~` expanded)
 */
export function dumpDirProblem(dumpDir: string): string | undefined {
  const { state } = Deno.permissions.querySync({ name: "write", path: dumpDir });
  if (state === "granted") return undefined;
  return `logging.dump_dir ${dumpDir} cannot be written: the proxy was started without write permission for it ` +
    "(deno task start allows ~/.sampling-proxy only). Use a folder under ~/.sampling-proxy, or run " +
    `deno run --allow-net --allow-read --allow-env --allow-write=${dumpDir} src/main.ts`;
}
