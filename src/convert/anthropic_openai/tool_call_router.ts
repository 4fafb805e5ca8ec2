/**
 * Attributes streamed OpenAI tool-call fragments to the call they belong to.
 *
 * Upstreams disagree on how they identify a call across deltas (field note 7): OpenAI, llama.cpp and vLLM send an
 * `index` on every fragment and the `id` on the first; Ollama and some proxies send `index: 0` for every call;
 * others omit `index`. The rules, in order:
 * 1. A fragment with a known `id` belongs to that call.
 * 2. A fragment with a new `id` starts a new call, unless the call its `index` (or, without an index, the latest
 *    call) points to has no id and no arguments yet: then the id was sent late and names that call.
 * 3. A fragment without `id` belongs to the call last seen at its `index`; without an index, to the latest call,
 * 4. unless it carries a name while that call already has a name and complete arguments: then it starts a new call
 *    (index always 0 and no ids; no byte could have belonged to the finished call anyway).
 *
 * @module
 */

import type { OpenAIToolCallDelta } from "../../protocols/openai.ts";
import type { BlockSequencer, SequencedBlock } from "./block_sequencer.ts";
import { isCompleteJsonObject } from "./validation.ts";

/**
 * Routes tool-call fragments to blocks of a {@link BlockSequencer}.
 *
 * @example
 * ```ts
 * const router = new ToolCallRouter(sequencer);
 * router.route({ index: 0, id: "call_1", function: { name: "Bash", arguments: "" } });
 * router.route({ index: 0, function: { arguments: '{"command":"ls"}' } });
 * ```
 */
export class ToolCallRouter {
  #sequencer: BlockSequencer;
  #byIndex = new Map<number, SequencedBlock>();
  #byId = new Map<string, SequencedBlock>();
  #latest: SequencedBlock | undefined;

  /** Creates a router that opens its calls in `sequencer`. */
  constructor(sequencer: BlockSequencer) {
    this.#sequencer = sequencer;
  }

  /** Feeds one tool-call fragment: its name and arguments go to the call it belongs to. */
  route(fragment: OpenAIToolCallDelta): void {
    const call = this.#callFor(fragment);
    const name = fragment.function?.name;
    if (typeof name === "string") this.#sequencer.nameToolCall(call, name);
    const args = fragment.function?.arguments;
    if (typeof args === "string") this.#sequencer.appendToolArgs(call, args);
  }

  #callFor(fragment: OpenAIToolCallDelta): SequencedBlock {
    const id = typeof fragment.id === "string" && fragment.id !== "" ? fragment.id : undefined;
    const index = typeof fragment.index === "number" ? fragment.index : undefined;
    const pointed = index === undefined ? this.#latest : this.#byIndex.get(index);
    let call: SequencedBlock;
    if (id !== undefined) {
      // (1) A known id; (2) a new id, adopted by a call that is still blank, else a new call.
      const known = this.#byId.get(id);
      const blank = pointed !== undefined && pointed.id === undefined && pointed.args === "" ? pointed : undefined;
      call = known ?? blank ?? this.#sequencer.newToolCall();
      call.id ??= id;
      this.#byId.set(id, call);
    } else {
      // (3) No id: the call at this index, or the latest call; (4) a new name after finished arguments: a new call.
      const startsNew = pointed === undefined ||
        (typeof fragment.function?.name === "string" && fragment.function.name !== "" && pointed.name !== undefined &&
          isCompleteJsonObject(pointed.args));
      call = startsNew ? this.#sequencer.newToolCall() : pointed;
    }
    if (index !== undefined) this.#byIndex.set(index, call);
    this.#latest = call;
    return call;
  }
}
