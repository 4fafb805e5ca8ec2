/**
 * Linux `/proc` files and host facts, read through small helper commands.
 *
 * Deno lets a script read `/proc` only with `--allow-all`, which `deno task bench` does not grant; it does grant
 * `--allow-run`, so the files are read with `cat` (and the kernel named by `uname`). Everything here resolves to
 * `undefined` where the command or the file is missing (e.g. on macOS).
 *
 * @module
 */

/** Resident memory of a process, in MiB. */
export interface MemoryReading {
  /** `VmRSS`: resident now. */
  rssMb: number;
  /** `VmHWM`: the most that was ever resident. */
  peakRssMb: number;
}

/** The machine the benchmark ran on. */
export interface MachineInfo {
  /** Logical CPUs (what `nproc` prints). */
  cpus: number;
  cpuModel?: string;
  /** Total memory, in MiB. */
  memoryMb?: number;
  /** `uname -sr`. */
  kernel?: string;
  deno: string;
  v8: string;
  typescript: string;
}

/** The output of `command args…`, or undefined when it cannot run or fails. */
export async function commandOutput(command: string, args: string[]): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "null" }).output();
    return output.success ? new TextDecoder().decode(output.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** The resident memory of process `pid` from `/proc/<pid>/status`. */
export async function processMemory(pid: number): Promise<MemoryReading | undefined> {
  const status = await commandOutput("cat", [`/proc/${pid}/status`]);
  if (status === undefined) return undefined;
  const rss = kibibytes(status, "VmRSS");
  const peak = kibibytes(status, "VmHWM");
  return rss === undefined || peak === undefined ? undefined : { rssMb: rss / 1024, peakRssMb: peak / 1024 };
}

/** How many clock ticks make a second, for {@link cpuTimeMs}; `getconf CLK_TCK`, else the usual 100. */
export async function clockTicksPerSecond(): Promise<number> {
  const ticks = Number(await commandOutput("getconf", ["CLK_TCK"]));
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
}

/**
 * The CPU time (user + system, all threads) the processes `pids` have used so far, in ms; undefined when one of
 * them cannot be read.
 */
export async function cpuTimeMs(pids: readonly number[], ticksPerSecond: number): Promise<number | undefined> {
  const text = await commandOutput("cat", pids.map((pid) => `/proc/${pid}/stat`));
  if (text === undefined) return undefined;
  const lines = text.split("\n").filter((line) => line !== "");
  if (lines.length !== pids.length) return undefined;
  let ticks = 0;
  for (const line of lines) {
    // Fields after the parenthesised command name (which may hold spaces) start at field 3; utime and stime are
    // fields 14 and 15 (proc(5)).
    const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond : undefined;
}

/** Facts about this machine and runtime, for the report. */
export async function machineInfo(): Promise<MachineInfo> {
  const [cpuinfo, meminfo, uname] = await Promise.all([
    commandOutput("cat", ["/proc/cpuinfo"]),
    commandOutput("cat", ["/proc/meminfo"]),
    commandOutput("uname", ["-sr"]),
  ]);
  const cpuModel = cpuinfo === undefined ? undefined : /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim();
  const memoryKb = meminfo === undefined ? undefined : kibibytes(meminfo, "MemTotal");
  return {
    cpus: navigator.hardwareConcurrency,
    ...(cpuModel === undefined ? {} : { cpuModel }),
    ...(memoryKb === undefined ? {} : { memoryMb: Math.round(memoryKb / 1024) }),
    ...(uname === undefined ? {} : { kernel: uname.trim() }),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };
}

/** The value of a `Field:   123 kB` line. */
function kibibytes(text: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s*(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
}
