/**
 * The tool calls of a streamed answer, assembled from upstream-protocol events and fed, as each completes, to a
 * {@link ToolCallRepeatDetector}: a model that calls the same tool with the same arguments over and over is caught
 * while it streams, as whole answers are.
 *
 * When a call is complete:
 * 1. Anthropic: at its `content_block_stop`.
 * 2. OpenAI: when a later call starts and this one's arguments already parse as JSON (sequential calls), when a
 *    choice reports its `finish_reason`, or at the end of the stream ({@link StreamedToolCalls.finish}); calls
 *    whose arguments are still incomplete JSON (parallel calls interleaved) wait for the end.
 *
 * OpenAI fragments are matched to calls by `id`, then by `index`, then to the latest call, which covers servers that
 * omit the index or send it always 0 with distinct ids.
 *
 * @module
 */

import type { EventFacts } from "./event_text.ts";
import { type ToolCallLoopVerdict, ToolCallRepeatDetector } from "./tool_call_repeat_detector.ts";

/** A tool call being assembled. */
export interface OpenCall {
  /** The tool's name. */
  name: string;
  /** The argument text so far. */
  args: string;
}

/**
 * Assembles one streamed answer's tool calls; one instance per attempt. Each dialect reads its own events
 * ({@link AnthropicToolCalls}, {@link OpenAIToolCalls}); the dialect's `guard.toolCalls()` makes the right one.
 */
export abstract class StreamedToolCalls {
  #detector = new ToolCallRepeatDetector();
  /** The calls still open, by key. */
  protected readonly open: Map<string, OpenCall> = new Map();

  /** Reads one event; returns a verdict when it completes the repeated call that makes a loop. */
  push(facts: EventFacts): ToolCallLoopVerdict | null {
    return facts.json === undefined ? null : this.read(facts, facts.json);
  }

  /** The stream ended: every call still open is complete. */
  finish(): ToolCallLoopVerdict | null {
    return this.completeAll(() => true);
  }

  /** Reads one event whose data is a JSON object. */
  protected abstract read(facts: EventFacts, json: Record<string, unknown>): ToolCallLoopVerdict | null;

  /** Completes every open call that is `ready`; the first verdict wins. */
  protected completeAll(ready: (call: OpenCall) => boolean): ToolCallLoopVerdict | null {
    let verdict: ToolCallLoopVerdict | null = null;
    for (const [key, call] of this.open) {
      if (!ready(call)) continue;
      this.open.delete(key);
      verdict ??= this.record(call);
    }
    return verdict;
  }

  /** Feeds one complete call to the repeat detector. */
  protected record(call: OpenCall): ToolCallLoopVerdict | null {
    return this.#detector.record(call.name, call.args.trim() === "" ? "{}" : call.args);
  }
}

/** Anthropic Messages: a call is complete at its `content_block_stop`. */
export class AnthropicToolCalls extends StreamedToolCalls {
  protected read(facts: EventFacts, json: Record<string, unknown>): ToolCallLoopVerdict | null {
    const key = `block:${facts.index}`;
    if (json.type === "content_block_start" && facts.blockType === "tool_use") {
      const block = json.content_block as { name?: unknown };
      this.open.set(key, { name: typeof block.name === "string" ? block.name : "", args: "" });
      return null;
    }
    const call = this.open.get(key);
    if (call === undefined) return null;
    if (json.type === "content_block_delta") {
      const delta = json.delta as { type?: unknown; partial_json?: unknown };
      if (delta.type === "input_json_delta" && typeof delta.partial_json === "string") call.args += delta.partial_json;
      return null;
    }
    if (json.type !== "content_block_stop") return null;
    this.open.delete(key);
    return this.record(call);
  }
}

/** OpenAI Chat: calls are matched by `id`, `index` or the latest call (see the module documentation). */
export class OpenAIToolCalls extends StreamedToolCalls {
  #keyByIndex = new Map<number, string>();
  #latest: string | undefined;

  protected read(_facts: EventFacts, json: Record<string, unknown>): ToolCallLoopVerdict | null {
    const choice = (json.choices as Array<Record<string, unknown>> | undefined)?.[0];
    if (choice === undefined) return null;
    const delta = choice.delta as { tool_calls?: unknown } | undefined;
    const fragments = Array.isArray(delta?.tool_calls) ? delta.tool_calls : [];
    for (const fragment of fragments) {
      const verdict = this.#fragment(fragment as Record<string, unknown>);
      if (verdict) return verdict;
    }
    return choice.finish_reason ? this.completeAll(() => true) : null;
  }

  #fragment(fragment: Record<string, unknown>): ToolCallLoopVerdict | null {
    const id = typeof fragment.id === "string" && fragment.id !== "" ? fragment.id : undefined;
    const index = typeof fragment.index === "number" ? fragment.index : undefined;
    const key = id ?? (index !== undefined ? this.#keyByIndex.get(index) ?? `index:${index}` : this.#latest);
    if (key === undefined) return null;
    if (index !== undefined) this.#keyByIndex.set(index, key);
    const fn = fragment.function as { name?: unknown; arguments?: unknown } | undefined;
    let verdict: ToolCallLoopVerdict | null = null;
    let call = this.open.get(key);
    if (call === undefined) {
      // A new call: the calls before it whose arguments are already whole JSON are complete.
      verdict = this.completeAll(({ args }) => isJson(args));
      call = { name: "", args: "" };
      this.open.set(key, call);
    }
    if (typeof fn?.name === "string" && fn.name !== "") call.name = fn.name;
    if (typeof fn?.arguments === "string") call.args += fn.arguments;
    this.#latest = key;
    return verdict;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
