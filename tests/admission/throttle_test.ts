import assert from "node:assert/strict";
import { Throttle, type ThrottleOptions } from "../../src/admission/throttle.ts";
import { QueueTimeoutError } from "../../src/admission/errors.ts";
import { FakeClock, settle } from "./fake_clock.ts";

/** A throttle on a fake clock that records when (fake ms) each labelled send was let through. */
function setup(options: ThrottleOptions) {
  const clock = new FakeClock();
  const lines: string[] = [];
  const throttle = new Throttle({ clock, log: (level, message) => lines.push(`${level}: ${message}`), ...options });
  const starts: [label: string, at: number][] = [];
  const send = (label: string, model: string, signal?: AbortSignal) => {
    const promise = throttle.wait(model, { signal }).then(() => {
      starts.push([label, clock.now()]);
    });
    promise.catch(() => {});
    return promise;
  };
  return { clock, throttle, lines, starts, send };
}

Deno.test("Throttle does nothing when disabled", async () => {
  const { clock, starts, send } = setup({ global: { startPauseSeconds: 5 } });
  await Promise.all([send("a", "m"), send("b", "m")]);
  assert.deepEqual(starts, [["a", 0], ["b", 0]]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("Throttle spaces concurrent sends of one model by the start pause, in FIFO order", async () => {
  const { clock, starts, send } = setup({ enabled: true, global: { startPauseSeconds: 2 } });
  for (const label of ["a", "b", "c"]) send(label, "m");
  await clock.advance(10_000);
  assert.deepEqual(starts, [["a", 0], ["b", 2_000], ["c", 4_000]]);
});

Deno.test("Throttle delays the next send until the end pause after the last response", async () => {
  const { clock, throttle, starts, send } = setup({ enabled: true, global: { endPauseSeconds: 3 } });
  await send("a", "m");
  await clock.advance(5_000);
  throttle.finished("m");
  send("b", "m");
  await clock.advance(2_999);
  assert.deepEqual(starts, [["a", 0]]);
  await clock.advance(1);
  assert.deepEqual(starts, [["a", 0], ["b", 8_000]]);
});

Deno.test("Throttle waits for the later of start pause and end pause", async () => {
  const { clock, throttle, starts, send } = setup({
    enabled: true,
    global: { startPauseSeconds: 10, endPauseSeconds: 1 },
  });
  await send("a", "m");
  await clock.advance(2_000);
  throttle.finished("m"); // end + 1 s = 3 s, start + 10 s = 10 s
  send("b", "m");
  await clock.advance(20_000);
  assert.deepEqual(starts, [["a", 0], ["b", 10_000]]);
});

Deno.test("Throttle pushes a waiting send back when a response ends meanwhile", async () => {
  const { clock, throttle, starts, send } = setup({
    enabled: true,
    global: { startPauseSeconds: 2, endPauseSeconds: 5 },
  });
  await send("a", "m");
  send("b", "m"); // due at 2 s by the start pause
  await clock.advance(1_000);
  throttle.finished("m"); // now due at 6 s
  await clock.advance(10_000);
  assert.deepEqual(starts, [["a", 0], ["b", 6_000]]);
});

Deno.test("Throttle keeps separate timers per model", async () => {
  const { clock, starts, send } = setup({ enabled: true, global: { startPauseSeconds: 5 } });
  send("a1", "A");
  send("a2", "A");
  send("b1", "B");
  await clock.advance(5_000);
  assert.deepEqual(starts, [["a1", 0], ["b1", 0], ["a2", 5_000]]);
});

Deno.test("Throttle per-model pauses override global key by key", async () => {
  const { clock, throttle, starts, send } = setup({
    enabled: true,
    global: { startPauseSeconds: 1, endPauseSeconds: 4 },
    perModel: {
      "glm-5": { startPauseSeconds: 3 }, // end pause inherited: 4 s
      "glm-*": { endPauseSeconds: null }, // start pause inherited, end pause off
      "qwen": { startPauseSeconds: 0, endPauseSeconds: null }, // both off
    },
  });
  for (const model of ["glm-5", "glm-4.7", "qwen", "other"]) {
    send(`${model}#1`, model);
    throttle.finished(model);
    send(`${model}#2`, model);
  }
  await clock.advance(10_000);
  assert.deepEqual(Object.fromEntries(starts), {
    "glm-5#1": 0,
    "glm-5#2": 4_000,
    "glm-4.7#1": 0,
    "glm-4.7#2": 1_000,
    "qwen#1": 0,
    "qwen#2": 0,
    "other#1": 0,
    "other#2": 4_000,
  });
});

Deno.test("Throttle rejects a send that waits past the timeout and lets the next one go", async () => {
  const { clock, starts, send } = setup({ enabled: true, timeoutSeconds: 4, global: { startPauseSeconds: 5 } });
  send("x", "m");
  const late = send("y", "m"); // due at 5 s, gives up at 4 s
  await clock.advance(2_000);
  send("z", "m"); // gives up at 6 s, but moves up to y's turn at 5 s
  await clock.advance(2_000);
  await assert.rejects(late, (error: unknown) => {
    assert.ok(error instanceof QueueTimeoutError);
    assert.equal(error.scope, "throttle");
    assert.equal(error.limit, null);
    assert.equal(error.model, "m");
    assert.equal(error.waiting, 2);
    assert.equal(error.retryAfterSeconds, 6); // behind z: 1 s to z's turn, then 5 s
    assert.equal(error.message, 'Timed out after 4s waiting for the throttle of model "m"');
    return true;
  });
  await clock.advance(10_000);
  assert.deepEqual(starts, [["x", 0], ["z", 5_000]]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("Throttle removes an aborted send at once and rejects with the signal's reason", async () => {
  const { clock, starts, send } = setup({ enabled: true, global: { startPauseSeconds: 5 } });
  send("a", "m");
  const controller = new AbortController();
  const gone = send("b", "m", controller.signal);
  send("c", "m");
  await clock.advance(1_000);
  const reason = new Error("Client disconnected");
  controller.abort(reason);
  await assert.rejects(gone, (error) => error === reason);
  await clock.advance(20_000);
  assert.deepEqual(starts, [["a", 0], ["c", 5_000]]);
});

Deno.test("Throttle drops its timer when the last waiting send leaves", async () => {
  const { clock, send } = setup({ enabled: true, timeoutSeconds: null, global: { startPauseSeconds: 5 } });
  await send("a", "m");
  const controller = new AbortController();
  const gone = send("b", "m", controller.signal);
  await settle();
  assert.equal(clock.pendingTimers, 1);
  controller.abort();
  await assert.rejects(gone);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("Throttle rejects an already aborted signal without recording a start", async () => {
  const { clock, starts, send } = setup({ enabled: true, global: { startPauseSeconds: 5 } });
  await assert.rejects(send("a", "m", AbortSignal.abort(new Error("gone"))), /gone/);
  await send("b", "m");
  assert.deepEqual(starts, [["b", 0]]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("Throttle logs each wait once", async () => {
  const { clock, throttle, lines, send } = setup({
    enabled: true,
    global: { startPauseSeconds: 1.5, endPauseSeconds: 4 },
  });
  send("a", "glm-5");
  send("b", "glm-5");
  await settle();
  throttle.finished("glm-5"); // reschedules b without a second line
  await clock.advance(10_000);
  assert.deepEqual(lines, ["info: Throttle: waiting 1.5s before sending to glm-5"]);
});

Deno.test("Throttle keeps a running pause while forgetting finished ones", async () => {
  const { clock, starts, send } = setup({ enabled: true, global: { startPauseSeconds: 5 } });
  await send("a", "m1");
  await clock.advance(5_000);
  await send("b", "m2"); // m1's pause is over: a fresh state lets c go at once
  await send("c", "m1");
  await clock.advance(1_000);
  send("d", "m3"); // m1 and m2 are still pausing and must survive the clean-up
  send("e", "m1");
  send("f", "m2");
  await clock.advance(10_000);
  assert.deepEqual(Object.fromEntries(starts), { a: 0, b: 5_000, c: 5_000, d: 6_000, e: 10_000, f: 10_000 });
});

Deno.test("Throttle rejects invalid pauses with their config path", () => {
  const cases: [ThrottleOptions, RegExp][] = [
    [{ global: { startPauseSeconds: -1 } }, /global\.start_pause_seconds must be a number >= 0 or null: received -1/],
    [{ perModel: { "glm-5": { endPauseSeconds: Number.NaN } } }, /per_model\.glm-5\.end_pause_seconds/],
    [{ timeoutSeconds: 0 }, /timeout must be a positive number or null/],
  ];
  for (const [options, message] of cases) assert.throws(() => new Throttle(options), message);
});
