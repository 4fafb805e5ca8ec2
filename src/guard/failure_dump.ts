/**
 * Failure dumps: one plain-text file per garbage incident, for a human to read later.
 *
 * Fixes the seed's dumps: names carry a millisecond UTC timestamp and the request id and are created with
 * `createNew` (a suffix is added on a clash), so concurrent incidents never overwrite each other; secrets are
 * redacted; files are private to the user (mode 0600); and the folder is kept under a size budget by deleting the
 * oldest dumps first.
 *
 * @module
 */

import { join } from "node:path";
import { redactSecrets } from "../observability/redact.ts";
import { countWords } from "./text_stats.ts";

/** One garbage incident. */
export interface FailureIncident {
  /** The proxy's request id, e.g. `req-42`. */
  requestId: string;
  /** The model the client asked for. */
  model: string;
  /** The upstream name (or URL) that produced the text. */
  upstream: string;
  /** Why the text was judged garbage, e.g. `periodic-tail, period 33, 5 repeats` or the validator's issue. */
  reason: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** What happened next, e.g. `retrying (attempt 2 of 3)` or `gave up after 3 attempts`. */
  outcome: string;
  /** The offending text; only its end is kept (see {@link FailureDumpOptions.maxTextChars}). */
  text: string;
  /** More `name: value` lines, e.g. the channel or the validator's confidence. */
  details?: Record<string, string | number | boolean>;
}

/** Options of {@link writeFailureDump}. */
export interface FailureDumpOptions {
  /** The folder, created when missing (the proxy passes `~/.sampling-proxy/logs`). */
  dir: string;
  /** Total size budget of the dump files in the folder, in bytes; the oldest go first. @default 52428800 (50 MiB) */
  maxDirBytes?: number;
  /** Characters of the text kept, from its end (where the loop is). @default 50000 */
  maxTextChars?: number;
  /** Clock. @default () => new Date() */
  now?: () => Date;
  /** Masks secrets in the file's text (the logger's redactor, which knows the configured keys). @default redactSecrets */
  redact?: (text: string) => string;
}

/** Where the dump went, or why it could not be written. */
export type FailureDumpResult = { ok: true; path: string } | { ok: false; error: string };

const DUMP_FILE = /^failed_.+\.txt$/;
const MAX_CLASH_SUFFIX = 100;

/**
 * Writes one dump file and then trims the folder to its budget. Never throws: failures come back as
 * `{ok: false, error}`. Trimming is best effort (a dump written is a success even if an old one could not be
 * deleted).
 *
 * @example Dump an incident
 * ```ts ignore
 * import { writeFailureDump } from "./failure_dump.ts";
 * const result = await writeFailureDump(
 *   { requestId: "req-42", model: "qwen3", upstream: "local", reason: "periodic-tail", attempt: 1,
 *     outcome: "retrying (attempt 2 of 3)", text },
 *   { dir: `${Deno.env.get("HOME")}/.sampling-proxy/logs` },
 * );
 * if (result.ok) console.log("saved to", result.path);
 * ```
 */
export async function writeFailureDump(
  incident: FailureIncident,
  options: FailureDumpOptions,
): Promise<FailureDumpResult> {
  const {
    dir,
    maxDirBytes = 50 * 1024 * 1024,
    maxTextChars = 50_000,
    now = () => new Date(),
    redact = redactSecrets,
  } = options;
  try {
    const time = now();
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const content = new TextEncoder().encode(redact(formatDump(incident, time, maxTextChars)));
    const path = await createDumpFile(dir, dumpName(time, incident.requestId), content);
    await trimFolder(dir, maxDirBytes, path);
    return { ok: true, path };
  } catch (error) {
    return { ok: false, error: `Cannot write failure dump: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** `failed_2026-11-25T12-43-20-123Z_req-42` (no extension); the request id is reduced to `[A-Za-z0-9._-]`. */
function dumpName(time: Date, requestId: string): string {
  const stamp = time.toISOString().replace(/[:.]/g, "-");
  const id = requestId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64) || "unknown";
  return `failed_${stamp}_${id}`;
}

async function createDumpFile(dir: string, name: string, content: Uint8Array): Promise<string> {
  for (let clash = 1; clash <= MAX_CLASH_SUFFIX; clash++) {
    const path = join(dir, clash === 1 ? `${name}.txt` : `${name}_${clash}.txt`);
    try {
      await Deno.writeFile(path, content, { createNew: true, mode: 0o600 });
      return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  throw new Error(`too many dumps named ${name}`);
}

function formatDump(incident: FailureIncident, time: Date, maxTextChars: number): string {
  const { text } = incident;
  const kept = text.length > maxTextChars ? text.slice(text.length - maxTextChars).toWellFormed() : text;
  const shown = kept.length < text.length ? ` (the last ${kept.length} shown)` : "";
  const lines = [
    "=== GARBAGE OUTPUT ===",
    `Timestamp: ${time.toISOString()}`,
    `Request: ${incident.requestId}`,
    `Model: ${incident.model}`,
    `Upstream: ${incident.upstream}`,
    `Reason: ${incident.reason}`,
    `Attempt: ${incident.attempt}`,
    `Outcome: ${incident.outcome}`,
    ...Object.entries(incident.details ?? {}).map(([name, value]) => `${name}: ${value}`),
    `Text: ${text.length} characters, ${countWords(text)} words${shown}`,
    "--- TEXT ---",
    kept,
  ];
  return lines.join("\n") + "\n";
}

/** Deletes the oldest dump files (by name, which starts with the timestamp) until the folder fits `maxBytes`. */
async function trimFolder(dir: string, maxBytes: number, keep: string): Promise<void> {
  const dumps: { path: string; name: string; size: number }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !DUMP_FILE.test(entry.name)) continue;
    const path = join(dir, entry.name);
    try {
      dumps.push({ path, name: entry.name, size: (await Deno.stat(path)).size });
    } catch {
      // Deleted meanwhile by a concurrent trim.
    }
  }
  let total = dumps.reduce((sum, dump) => sum + dump.size, 0);
  dumps.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dump of dumps) {
    if (total <= maxBytes) return;
    if (dump.path === keep) continue;
    try {
      await Deno.remove(dump.path);
    } catch {
      // Already gone (a concurrent trim) or not removable: skip it.
    }
    total -= dump.size;
  }
}
