/**
 * Runs headless Chromium for browser end-to-end tests: finds the executable (tests are skipped without one) and
 * loads one page with `--dump-dom`, which exits once the page's `load` event has fired.
 *
 * @module
 */

import { join } from "node:path";

/** Executable names tried on `PATH` when `CHROMIUM_BIN` is not set. */
const NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** How long one page may take before Chromium is stopped: a safety net, not a timing assertion. */
const SAFETY_TIMEOUT_MS = 20_000;

/** The Chromium executable: `CHROMIUM_BIN`, else the first of the usual names on `PATH`; undefined when none. */
export function findChromium(): string | undefined {
  const explicit = Deno.env.get("CHROMIUM_BIN");
  if (explicit) return explicit;
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  for (const dir of dirs) {
    for (const name of NAMES) {
      try {
        if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

/** Options of {@linkcode loadPage}. */
export interface LoadPageOptions {
  /** Chromium's `--host-resolver-rules`, e.g. `MAP evil.test 127.0.0.1` to point a name at loopback. */
  hostResolverRules?: string;
}

/** What a page load left behind. */
export interface PageLoad {
  /** The DOM after the `load` event, as `--dump-dom` prints it. */
  dom: string;
  /** Chromium's stderr, for failure messages. */
  stderr: string;
}

/**
 * Loads `url` in a fresh headless Chromium profile and returns the DOM once the page has loaded; the profile is
 * removed afterwards and Chromium is stopped if it outlives the safety timeout.
 */
export async function loadPage(executable: string, url: string, options: LoadPageOptions = {}): Promise<PageLoad> {
  const profile = await Deno.makeTempDir({ prefix: "sampling-proxy-chromium-" });
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), SAFETY_TIMEOUT_MS);
  try {
    const args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-extensions",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      ...(options.hostResolverRules ? [`--host-resolver-rules=${options.hostResolverRules}`] : []),
      "--dump-dom",
      url,
    ];
    const output = await new Deno.Command(executable, { args, stdout: "piped", stderr: "piped", signal: stop.signal })
      .output();
    const decoder = new TextDecoder();
    return { dom: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
  } finally {
    clearTimeout(timer);
    await Deno.remove(profile, { recursive: true });
  }
}
