/**
 * A small leveled logger writing one line per message to stderr (stdout is kept for the start-up line).
 *
 * Lines look like `2026-11-25T12:43:20.123Z INFO  [req-7] message`. Debug lines are written only when enabled.
 *
 * @module
 */

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Where log lines go. */
export interface Logger {
  /** Writes a line at `level`; `requestId` tags lines that belong to one request. */
  log(level: LogLevel, message: string, requestId?: string): void;
  /** Whether debug lines are written (so callers can skip building them). */
  readonly debugEnabled: boolean;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Write debug lines. @default false */
  debug?: boolean;
  /** Sink for finished lines. @default a write to stderr */
  write?: (line: string) => void;
  /** Clock. @default Date.now */
  now?: () => number;
}

const encoder = new TextEncoder();

/** Creates a {@link Logger}. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
  const now = options.now ?? Date.now;
  const debugEnabled = options.debug ?? false;
  return {
    debugEnabled,
    log(level, message, requestId) {
      if (level === "debug" && !debugEnabled) return;
      const tag = requestId ? ` [${requestId}]` : "";
      write(`${new Date(now()).toISOString()} ${level.toUpperCase().padEnd(5)}${tag} ${message}`);
    },
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(debug = true): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { ...createLogger({ debug, write: (line) => lines.push(line) }), lines };
}
