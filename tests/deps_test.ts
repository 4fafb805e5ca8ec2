/**
 * `deno task start` installs every package of the lockfile it is given: the runtime lockfile must hold only what
 * `src/` imports, and test-only packages (the official SDKs) live in `tests/deno.lock`.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(path, ROOT)));
}

async function sourceFiles(dir: URL): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) out.push(...await sourceFiles(url));
    else if (entry.name.endsWith(".ts")) out.push(await Deno.readTextFile(url));
  }
  return out;
}

/** A mapping of a package's subpath (`eventsource-parser/stream`, not `@scope/name`). */
function isSubpath(key: string): boolean {
  return key.split("/").length > (key.startsWith("@") ? 2 : 1);
}

/** `npm:name@1.2.3/sub` → `npm:name@1.2.3`. */
function packageOf(specifier: string): string {
  const match = /^npm:(@[^/]+\/[^/@]+|[^/@]+)@([^/]+)/.exec(specifier);
  assert.ok(match, `not a pinned npm specifier: ${specifier}`);
  return `npm:${match[1]}@${match[2]}`;
}

Deno.test("deno.json maps only packages that src/ imports, and deno.lock pins exactly those", async () => {
  const config = await readJson("deno.json");
  const imports = config.imports as Record<string, string>;
  const sources = (await sourceFiles(new URL("src/", ROOT))).join("\n");
  for (const name of Object.keys(imports).filter((key) => !isSubpath(key))) {
    const used = sources.includes(`from "${name}"`) || sources.includes(`from "${name}/`);
    assert.ok(used, `deno.json maps "${name}", which src/ never imports`);
  }
  const lock = await readJson("deno.lock");
  const pinned = Object.keys(lock.specifiers as Record<string, string>).sort();
  assert.deepEqual(pinned, [...new Set(Object.values(imports).map(packageOf))].sort());
});

Deno.test("deno task start uses the runtime lockfile and the test tasks use tests/deno.lock", async () => {
  const config = await readJson("deno.json");
  const tasks = config.tasks as Record<string, string>;
  assert.equal(config.lock, false, "an auto-discovered lockfile would collect the test-only packages");
  assert.match(tasks.start, /--lock=deno\.lock /);
  assert.match(tasks.test, /--lock=tests\/deno\.lock /);
  assert.match(tasks.check, /--lock=tests\/deno\.lock /);
});
