/**
 * Memory and CPU of another process, read from /proc (Linux only). VmRSS is
 * the resident set now; VmHWM its peak, which `resetPeak` restarts (writing 5
 * to clear_refs, Linux ≥ 4.0) so a peak belongs to one measurement.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const MiB = 1024 * 1024;
// USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux we run on.
const CLOCK_TICKS = 100;

export interface Memory {
  rssBytes: number;
  hwmBytes: number;
}

/** VmRSS and VmHWM of `pid`, in bytes. */
export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (!match?.[1]) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib("VmRSS"), hwmBytes: kib("VmHWM") };
}

/** Restarts VmHWM at the current RSS; false when the kernel refused (then VmHWM is the peak since start). */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds `pid` has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name, which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "(comm) ".
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Bench-process CPU seconds since `since` (from process.cpuUsage()). */
export function ownCpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

export interface MemoryWindow {
  /** RSS when the window opened: the baseline. */
  baselineBytes: number;
  /** The larger of VmHWM (if it could be reset) and the largest sampled VmRSS. */
  peakBytes: number;
  growthBytes: number;
  /** False when VmHWM could not be reset: the peak is then the largest sample only. */
  exactPeak: boolean;
}

/**
 * Watches `pid`'s memory from now until `close()`: VmHWM reset at the start,
 * plus VmRSS sampled every `intervalMs` in case the reset is not permitted.
 */
export function watchMemory(pid: number, intervalMs = 20): { close(): MemoryWindow } {
  const exactPeak = resetPeak(pid);
  const baselineBytes = readMemory(pid).rssBytes;
  let sampledPeak = baselineBytes;
  const timer = setInterval(() => {
    try {
      sampledPeak = Math.max(sampledPeak, readMemory(pid).rssBytes);
    } catch {
      // The process exited; close() reports what was seen.
    }
  }, intervalMs);
  return {
    close() {
      clearInterval(timer);
      let peakBytes = sampledPeak;
      try {
        const now = readMemory(pid);
        peakBytes = Math.max(peakBytes, now.rssBytes, exactPeak ? now.hwmBytes : 0);
      } catch {
        // as above
      }
      return { baselineBytes, peakBytes, growthBytes: peakBytes - baselineBytes, exactPeak };
    },
  };
}

export const toMiB = (bytes: number) => bytes / MiB;

/** CPU seconds used in a window, by who used them (2 cores give 2 s per wall second). */
export interface CpuSplit {
  wallSeconds: number;
  server: number;
  /** This bench process: the client side. */
  client: number;
  minio: number;
  postgres: number;
  /** Every other process on the machine: other people's jobs, PGlite has none. */
  others: number;
  idle: number;
}

/** Where PostgreSQL and MinIO listen, to find their processes. */
export interface ServicePorts {
  postgres?: number;
  minio?: number;
}

/**
 * Starts accounting the machine's CPU: the server, this process, MinIO, the
 * PostgreSQL cluster (postmaster, its live backends and the ones it reaped),
 * everyone else, and idle. On a shared machine this tells a slow server from
 * a starved one.
 */
export function meterCpu(serverPid: number, ports: ServicePorts): { stop(): CpuSplit } {
  const minioPid = ports.minio === undefined ? undefined : findPid((args) => args.includes("minio") && args.includes(`:${ports.minio}`));
  const pgPid = ports.postgres === undefined ? undefined : findPid((args) => args.includes("postgres") && args.includes(`-p\0${ports.postgres}\0`));
  const snapshot = () => ({
    at: performance.now(),
    machine: machineTicks(),
    server: safe(() => cpuSeconds(serverPid)),
    client: ownCpuSeconds({ user: 0, system: 0 }),
    minio: minioPid === undefined ? 0 : safe(() => treeSeconds(minioPid)),
    postgres: pgPid === undefined ? 0 : safe(() => treeSeconds(pgPid)),
  });
  const start = snapshot();
  return {
    stop() {
      const end = snapshot();
      const busy = (end.machine.busy - start.machine.busy) / CLOCK_TICKS;
      const split = {
        server: end.server - start.server,
        client: end.client - start.client,
        minio: end.minio - start.minio,
        postgres: end.postgres - start.postgres,
      };
      const ours = split.server + split.client + split.minio + split.postgres;
      return {
        wallSeconds: (end.at - start.at) / 1000,
        ...split,
        others: Math.max(0, busy - ours),
        idle: (end.machine.idle - start.machine.idle) / CLOCK_TICKS,
      };
    },
  };
}

function safe(read: () => number): number {
  try {
    return read();
  } catch {
    return 0; // the process exited
  }
}

function machineTicks(): { busy: number; idle: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const busy = n.slice(0, 8).reduce((a, b) => a + b, 0) - idle;
  return { busy, idle };
}

/** A process's CPU with that of its live children and of the children it has reaped. */
function treeSeconds(pid: number): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      if (Number(entry) === pid) {
        // utime, stime, cutime, cstime
        total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
      } else if (ppid === pid) {
        total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      }
    } catch {
      // gone since readdir
    }
  }
  return total;
}

function findPid(match: (nulSeparatedArgs: string) => boolean): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (match(`${readFileSync(`/proc/${entry}/cmdline`, "utf8")}\0`)) return Number(entry);
    } catch {
      // gone since readdir
    }
  }
  return undefined;
}
