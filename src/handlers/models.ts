/**
 * `GET /models`, `/v1/models` and `/v1/models/{id}`: the union of every upstream's model list, in the client's
 * shape (OpenAI `{object: "list", data: [{id, object, created, owned_by}]}`, or Anthropic's
 * `{data: [{type: "model", id, display_name, created_at}], has_more, first_id, last_id}`).
 *
 * Upstreams are asked concurrently with a short deadline for the whole answer, and each list is read up to a size
 * cap; one that fails (refused, too slow, too large, not a JSON list) is logged and skipped, never failing the whole
 * list. The union is cached briefly so clients that poll the list do not hammer the upstreams.
 *
 * @module
 */

import type { UpstreamConfig } from "../config/config.ts";
import type { ProxyContext } from "../context.ts";
import { isJsonObject } from "../protocols/json_object.ts";
import type { Dialect } from "../protocols/dialect.ts";
import { displayUrl } from "../routing/upstream_url.ts";
import { readAll } from "../http/upstream_call.ts";

/** One entry of the model list. */
export interface ModelEntry {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** One model in Anthropic's shape (`ModelInfo` of the Anthropic SDK). */
export interface AnthropicModelEntry {
  type: "model";
  id: string;
  display_name: string;
  /** RFC 3339 time. */
  created_at: string;
}

/** One model in the client's protocol shape. */
export function modelBody(entry: ModelEntry, dialect: Dialect): ModelEntry | AnthropicModelEntry {
  if (dialect.name === "openai_chat") return entry;
  return {
    type: "model",
    id: entry.id,
    display_name: entry.id,
    created_at: new Date(entry.created * 1000).toISOString(),
  };
}

/** The model list in the client's protocol shape. */
export function modelListBody(models: readonly ModelEntry[], dialect: Dialect): Record<string, unknown> {
  const data = models.map((entry) => modelBody(entry, dialect));
  if (dialect.name === "openai_chat") return { object: "list", data };
  return { data, has_more: false, first_id: models[0]?.id ?? null, last_id: models.at(-1)?.id ?? null };
}

/** Options of {@link ModelList}. */
export interface ModelListOptions {
  /** How long a fetched union is reused. @default 5000 */
  cacheMs?: number;
  /** Longest wait for one upstream, its whole answer included. @default 10000 */
  timeoutMs?: number;
  /** Largest model list read from one upstream, in bytes. @default 8 MiB */
  maxBytes?: number;
  /** Names offered by the proxy itself (virtual models), listed first. */
  extra?: () => string[];
}

/** Fetches and caches the union of the upstreams' model lists. */
export class ModelList {
  #ctx: ProxyContext;
  #cacheMs: number;
  #timeoutMs: number;
  #maxBytes: number;
  #extra: () => string[];
  #cached: { at: number; models: ModelEntry[] } | undefined;
  #inflight: Promise<ModelEntry[]> | undefined;

  constructor(ctx: ProxyContext, options: ModelListOptions = {}) {
    this.#ctx = ctx;
    this.#cacheMs = options.cacheMs ?? 5000;
    this.#timeoutMs = options.timeoutMs ?? 10000;
    this.#maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.#extra = options.extra ?? (() => []);
  }

  /** The union, from cache when fresh; concurrent callers share one fetch. */
  async get(incoming: Headers): Promise<ModelEntry[]> {
    if (this.#cached && performance.now() - this.#cached.at < this.#cacheMs) return this.#cached.models;
    this.#inflight ??= this.#fetchAll(incoming).finally(() => this.#inflight = undefined);
    return await this.#inflight;
  }

  async #fetchAll(incoming: Headers): Promise<ModelEntry[]> {
    const lists = await Promise.all(this.#ctx.config.upstreams.map((u) => this.#fetchOne(u, incoming)));
    const seen = new Set<string>();
    const out: ModelEntry[] = [];
    const add = (entry: ModelEntry) => {
      if (seen.has(entry.id)) return;
      seen.add(entry.id);
      out.push(entry);
    };
    for (const id of this.#extra()) add({ id, object: "model", created: 0, owned_by: "sampling-proxy" });
    for (const list of lists) list.forEach(add);
    this.#cached = { at: performance.now(), models: out };
    return out;
  }

  async #fetchOne(upstream: UpstreamConfig, incoming: Headers): Promise<ModelEntry[]> {
    const client = this.#ctx.upstreamClient;
    const deadlineMs = Math.min(this.#timeoutMs, upstream.responseTimeoutMs);
    const plan = { endpoint: "models", method: "GET", incoming, deadlineMs } as const;
    try {
      const response = await client.prepare(upstream, plan).send(null);
      const reader = response.reader();
      if (response.status >= 300) {
        await reader?.cancel();
        throw new Error(`status ${response.status}`);
      }
      const bytes = reader ? await readAll(reader, this.#maxBytes) : new Uint8Array();
      const body: unknown = JSON.parse(new TextDecoder().decode(bytes));
      if (!isJsonObject(body) || !Array.isArray(body.data)) throw new Error("no data array in the answer");
      return body.data.flatMap((item): ModelEntry[] => {
        if (!isJsonObject(item) || typeof item.id !== "string") return [];
        const created = typeof item.created === "number" ? item.created : 0;
        return [{ id: item.id, object: "model", created, owned_by: upstream.name }];
      });
    } catch (error) {
      const reason = client.failureReason(error);
      this.#ctx.logger.log(
        "warn",
        `Model list of upstream "${upstream.name}" skipped: ${reason}; url=${displayUrl(client.url(upstream, plan))}`,
      );
      return [];
    }
  }
}
