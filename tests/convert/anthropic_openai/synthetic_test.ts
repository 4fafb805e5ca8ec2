import assert from "node:assert/strict";
import { toMessageId, toToolUseId, toUpstreamToolCallId } from "../../../src/convert/anthropic_openai/synthetic.ts";

Deno.test("toMessageId derives a msg_ id from the OpenAI id or makes a random one", () => {
  assert.equal(toMessageId("chatcmpl-9Abc_d-e"), "msg_9Abc_d-e");
  assert.equal(toMessageId("gen-1760000000-xyz"), "msg_gen-1760000000-xyz");
  assert.match(toMessageId(undefined), /^msg_[0-9a-f]{24}$/);
  assert.match(toMessageId("chatcmpl-"), /^msg_[0-9a-f]{24}$/);
  assert.notEqual(toMessageId(null), toMessageId(null));
});

Deno.test("toToolUseId keeps call_ and toolu_ ids and makes others safe", () => {
  const cases: Array<{ input: string; want: string }> = [
    { input: "call_8f2a", want: "call_8f2a" },
    { input: "toolu_01ABC", want: "toolu_01ABC" },
    { input: "Yq0xZ3nK8mB2", want: "toolu_sp_Yq0xZ3nK8mB2" },
    { input: "chatcmpl-tool-4f1e", want: "toolu_sp_chatcmpl-tool-4f1e" },
    { input: "functions.Bash:0", want: "toolu_sp64_ZnVuY3Rpb25zLkJhc2g6MA" },
  ];
  for (const { input, want } of cases) {
    assert.equal(toToolUseId(input), want, input);
    assert.match(want, /^[A-Za-z0-9_-]+$/, "Anthropic's id pattern");
  }
  assert.match(toToolUseId(""), /^toolu_[0-9a-f]{24}$/);
  assert.match(toToolUseId(undefined), /^toolu_[0-9a-f]{24}$/);
});

Deno.test("toUpstreamToolCallId restores every upstream id toToolUseId rewrote and passes others unchanged", () => {
  const upstreamIds = [
    "Kx1aB2",
    "call_8f2a",
    "toolu_01ABC",
    "chatcmpl-tool-4f1e",
    "functions.Bash:0",
    "call_a.b",
    "toolu_sp_lookalike",
    "toolu_sp64_lookalike",
    "ид:звонка",
  ];
  for (const id of upstreamIds) assert.equal(toUpstreamToolCallId(toToolUseId(id)), id, id);
  for (const id of ["toolu_01XFDUDYJgAACzvnptvVoYEL", "call_abc", "toolu_spare"]) {
    assert.equal(toUpstreamToolCallId(id), id, id);
  }
});
