import assert from "node:assert/strict";
import { toMessageId, toToolUseId } from "../../../src/convert/anthropic_openai/synthetic.ts";

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
    { input: "Yq0xZ3nK8mB2", want: "toolu_Yq0xZ3nK8mB2" },
    { input: "chatcmpl-tool-4f1e", want: "toolu_chatcmpl-tool-4f1e" },
    { input: "functions.Bash:0", want: "toolu_functions_Bash_0" },
  ];
  for (const { input, want } of cases) assert.equal(toToolUseId(input), want, input);
  assert.match(toToolUseId(""), /^toolu_[0-9a-f]{24}$/);
  assert.match(toToolUseId(undefined), /^toolu_[0-9a-f]{24}$/);
});
