/** Runs a Traintrack server as a child process (test/support/server-process.ts), so that a crash is seen. */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SERVER_PROCESS = fileURLToPath(new URL("./server-process.ts", import.meta.url));

export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildServer {
  port: number;
  pid: number;
  /** Undefined while the process runs; how it ended otherwise. */
  ended(): ProcessEnd | undefined;
  /** What it printed on stderr so far (its log). */
  stderr(): string;
  /** Ends the process (SIGTERM, then SIGKILL if it lingers) and waits until it has. */
  stop(): Promise<void>;
}

/** Starts a server over exactly `env` (plus PATH-like basics); resolves once it listens. */
export async function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  // Only the variables given: a developer's own TRAINTRACK_* settings must not leak in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TRAINTRACK_")));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", SERVER_PROCESS], {
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  let end: ProcessEnd | undefined;
  const exited = new Promise<ProcessEnd>((resolve) => {
    child.once("exit", (code, signal) => {
      end = { code, signal };
      resolve(end);
    });
  });
  const stop = async () => {
    if (end) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      if (!child.stdout) return reject(new Error("the server process has no stdout"));
      createInterface({ input: child.stdout }).on("line", (line) => {
        const match = /^listening (\d+)$/.exec(line);
        if (match) resolve(Number(match[1]));
      });
      void exited.then(({ code, signal }) => reject(new Error(`the server ended (${signal ?? code}) before listening:\n${stderr}`)));
    });
    return { port, pid: child.pid ?? -1, ended: () => end, stderr: () => stderr, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
