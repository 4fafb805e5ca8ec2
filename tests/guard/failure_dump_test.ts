import assert from "node:assert/strict";
import { join } from "node:path";
import { type FailureIncident, writeFailureDump } from "../../src/guard/failure_dump.ts";

const INCIDENT: FailureIncident = {
  requestId: "req-42",
  model: "qwen3-coder",
  upstream: "local-llama",
  reason: "periodic-tail, period 33, 5 repeats",
  attempt: 2,
  outcome: "retrying (attempt 3 of 3)",
  text: "Healthy start. " + "I will check again. ".repeat(5),
  details: { channel: "content", "validator confidence": 0.93 },
};

const fixedClock = (iso: string) => () => new Date(iso);

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "failure_dump_test_" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listDumps(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("writeFailureDump writes one file named by millisecond timestamp and request id", async () => {
  await withTempDir(async (dir) => {
    const result = await writeFailureDump(INCIDENT, { dir, now: fixedClock("2026-11-25T12:43:20.123Z") });
    assert.deepEqual(result, { ok: true, path: join(dir, "failed_2026-11-25T12-43-20-123Z_req-42.txt") });
    const content = await Deno.readTextFile(join(dir, "failed_2026-11-25T12-43-20-123Z_req-42.txt"));
    for (
      const line of [
        "Timestamp: 2026-11-25T12:43:20.123Z",
        "Request: req-42",
        "Model: qwen3-coder",
        "Upstream: local-llama",
        "Reason: periodic-tail, period 33, 5 repeats",
        "Attempt: 2",
        "Outcome: retrying (attempt 3 of 3)",
        "channel: content",
        "validator confidence: 0.93",
        `Text: ${INCIDENT.text.length} characters, 22 words`,
      ]
    ) {
      assert.ok(content.includes(line + "\n"), `missing line ${line}`);
    }
    assert.ok(content.endsWith("--- TEXT ---\n" + INCIDENT.text + "\n"));
  });
});

Deno.test("writeFailureDump keeps concurrent incidents of the same millisecond apart", async () => {
  await withTempDir(async (dir) => {
    const now = fixedClock("2026-11-25T12:43:20.123Z");
    const results = await Promise.all([1, 2, 3].map(() => writeFailureDump(INCIDENT, { dir, now })));
    assert.ok(results.every((r) => r.ok));
    assert.deepEqual(await listDumps(dir), [
      "failed_2026-11-25T12-43-20-123Z_req-42.txt",
      "failed_2026-11-25T12-43-20-123Z_req-42_2.txt",
      "failed_2026-11-25T12-43-20-123Z_req-42_3.txt",
    ]);
  });
});

Deno.test("writeFailureDump redacts secrets in the metadata and the text", async () => {
  await withTempDir(async (dir) => {
    const incident = {
      ...INCIDENT,
      upstream: "https://api.example.com/v1?key=AIzaSecret123",
      text: "curl -H 'Authorization: Bearer sk-proj-abcdefghijklmnopqrstuv' https://x",
    };
    const result = await writeFailureDump(incident, { dir });
    assert.ok(result.ok);
    const content = await Deno.readTextFile(result.path);
    assert.ok(!content.includes("AIzaSecret123"));
    assert.ok(!content.includes("abcdefghijklmnopqrstuv"));
    assert.match(content, /Bearer \[REDACTED\]/);
  });
});

Deno.test("writeFailureDump keeps only the end of a long text", async () => {
  await withTempDir(async (dir) => {
    const text = "START " + "x".repeat(200) + " END";
    const result = await writeFailureDump({ ...INCIDENT, text }, { dir, maxTextChars: 50 });
    assert.ok(result.ok);
    const content = await Deno.readTextFile(result.path);
    assert.match(content, /\(the last 50 shown\)/);
    assert.ok(content.endsWith("--- TEXT ---\n" + text.slice(-50) + "\n"));
    assert.ok(!content.includes("START"));
  });
});

Deno.test("writeFailureDump deletes the oldest dumps to stay within the folder budget", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "notes.txt"), "not a dump, never deleted");
    const text = "y".repeat(1000);
    for (const second of ["01", "02", "03", "04"]) {
      const result = await writeFailureDump({ ...INCIDENT, text }, {
        dir,
        maxDirBytes: 3000,
        now: fixedClock(`2026-11-25T12:00:${second}.000Z`),
      });
      assert.ok(result.ok);
    }
    assert.deepEqual(await listDumps(dir), [
      "failed_2026-11-25T12-00-03-000Z_req-42.txt",
      "failed_2026-11-25T12-00-04-000Z_req-42.txt",
      "notes.txt",
    ]);
  });
});

Deno.test("writeFailureDump makes a request id safe for a file name", async () => {
  await withTempDir(async (dir) => {
    const result = await writeFailureDump({ ...INCIDENT, requestId: "../../etc/passwd x" }, {
      dir,
      now: fixedClock("2026-11-25T12:00:00.000Z"),
    });
    assert.deepEqual(result, { ok: true, path: join(dir, "failed_2026-11-25T12-00-00-000Z_.._.._etc_passwd_x.txt") });
  });
});

Deno.test("writeFailureDump reports an error instead of throwing", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "");
    const result = await writeFailureDump(INCIDENT, { dir: join(file, "logs") });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.error : "", /^Cannot write failure dump: /);
  });
});
