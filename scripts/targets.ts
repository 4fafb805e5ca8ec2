/**
 * The release targets and the names of their binaries (`sampling-proxy-<version>-<target>[.exe]`), shared by the
 * compile task and the tests; `install.sh`, `install.ps1` and the release workflow spell the same names.
 *
 * @module
 */

/** Every target `deno task compile:all` builds. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** One of {@link TARGETS}. */
export type Target = typeof TARGETS[number];

/** Whether `text` names one of {@link TARGETS}. */
export function isTarget(text: string): text is Target {
  return (TARGETS as readonly string[]).includes(text);
}

/** The file name of the binary of `version` for `target`. */
export function binaryName(version: string, target: Target): string {
  return `sampling-proxy-${version}-${target}${target.includes("windows") ? ".exe" : ""}`;
}
