/**
 * The official OpenAI and Anthropic SDKs, used as real clients by tests only.
 *
 * They are imported here with `npm:` specifiers rather than mapped in `deno.json`, so that `deno task start` (which
 * installs every package `deno.json` maps) never downloads them.
 *
 * @module
 */

export { APIError, default as OpenAI } from "npm:openai@7.57.0";
export { default as Anthropic } from "npm:@anthropic-ai/sdk@1.12.0";
