import assert from "node:assert/strict";
import { LoopDetector } from "../../src/guard/loop_detector.ts";
import type { LoopVerdict } from "../../src/guard/loop_verdict.ts";

const PREFIX = "The build fails because the lock file is stale:\n";
const SENTENCE = "I will now check the configuration file again. ";

/** Pushes `text` in pieces of `size`; returns every verdict raised, in order. */
function feed(detector: LoopDetector, text: string, size = 7): LoopVerdict[] {
  const verdicts: LoopVerdict[] = [];
  for (let i = 0; i < text.length; i += size) {
    const verdict = detector.push(text.slice(i, i + size));
    if (verdict) verdicts.push(verdict);
  }
  return verdicts;
}

Deno.test("LoopDetector flags a sentence repeated in a row as a loop", () => {
  const detector = new LoopDetector();
  const verdicts = feed(detector, PREFIX + SENTENCE.repeat(12));
  const loop = verdicts.find((v) => v.level === "loop");
  assert.ok(loop, "expected a loop verdict");
  assert.equal(loop.reason, "periodic-tail");
  assert.equal(loop.period, SENTENCE.length);
  assert.ok(loop.repeats >= 4 && loop.repeats <= 5, `repeats ${loop.repeats}`);
  assert.equal(loop.start, PREFIX.length + SENTENCE.length);
  assert.equal(detector.verdict, loop);
});

Deno.test("LoopDetector raises a suspicion before the loop verdict of a sentence loop", () => {
  const verdicts = feed(new LoopDetector(), PREFIX + SENTENCE.repeat(12));
  assert.deepEqual(verdicts.map((v) => v.level), ["suspicious", "loop"]);
  assert.ok(verdicts[0].detectedAt < verdicts[1].detectedAt);
});

Deno.test("LoopDetector bounds the excerpt and ends it at the detection point", () => {
  const text = PREFIX + SENTENCE.repeat(12);
  const detector = new LoopDetector({ excerptChars: 60 });
  const loop = feed(detector, text).find((v) => v.level === "loop")!;
  assert.equal(loop.excerpt.length, 60);
  assert.equal(loop.excerpt, text.slice(loop.detectedAt - 60, loop.detectedAt));
});

Deno.test("LoopDetector gives the same verdict whatever the chunk sizes", () => {
  const text = PREFIX + SENTENCE.repeat(12);
  const bySize = [1, 3, 64, text.length].map((size) => {
    const detector = new LoopDetector();
    feed(detector, text, size);
    return detector.verdict;
  });
  assert.equal(bySize[0]?.level, "loop");
  for (const verdict of bySize.slice(1)) assert.deepEqual(verdict, bySize[0]);
});

Deno.test("LoopDetector returns the loop when one piece raises a suspicion and then a loop", () => {
  const verdict = new LoopDetector().push(PREFIX + SENTENCE.repeat(12));
  assert.equal(verdict?.level, "loop");
});

Deno.test("LoopDetector releases nothing of the repeats before a sentence loop verdict", () => {
  const detector = new LoopDetector();
  const text = PREFIX + SENTENCE.repeat(12);
  let releasedBeforeLoop = 0;
  for (let i = 0; i < text.length; i += 5) {
    const verdict = detector.push(text.slice(i, i + 5));
    if (verdict?.level === "loop") break;
    releasedBeforeLoop = detector.releasableLength();
  }
  assert.ok(releasedBeforeLoop <= PREFIX.length + SENTENCE.length, `released ${releasedBeforeLoop}`);
});

Deno.test("LoopDetector releases up to the repetition start after a loop verdict", () => {
  const detector = new LoopDetector();
  const loop = feed(detector, PREFIX + SENTENCE.repeat(12)).find((v) => v.level === "loop")!;
  assert.equal(detector.releasableLength(), loop.start);
});

Deno.test("LoopDetector keeps the releasable length monotonic and behind the hold-back", () => {
  const detector = new LoopDetector({ holdBackChars: 100 });
  const text = Deno.readTextFileSync(new URL("../testdata/garbage/healthy/long_essay.txt", import.meta.url));
  let previous = 0;
  for (let i = 0; i < text.length; i += 9) {
    detector.push(text.slice(i, i + 9));
    const released = detector.releasableLength();
    assert.ok(released >= previous, "releasable length decreased");
    assert.ok(released <= Math.max(0, detector.length - 100), "released inside the hold-back");
    previous = released;
  }
  assert.equal(detector.verdict, null);
});

Deno.test("LoopDetector releases everything after finish when no verdict is pending", () => {
  const detector = new LoopDetector();
  const text = "A short healthy answer with nothing repeated in it at all.";
  detector.push(text);
  assert.equal(detector.releasableLength(), 0);
  assert.equal(detector.finish(), null);
  assert.equal(detector.releasableLength(), text.length);
});

Deno.test("LoopDetector holds a repetition in progress back until it breaks", () => {
  const detector = new LoopDetector({ holdBackChars: 0 });
  const line = "| cell | cell | cell |\n";
  detector.push("Intro paragraph before the table.\n" + line + line + line);
  const held = detector.releasableLength();
  assert.ok(held <= "Intro paragraph before the table.\n".length + line.length, `released ${held}`);
  detector.push("A different closing sentence that breaks the repetition.");
  assert.ok(detector.releasableLength() > held + 2 * line.length);
  assert.equal(detector.verdict, null);
});

Deno.test("LoopDetector freezes release at a pending suspicion until dismissed", () => {
  const detector = new LoopDetector();
  const steps = Array.from({ length: 12 }, (_, i) => `Step ${i + 1}: I will verify the output of the parser again. `);
  const verdicts = feed(detector, "Plan: " + steps.join(""));
  assert.equal(verdicts.length, 1);
  assert.equal(verdicts[0].level, "suspicious");
  assert.equal(verdicts[0].reason, "periodic-skeleton");
  assert.ok(detector.releasableLength() <= verdicts[0].start);
  detector.push("Done. Every entry was verified, so we can move on to the summary of results.");
  assert.ok(detector.releasableLength() <= verdicts[0].start, "released past a pending suspicion");
  detector.dismiss();
  assert.equal(detector.verdict, null);
  assert.ok(detector.releasableLength() > verdicts[0].start);
});

Deno.test("LoopDetector mutes suspicions after a dismissal", () => {
  const detector = new LoopDetector();
  const steps = (from: number) =>
    Array.from({ length: 12 }, (_, i) => `Step ${from + i}: I will verify the output of the parser again. `).join("");
  assert.equal(feed(detector, "Plan: " + steps(1)).length, 1);
  detector.dismiss();
  assert.deepEqual(feed(detector, steps(13)), []);
});

Deno.test("LoopDetector still raises a loop while a suspicion is pending", () => {
  const detector = new LoopDetector();
  const verdicts = feed(detector, PREFIX + SENTENCE.repeat(12));
  assert.equal(verdicts[0].level, "suspicious");
  assert.equal(verdicts.at(-1)?.level, "loop");
});

Deno.test("LoopDetector ignores text pushed after a loop verdict", () => {
  const detector = new LoopDetector();
  feed(detector, PREFIX + SENTENCE.repeat(12));
  const length = detector.length;
  assert.equal(detector.push(SENTENCE.repeat(5)), null);
  assert.equal(detector.length, length);
  assert.equal(detector.verdict?.level, "loop");
});

Deno.test("LoopDetector throws when text is pushed after finish", () => {
  const detector = new LoopDetector();
  detector.finish();
  assert.throws(() => detector.push("more"), /after finish/);
});

Deno.test("LoopDetector never ends the releasable length inside a surrogate pair", () => {
  const detector = new LoopDetector({ holdBackChars: 3 });
  const text = "Emoji talk 😀 and more 🎉 words 🚀 here.";
  for (let i = 0; i < text.length; i++) {
    detector.push(text[i]);
    const released = detector.releasableLength();
    const unit = text.charCodeAt(released - 1);
    assert.ok(!(unit >= 0xd800 && unit <= 0xdbff), `released ends with a high surrogate at ${released}`);
  }
});

Deno.test("LoopDetector catches a paragraph loop with a period of about 3,000 characters", () => {
  const paragraph = Array.from(
    { length: 60 },
    (_, i) => `Clause ${String.fromCharCode(97 + (i % 26))}${i} explains one more detail of the design.`,
  ).join(" ") + "\n\n";
  assert.ok(paragraph.length > 2500 && paragraph.length < 4096);
  const verdicts = feed(new LoopDetector(), "Intro.\n\n" + paragraph.repeat(4), 50);
  const loop = verdicts.find((v) => v.level === "loop");
  assert.ok(loop, "expected a loop verdict");
  assert.equal(loop.period, paragraph.length);
});

Deno.test("LoopDetector does not see periods longer than maxPeriod", () => {
  const unit = Array.from({ length: 12 }, (_, i) => `call_${i}(x[${i}]);`).join(" ") + "\n";
  assert.ok(unit.length > 150);
  const small = feed(new LoopDetector({ maxPeriod: 100 }), unit.repeat(8));
  assert.deepEqual(small, []);
  const large = feed(new LoopDetector({ maxPeriod: 400 }), unit.repeat(8));
  assert.equal(large.at(-1)?.level, "loop");
});

Deno.test("LoopDetector tolerates rules, short refrains and small repeated tables", () => {
  const detector = new LoopDetector();
  const text = "# Title\n" + "=".repeat(120) + "\n\nVery, very, very good.\n\n" +
    "| a | b |\n|---|---|\n| 0 | 0 |\n| 0 | 0 |\n| 0 | 0 |\n\n" + "-".repeat(80) + "\nThe end.\n";
  assert.deepEqual(feed(detector, text), []);
  assert.equal(detector.finish(), null);
});

Deno.test("LoopDetector rejects invalid options", () => {
  assert.throws(() => new LoopDetector({ holdBackChars: -1 }), RangeError);
  assert.throws(() => new LoopDetector({ maxPeriod: 0 }), RangeError);
  assert.throws(() => new LoopDetector({ maxPeriod: 1.5 }), RangeError);
  assert.throws(() => new LoopDetector({ maxPeriod: 100_000 }), RangeError);
});

Deno.test("LoopDetector with the data rules cuts a runaway tool argument past 32 K repeated characters", () => {
  const detector = new LoopDetector({ data: true });
  const opening = '{"file_path":"a.c","content":"int t[] = {';
  const verdicts = feed(detector, opening + "0, ".repeat(12_000), 61);
  assert.equal(verdicts.length, 1, "no suspicion first, one loop");
  const [loop] = verdicts;
  assert.equal(loop.level, "loop");
  assert.equal(loop.period, 3);
  assert.ok(loop.detectedAt - loop.start >= 32_768, `cut after ${loop.detectedAt - loop.start} repeated characters`);
  assert.ok(loop.start <= opening.length + 3);
  assert.equal(detector.releasableLength(), loop.start, "none of the repeats was released");
});

Deno.test("LoopDetector with the data rules releases a repetitive file once its repetition ends", () => {
  const detector = new LoopDetector({ data: true });
  const repetitive = '{"content":"' + "|  |  |  |\\n".repeat(80);
  assert.deepEqual(feed(detector, repetitive), []);
  assert.ok(detector.releasableLength() < repetitive.length - 256, "the repetition in progress is held");
  const rest = '","file_path":"docs/inventory.md"}' + " ".repeat(300);
  assert.deepEqual(feed(detector, rest), []);
  assert.ok(detector.releasableLength() >= repetitive.length, "released when the repetition broke");
});
