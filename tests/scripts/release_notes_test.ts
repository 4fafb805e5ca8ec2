/** `scripts/release_notes.ts`: the notes of a tag come from its CHANGELOG.md section, and a wrong tag stops. */

import assert from "node:assert/strict";
import { main, releaseNotes } from "../../scripts/release_notes.ts";
import { VERSION } from "../../src/version.ts";

const CHANGELOG = `# Changelog

## [Unreleased]

- Next thing.

## [1.2.0] - 2026-12-01

### Added

- A feature.

## 1.1.0

- Older.

## [1.0.0]

`;

Deno.test("releaseNotes takes the version's section up to the next one, with or without brackets", () => {
  assert.equal(releaseNotes(CHANGELOG, "1.2.0"), "### Added\n\n- A feature.");
  assert.equal(releaseNotes(CHANGELOG, "1.1.0"), "- Older.");
  assert.equal(releaseNotes(CHANGELOG, "1.0.0"), undefined, "an empty section");
  assert.equal(releaseNotes(CHANGELOG, "1.2"), undefined, "no prefix match");
  assert.equal(releaseNotes(CHANGELOG, "1x2x0"), undefined, "dots are literal");
});

Deno.test("release_notes refuses a tag other than v + src/version.ts's version", async () => {
  assert.equal(await main(`v${VERSION}.1`), 1);
  assert.equal(await main(undefined), 1);
});

Deno.test("CHANGELOG.md is kept: it has an Unreleased section or one for the current version", async () => {
  const changelog = await Deno.readTextFile(new URL("../../CHANGELOG.md", import.meta.url));
  assert.ok(
    releaseNotes(changelog, VERSION) !== undefined || /^## \[Unreleased\]$/m.test(changelog),
    `CHANGELOG.md has neither [Unreleased] nor [${VERSION}]`,
  );
});
