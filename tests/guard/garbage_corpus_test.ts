import assert from "node:assert/strict";
import { countWords } from "../../src/guard/text_stats.ts";
import {
  loadHealthyFixtures,
  loadLoopFixtures,
  loadToolArgumentFixtures,
  LOOP_MARKER,
  parseLoopFixture,
  replay,
  seededChunkSizes,
} from "../testdata/garbage/corpus.ts";

/** Chunkings every fixture is replayed with: random sizes (three seeds, up to 64 units) and one unit at a time. */
const CHUNKINGS = [
  { name: "seed 1", sizes: () => seededChunkSizes(1, 64) },
  { name: "seed 2", sizes: () => seededChunkSizes(2, 64) },
  { name: "seed 3", sizes: () => seededChunkSizes(3, 16) },
  { name: "single units", sizes: () => () => 1 },
];
const MAX_WORDS_AFTER_START = 300;
/** "A few repeats": at most this many units of the loop may have been releasable when it was caught. */
const MAX_RELEASED_UNITS = 3;

const loops = await loadLoopFixtures();
const healthy = await loadHealthyFixtures();
const toolArguments = await loadToolArgumentFixtures();

Deno.test("Garbage corpus has at least 15 loop and 15 healthy fixtures", () => {
  assert.ok(loops.length >= 15, `${loops.length} loop fixtures`);
  assert.ok(healthy.length >= 15, `${healthy.length} healthy fixtures`);
});

Deno.test("LoopDetector catches every loop fixture at its expected level within 300 words", async (t) => {
  for (const fixture of loops) {
    await t.step(fixture.name, () => {
      for (const chunking of CHUNKINGS) {
        const { verdicts } = replay(fixture.text, chunking.sizes());
        const caught = fixture.expect === "loop" ? verdicts.find((v) => v.level === "loop") : verdicts[0];
        assert.ok(caught, `${chunking.name}: not caught as ${fixture.expect}`);
        const words = countWords(fixture.text.slice(fixture.loopStart, caught.detectedAt));
        assert.ok(words <= MAX_WORDS_AFTER_START, `${chunking.name}: caught ${words} words after the loop start`);
      }
    });
  }
});

Deno.test("LoopDetector releases at most a few repeats of a loop fixture before catching it", async (t) => {
  for (const fixture of loops) {
    await t.step(fixture.name, () => {
      for (const chunking of CHUNKINGS) {
        const result = replay(fixture.text, chunking.sizes());
        const released = fixture.expect === "loop" ? result.releasedAtLoop : result.releasedAtFirst;
        assert.notEqual(released, null, `${chunking.name}: not caught`);
        const past = released! - fixture.loopStart;
        assert.ok(
          past <= MAX_RELEASED_UNITS * fixture.unit,
          `${chunking.name}: ${past} units released past the loop start (unit ${fixture.unit})`,
        );
      }
    });
  }
});

Deno.test("LoopDetector raises no verdict on any healthy fixture", async (t) => {
  for (const fixture of healthy) {
    await t.step(fixture.name, () => {
      for (const chunking of CHUNKINGS) {
        const result = replay(fixture.text, chunking.sizes());
        assert.deepEqual(result.verdicts.map((v) => `${v.level}/${v.reason} at ${v.detectedAt}`), [], chunking.name);
        assert.equal(result.releasedAtFirst, fixture.text.length, `${chunking.name}: not all released`);
      }
    });
  }
});

Deno.test("LoopDetector with the data rules raises no verdict on tool arguments that prose rules would cut", async (t) => {
  assert.ok(toolArguments.length >= 4, `${toolArguments.length} tool argument fixtures`);
  for (const fixture of toolArguments) {
    await t.step(fixture.name, () => {
      JSON.parse(fixture.text);
      for (const chunking of CHUNKINGS) {
        const result = replay(fixture.text, chunking.sizes(), { data: true });
        assert.deepEqual(result.verdicts.map((v) => `${v.level}/${v.reason} at ${v.detectedAt}`), [], chunking.name);
        assert.equal(result.releasedAtFirst, fixture.text.length, `${chunking.name}: not all released`);
      }
      const asProse = replay(fixture.text, seededChunkSizes(1, 64));
      assert.ok(asProse.verdicts.length > 0, "judged as prose, the fixture repeats enough to be flagged");
    });
  }
});

Deno.test("parseLoopFixture reads the header and removes the marker", () => {
  const fixture = parseLoopFixture("x.txt", `#! expect: suspicious; unit: 4\nabc${LOOP_MARKER}def`);
  assert.deepEqual(fixture, { name: "x.txt", text: "abcdef", loopStart: 3, expect: "suspicious", unit: 4 });
  assert.throws(() => parseLoopFixture("y.txt", "no header"), SyntaxError);
  assert.throws(() => parseLoopFixture("z.txt", "#! expect: loop; unit: 1\nno marker"), SyntaxError);
});
