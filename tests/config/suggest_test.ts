import assert from "node:assert/strict";
import { didYouMean, nearest } from "../../src/config/suggest.ts";

Deno.test("nearest finds typos: a missing, extra, wrong or swapped letter, ignoring case", () => {
  const keys = ["listen", "upstreams", "model_upstream_binding", "parallel_limits", "port", "host"];
  assert.equal(nearest("upstream", keys), "upstreams");
  assert.equal(nearest("prot", keys), "port");
  assert.equal(nearest("Listen", keys), "listen");
  assert.equal(nearest("paralel_limits", keys), "parallel_limits");
  assert.equal(nearest("hots", keys), "host");
});

Deno.test("nearest suggests nothing for a word that is not close to any candidate", () => {
  assert.equal(nearest("colour", ["listen", "upstreams"]), undefined);
  assert.equal(nearest("x", ["port"]), undefined);
  assert.equal(nearest("upstream", []), undefined);
});

Deno.test("didYouMean phrases the suggestion, or gives nothing", () => {
  assert.equal(didYouMean("--prot", ["--port", "--host"]), ' (did you mean "--port"?)');
  assert.equal(didYouMean("--zzz", ["--port"]), "");
});
