/**
 * A server run as a child `deno` process: started, awaited until it prints its listening line, measured through
 * `/proc/<pid>/status` (see `proc.ts`), and stopped (SIGTERM, then SIGKILL).
 *
 * The child's stderr is drained continuously (a full pipe would block a server that logs synchronously) and only
 * its last few kilobytes are kept, to explain a failure.
 *
 * @module
 */

import { type MemoryReading, processMemory } from "./proc.ts";

/** Options of {@link ChildServer.start}. */
export interface ChildServerOptions {
  /** Name used in messages, e.g. `proxy`. */
  name: string;
  /** Arguments after `deno`, e.g. `["run", "--allow-net", "bench/fast_upstream.ts"]`. */
  args: string[];
  /** The stdout line that announces readiness starts with this; the rest of the line is the URL. */
  readyPrefix: string;
  /** Working directory. */
  cwd: string;
  /** Longest wait for the listening line. @default 30000 */
  readyTimeoutMs?: number;
}

const STDERR_TAIL_BYTES = 4096;
const STOP_GRACE_MS = 3000;

/** A running child server. */
export class ChildServer implements AsyncDisposable {
  /** The URL printed after the ready prefix. */
  readonly url: string;
  /** The child's process id. */
  readonly pid: number;
  /** The name given at start. */
  readonly name: string;
  #process: Deno.ChildProcess;
  #stderrTail: () => string;
  #exited = false;

  private constructor(name: string, parts: { url: string; process: Deno.ChildProcess; stderrTail: () => string }) {
    this.name = name;
    this.url = parts.url;
    this.pid = parts.process.pid;
    this.#process = parts.process;
    this.#stderrTail = parts.stderrTail;
    parts.process.status.then(() => this.#exited = true);
  }

  /**
   * Starts the child and waits for its listening line.
   *
   * @throws {Error} when the child exits or stays silent before it is ready; the message carries its stderr
   */
  static async start(options: ChildServerOptions): Promise<ChildServer> {
    const { name, args, readyPrefix, cwd, readyTimeoutMs = 30_000 } = options;
    const process = new Deno.Command(Deno.execPath(), {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // Calls go to 127.0.0.1 only, never through a proxy from the environment.
      env: { NO_COLOR: "1", NO_PROXY: "127.0.0.1,localhost" },
    }).spawn();
    const stderrTail = drainKeepingTail(process.stderr);
    const lines = process.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter()).getReader();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), readyTimeoutMs));
    let url: string | undefined;
    try {
      while (url === undefined) {
        const line = await Promise.race([lines.read(), timeout]);
        if (line === "timeout") throw new Error(`${name} printed no listening line within ${readyTimeoutMs} ms`);
        if (line.done) throw new Error(`${name} exited before listening`);
        if (line.value.startsWith(readyPrefix)) url = line.value.slice(readyPrefix.length).trim();
      }
    } catch (error) {
      await stopProcess(process);
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; its stderr ends with:\n${stderrTail()}`,
      );
    } finally {
      clearTimeout(timer);
    }
    // Whatever else the child prints is read and dropped, so that it never blocks on a full pipe.
    (async () => {
      while (!(await lines.read()).done);
    })().catch(() => {});
    return new ChildServer(name, { url, process, stderrTail });
  }

  /** Whether the child has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The last few kilobytes the child wrote to stderr. */
  stderrTail(): string {
    return this.#stderrTail();
  }

  /** The child's resident memory, or undefined where `/proc` cannot be read. */
  memory(): Promise<MemoryReading | undefined> {
    return processMemory(this.pid);
  }

  /** Stops the child: SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void> {
    return stopProcess(this.#process);
  }

  /** Same as {@link stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

async function stopProcess(process: Deno.ChildProcess): Promise<void> {
  const signal = (name: Deno.Signal) => {
    try {
      process.kill(name);
    } catch {
      // Already exited.
    }
  };
  signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), STOP_GRACE_MS));
  if (await Promise.race([process.status, grace]) === "late") signal("SIGKILL");
  clearTimeout(timer);
  await process.status;
}

/** Reads `stream` to its end in the background; the returned function gives its last bytes as text. */
function drainKeepingTail(stream: ReadableStream<Uint8Array>): () => string {
  const chunks: Uint8Array[] = [];
  let size = 0;
  (async () => {
    for await (const chunk of stream) {
      chunks.push(chunk);
      size += chunk.length;
      while (chunks.length > 1 && size - chunks[0].length >= STDERR_TAIL_BYTES) size -= chunks.shift()!.length;
    }
  })().catch(() => {});
  return () => {
    const joined = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    return new TextDecoder().decode(joined.subarray(Math.max(0, size - STDERR_TAIL_BYTES)));
  };
}

/** Splits text into lines (without their line ends). */
function lineSplitter(): TransformStream<string, string> {
  let buffer = "";
  return new TransformStream({
    transform(text, controller) {
      buffer += text;
      const lines = buffer.split(/\r?\n/);
      buffer = lines.pop() ?? "";
      for (const line of lines) controller.enqueue(line);
    },
    flush(controller) {
      if (buffer !== "") controller.enqueue(buffer);
    },
  });
}
