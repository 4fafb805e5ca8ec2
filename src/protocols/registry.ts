/**
 * The one place that decides which dialect is which: dialects by name, the dialect of a client's request, and the
 * converter for each (client dialect, upstream dialect) pair.
 *
 * @module
 */

import { anthropicToOpenAI, type ConverterFactory, openAIToAnthropic } from "../convert/converter.ts";
import { ProxyError } from "../http/errors.ts";
import { ANTHROPIC_MESSAGES } from "./anthropic_messages.ts";
import type { Dialect, DialectName } from "./dialect.ts";
import { OPENAI_CHAT } from "./openai_chat.ts";

/** Every dialect by name. */
export const DIALECTS: Readonly<Record<DialectName, Dialect>> = {
  openai_chat: OPENAI_CHAT,
  anthropic_messages: ANTHROPIC_MESSAGES,
};

/** The dialect of clients on paths no dialect owns and without identifying headers. */
export const DEFAULT_DIALECT: Dialect = OPENAI_CHAT;

/**
 * The dialect a client speaks (for its error answers too): the one owning the path, else the one its headers
 * identify (`anthropic-version`, sent by every Anthropic SDK), else {@link DEFAULT_DIALECT}.
 */
export function clientDialect(path: string, headers: Headers): Dialect {
  const all = Object.values(DIALECTS);
  return all.find((dialect) => dialect.ownsPath(path)) ?? all.find((dialect) => dialect.ownsHeaders(headers)) ??
    DEFAULT_DIALECT;
}

/** The dialect whose clients call `endpoint` (relative to the API root), if one does. */
export function dialectOfEndpoint(endpoint: string): Dialect | undefined {
  return Object.values(DIALECTS).find((dialect) => dialect.endpoint === endpoint);
}

/** A converter table: the factory for each (client dialect, upstream dialect) pair that has one. */
export type ConverterTable = Readonly<Partial<Record<DialectName, Partial<Record<DialectName, ConverterFactory>>>>>;

/** The registered converters, by client dialect, then upstream dialect. */
export const CONVERTERS: ConverterTable = {
  anthropic_messages: { openai_chat: anthropicToOpenAI },
  openai_chat: { anthropic_messages: openAIToAnthropic },
};

/** Options of {@link converterFor}. */
export interface ConverterLookup {
  /** The upstream's name, for the error message. */
  upstream: string;
  /**
   * Another upstream serves the client's dialect (directly or through a converter): the client can pick another
   * model, so a missing converter is the client's 400; otherwise the proxy cannot serve it at all (501).
   */
  servedElsewhere: boolean;
  /** The converter table. @default CONVERTERS */
  converters?: ConverterTable;
}

/**
 * The upstream dialect and converter factory that serve a `client` request on an upstream speaking `upstream`
 * (in its order of preference).
 *
 * @throws {ProxyError} 400 naming both dialects when no converter exists and another upstream serves the client's
 * dialect; 501 (with `x-should-retry: false`) when none does
 */
export function converterFor(
  client: Dialect,
  upstream: readonly DialectName[],
  lookup: ConverterLookup,
): { dialect: Dialect; create: ConverterFactory } {
  const table = lookup.converters ?? CONVERTERS;
  for (const name of upstream) {
    const create = table[client.name]?.[name];
    if (create !== undefined) return { dialect: DIALECTS[name], create };
  }
  const message = `No converter from ${client.name} (the client's protocol) to ${upstream.join(" or ")} ` +
    `(the protocols upstream "${lookup.upstream}" speaks)`;
  if (lookup.servedElsewhere) {
    throw new ProxyError(400, "invalid_request", `${message}; use a model of an upstream that speaks ${client.name}`);
  }
  throw new ProxyError(501, "not_implemented", `${message}; no upstream serves ${client.name} clients`, {
    headers: { "x-should-retry": "false" },
  });
}

/** Whether a client of `client` can be served by an upstream speaking `upstream`, directly or converted. */
export function canServe(client: Dialect, upstream: readonly DialectName[], converters = CONVERTERS): boolean {
  return upstream.some((name) => name === client.name || converters[client.name]?.[name] !== undefined);
}

/** The two-valued protocol word the sampling policy and the request lifecycle still use for a dialect. */
export function wireProtocol(dialect: Dialect): "openai" | "anthropic" {
  return dialect.label === "anthropic" ? "anthropic" : "openai";
}
