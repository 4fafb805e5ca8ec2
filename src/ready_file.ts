/**
 * `--ready-file PATH`: once the proxy listens, its URL is written to PATH, atomically (a temporary file beside it
 * is renamed over it), so a script that waits for the file never reads half a URL. A stale file from an earlier
 * run is removed before listening, and the file is removed again after a clean stop.
 *
 * @module
 */

import { dirname } from "node:path";

/**
 * Why `path` cannot serve as the ready file (no write permission, or no such folder), or `undefined` when it can.
 * Checked before listening, so a CI step fails at once instead of waiting for a file that never comes.
 */
export async function readyFileProblem(path: string): Promise<string | undefined> {
  const permission = await Deno.permissions.query({ name: "write", path });
  if (permission.state !== "granted") return `--ready-file ${path}: no write permission (run with --allow-write)`;
  const folder = dirname(path);
  try {
    if (!(await Deno.stat(folder)).isDirectory) return `--ready-file ${path}: ${folder} is not a folder`;
  } catch (error) {
    return `--ready-file ${path}: ${folder}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}

/** Writes `url` and a newline to `path` atomically: a temporary file in the same folder, renamed over `path`. */
export async function writeReadyFile(path: string, url: string): Promise<void> {
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(temporary, `${url}\n`);
    await Deno.rename(temporary, path);
  } catch (error) {
    await removeReadyFile(temporary);
    throw error;
  }
}

/** Removes `path` if it exists. */
export async function removeReadyFile(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
