/**
 * Traintrack as operators run it: `src/main.ts` in a child process, its
 * stdout read as the JSON log it must be. For what only a whole process
 * shows: a crash (does it survive a database restart?), signals, graceful
 * shutdown, exit codes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LogLine = Record<string, unknown>;

export interface ChildServer {
  port: number;
  baseUrl: string;
  pid: number;
  /** Every stdout line so far that was one JSON object. */
  lines: LogLine[];
  /** Every stdout line that was not (there must be none). */
  notJson: string[];
  /** Undefined while the process runs; how it ended otherwise. */
  ended(): ProcessEnd | undefined;
  /** Resolves with how the process ended. */
  exited: Promise<ProcessEnd>;
  /** Its log so far (stdout and stderr), for failure messages. */
  stderr(): string;
  /** Resolves with the first log line matching `match`; rejects if the process ends first. */
  logged(match: (line: LogLine) => boolean): Promise<LogLine>;
  /** Sends a signal. */
  kill(signal?: NodeJS.Signals): void;
  /** Ends the process (SIGTERM, then SIGKILL if it lingers) and waits until it has. */
  stop(): Promise<void>;
}

/**
 * Starts a server over exactly `env` (plus the basics of this process's
 * environment); resolves once it listens. `root` runs another checkout's
 * server (an earlier version, for upgrade tests) instead of this one.
 */
export async function startChildServer(env: Record<string, string>, opts: { root?: string } = {}): Promise<ChildServer> {
  // Only the variables given: a developer's own TRAINTRACK_* settings must not leak in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TRAINTRACK_")));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: opts.root ?? ROOT,
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const notJson: string[] = [];
  let output = "";
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let end: ProcessEnd | undefined;
  const exited = new Promise<ProcessEnd>((resolve) => {
    child.once("exit", (code, signal) => {
      end = { code, signal };
      resolve(end);
    });
  });
  child.stderr?.on("data", (data: Buffer) => {
    output += data.toString();
  });
  if (child.stdout) {
    createInterface({ input: child.stdout }).on("line", (text) => {
      output += `${text}\n`;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        notJson.push(text);
        return;
      }
      lines.push(line);
      for (const waiter of waiters) {
        if (!waiter.match(line)) continue;
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    });
  }
  const logged = (match: (line: LogLine) => boolean) => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      waiters.add({ match, resolve });
      void exited.then(({ code, signal }) => reject(new Error(`the server ended (${signal ?? code}) first; its log:\n${output}`)));
    });
  };
  const stop = async () => {
    if (end) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const listening = await logged((l) => typeof l.msg === "string" && l.msg.startsWith("traintrack listening on"));
    const port = Number(listening.port);
    return {
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      pid: child.pid ?? -1,
      lines,
      notJson,
      ended: () => end,
      exited,
      stderr: () => output,
      logged,
      kill: (signal = "SIGTERM") => void child.kill(signal),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
