/**
 * `--ready-file PATH`: once the proxy listens, its URL is written to PATH, atomically (a temporary file beside it
 * is renamed over it), so a script that waits for the file never reads half a URL. A stale file from an earlier
 * run is removed before listening, and the file is removed again after a clean stop.
 *
 * @module
 */

/**
 * Why `path` cannot serve as the ready file (no permission to write and rename files there, no such folder, a
 * read-only file system), or `undefined` when it can, after removing a stale file from an earlier run. The check
 * writes and renames temporary files beside `path`, never `path` itself, so nobody waiting sees it early. Checked
 * before listening, so a CI step fails at once instead of waiting for a file that never comes.
 */
export async function readyFileProblem(path: string): Promise<string | undefined> {
  const trial = `${temporaryOf(path)}.check`;
  try {
    await writeReadyFile(trial, "");
    await removeReadyFile(trial);
    await removeReadyFile(path);
    return undefined;
  } catch (error) {
    const reason = error instanceof Deno.errors.NotCapable ? "no read and write permission" : String(error);
    return `--ready-file ${path}: ${reason}`;
  }
}

/**
 * Writes `url` and a newline to `path` atomically: a temporary file in the same folder, renamed over `path`
 * (which needs read and write permission for both).
 */
export async function writeReadyFile(path: string, url: string): Promise<void> {
  const temporary = temporaryOf(path);
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

/** The temporary file beside `path` that {@link writeReadyFile} renames over it. */
function temporaryOf(path: string): string {
  return `${path}.${Deno.pid}.tmp`;
}
