/**
 * A small leveled logger writing one line per message to stderr (stdout is kept for the start-up line).
 *
 * Lines look like `2026-11-25T12:43:20.123Z INFO  [req-7] message`. Debug lines are written only when enabled.
 * Every line goes through the one {@link Redactor} (configured keys and recognised secrets), and then every control
 * character in it is escaped (`\n`, `\x1b`, `\u2028`, …), so a model name, an upstream's error text or a stack
 * trace can neither forge log lines nor drive the terminal: one record is always one line.
 *
 * @module
 */

import { Redactor } from "./redact.ts";

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Where log lines go. */
export interface Logger {
  /** Writes a line at `level`; `requestId` tags lines that belong to one request. */
  log(level: LogLevel, message: string, requestId?: string): void;
  /** Whether debug lines are written (so callers can skip building them). */
  readonly debugEnabled: boolean;
  /** The redactor every line goes through; failure dumps use it too. */
  readonly redactor: Redactor;
  /** A logger with the same sink that also masks every value of `secrets` (the configured keys). */
  withSecrets(secrets: Iterable<string>): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Write debug lines. @default false */
  debug?: boolean;
  /** Sink for finished lines. @default a write to stderr */
  write?: (line: string) => void;
  /** Clock. @default Date.now */
  now?: () => number;
  /** Masks secrets in every line. @default a redactor that knows no configured keys */
  redactor?: Redactor;
}

const encoder = new TextEncoder();

// C0 controls, DEL, C1 controls, line/paragraph separators and the bidirectional overrides.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Escapes every control character of `text` (`\n`, `\r`, `\t`, `\x1b`, `\u2028`, …) so it stays on one line and
 * cannot drive a terminal.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (char) => {
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) return short;
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Creates a {@link Logger}. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
  const now = options.now ?? Date.now;
  const debugEnabled = options.debug ?? false;
  const redactor = options.redactor ?? new Redactor();
  return {
    debugEnabled,
    redactor,
    log(level, message, requestId) {
      if (level === "debug" && !debugEnabled) return;
      const tag = requestId ? ` [${escapeControl(redactor.redact(requestId))}]` : "";
      const text = escapeControl(redactor.redact(message));
      write(`${new Date(now()).toISOString()} ${level.toUpperCase().padEnd(5)}${tag} ${text}`);
    },
    withSecrets: (secrets) => createLogger({ ...options, redactor: redactor.with(secrets) }),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(debug = true): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { ...createLogger({ debug, write: (line) => lines.push(line) }), lines };
}
