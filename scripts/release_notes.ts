/**
 * `deno run --allow-read scripts/release_notes.ts vX.Y.Z` prints the release notes of a tag: the `## [X.Y.Z]`
 * section of `CHANGELOG.md`. It fails (exit 1) when the tag is not `v` + `src/version.ts`'s version or the section
 * is missing or empty, so the release workflow stops before building.
 *
 * @module
 */

import { VERSION } from "../src/version.ts";

/**
 * The body of `changelog`'s section for `version` (headed `## [1.2.3]` or `## 1.2.3`, optionally followed by a
 * date), trimmed; `undefined` when there is none or it is empty.
 */
export function releaseNotes(changelog: string, version: string): string | undefined {
  const lines = changelog.split("\n");
  const escaped = version.replaceAll(".", "\\.");
  const heading = new RegExp(`^## (?:\\[${escaped}\\]|${escaped})(?:\\s|$)`);
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, index) => index > start && line.startsWith("## "));
  const body = lines.slice(start + 1, end < 0 ? undefined : end).join("\n").trim();
  return body === "" ? undefined : body;
}

/** Checks `tag` against {@link VERSION} and prints its notes; resolves with the exit code. */
export async function main(tag: string | undefined): Promise<number> {
  if (tag !== `v${VERSION}`) {
    console.error(`release_notes: tag ${tag ?? "(none)"} is not v${VERSION}, the version in src/version.ts`);
    return 1;
  }
  const changelog = await Deno.readTextFile(new URL("../CHANGELOG.md", import.meta.url));
  const notes = releaseNotes(changelog, VERSION);
  if (notes === undefined) {
    console.error(`release_notes: CHANGELOG.md has no "## [${VERSION}]" section with notes`);
    return 1;
  }
  console.log(notes);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args[0]));
