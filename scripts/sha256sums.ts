/**
 * SHA-256 sums in the format of `sha256sum` (`<hex>  <name>`, one line per file), which `sha256sum -c`,
 * `shasum -a 256 -c` and the install scripts read.
 *
 * @module
 */

import { basename } from "node:path";

/** The hex SHA-256 of the file at `path`. */
export async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The sums file's text for `paths`, each named by its file name, sorted by name. */
export async function sha256Sums(paths: string[]): Promise<string> {
  const lines = await Promise.all(paths.map(async (path) => `${await sha256File(path)}  ${basename(path)}`));
  return lines.sort((a, b) => a.slice(66).localeCompare(b.slice(66))).map((line) => `${line}\n`).join("");
}
