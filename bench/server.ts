/**
 * The Traintrack server under test, as a child process: `node --import tsx
 * src/main.ts` spawned from process.execPath, so the child's pid is the node
 * process whose memory we read (no npx or tsx wrapper in between).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { deferCleanup, removeDir, stopChild, tempDir, trackChild } from "./cleanup.js";
import type { ProviderName, ServicesEnv } from "./options.js";
import { readMemory } from "./proc.js";
import { monotonicUs, printProfile, type Window } from "./profile.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface ServerChild {
  pid: number;
  baseUrl: string;
  apiKey: string;
  provider: ProviderName;
  /** Aborted when the server exits other than through stop(). */
  gone: AbortSignal;
  /** VmRSS once the server said it was listening. */
  startupRssBytes: number;
  /** The server's data directory; the local provider's objects live below it. */
  dataDir: string;
  /** The server's storage settings (TRAINTRACK_STORAGE and friends; empty for local), to read its objects directly. */
  storageEnv: Record<string, string>;
  /**
   * Opens a window of the CPU profile (when started with cpuProf) and returns
   * the function that closes it; stop() prints where the server's CPU went in each.
   */
  profile(title: string): () => void;
  /** Stops the server (SIGTERM: a graceful shutdown, which also writes the CPU profile) and removes its state. */
  stop(): Promise<void>;
}

export interface StartOptions {
  provider: ProviderName;
  services: ServicesEnv | undefined;
  cpuProf?: boolean;
  /** Extra node flags for the server (diagnostics, e.g. --trace-gc); its stdout is then passed on too. */
  nodeArgs?: string[];
  /** Where src/main.ts is (default: this checkout). */
  root?: string;
  label: string;
}

const READY = /listening on [^\s:]+:(\d+)/;
/** Lines of the server's stderr shown after start-up, per server. */
const STDERR_LINES = 20;

/** Starts a server on a fresh database and bucket (s3) or a fresh data directory (local). */
export async function startServer(opts: StartOptions): Promise<ServerChild> {
  const dataDir = tempDir(opts.label);
  const apiKey = `tt_bench_${randomBytes(24).toString("base64url")}`;
  const providerEnv: ProviderEnv = opts.provider === "s3" ? await s3Env(opts.services) : { env: {} };
  const profileDir = opts.cpuProf ? path.join(dataDir, "cpu-profile") : undefined;
  const extraArgs = opts.nodeArgs ?? [];
  const nodeArgs = [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), ...extraArgs];

  // A port found free can be taken before the child binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const env: Record<string, string> = {
      ...inheritedEnv(),
      ...providerEnv.env,
      TRAINTRACK_HOST: "127.0.0.1",
      TRAINTRACK_PORT: String(port),
      TRAINTRACK_DATA_DIR: dataDir,
      TRAINTRACK_API_KEY: apiKey,
      // The start-up pass still runs; no sweep may land inside a measurement.
      TRAINTRACK_JANITOR_INTERVAL_SECONDS: "0",
    };
    const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "src/main.ts"], {
      cwd: opts.root ?? ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    trackChild(child);
    try {
      await ready(child, port, extraArgs.length > 0);
    } catch (error) {
      await stopChild(child, 2000);
      if (attempt < 3 && String(error).includes("EADDRINUSE")) continue;
      await providerEnv.drop?.();
      await removeDir(dataDir);
      throw error;
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error("server child has no pid");
    let stopping = false;
    const gone = new AbortController();
    child.once("exit", (code, signal) => {
      if (stopping) return;
      // Not ours: a crash, or someone else's clean-up (a broad pkill). Say so, or the failure looks like a network error.
      const why = `server pid ${pid} exited unexpectedly (${signal ?? `code ${code}`}) during the benchmark`;
      console.error(`\n[server] ${why}`);
      gone.abort(new Error(why));
    });
    const windows: { title: string; window: Window }[] = [];
    const profile = (title: string) => {
      const fromUs = monotonicUs();
      return () => void windows.push({ title, window: { fromUs, toUs: monotonicUs() } });
    };
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        cancel();
        stopping = true;
        await stopChild(child, 15_000);
        try {
          for (const w of profileDir ? windows : []) await printProfile(profileDir ?? "", w.window, w.title);
        } finally {
          await providerEnv.drop?.();
          await removeDir(dataDir);
        }
      })());
    const cancel = deferCleanup(stop);
    const startupRssBytes = readMemory(pid).rssBytes;
    return {
      pid,
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey,
      provider: opts.provider,
      gone: gone.signal,
      startupRssBytes,
      dataDir,
      storageEnv: Object.fromEntries(Object.entries(providerEnv.env).filter(([k]) => k.startsWith("TRAINTRACK_S3_") || k === "TRAINTRACK_STORAGE")),
      profile,
      stop,
    };
  }
}

/** Our environment without any TRAINTRACK_ setting that could leak into the server's config. */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("TRAINTRACK_")) env[k] = v;
  return env;
}

interface ProviderEnv {
  env: Record<string, string>;
  /** Removes what the provider created for this server (its database). */
  drop?: () => Promise<void>;
}

async function s3Env(services: ServicesEnv | undefined): Promise<ProviderEnv> {
  if (!services) throw new Error("PostgreSQL and MinIO are not running (TRAINTRACK_TEST_PG_URL unset): run through 'npm run bench'");
  const suffix = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const database = `bench_${suffix}`;
  await adminQuery(services.pgUrl, `create database ${database}`);
  const url = new URL(services.pgUrl);
  url.pathname = `/${database}`;
  return {
    env: {
      TRAINTRACK_DB_URL: url.toString(),
      TRAINTRACK_STORAGE: "s3",
      TRAINTRACK_S3_ENDPOINT: services.s3.endpoint,
      TRAINTRACK_S3_ACCESS_KEY: services.s3.accessKey,
      TRAINTRACK_S3_SECRET_KEY: services.s3.secretKey,
      TRAINTRACK_S3_REGION: services.s3.region,
      TRAINTRACK_S3_BUCKET: `bench-${suffix}`,
    },
    // The bucket stays: it lives in with-services.sh's throwaway MinIO.
    drop: () => adminQuery(services.pgUrl, `drop database if exists ${database} with (force)`),
  };
}

async function adminQuery(url: string, query: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** Resolves when the child prints its listening line; rejects with its output if it exits or hangs. */
function ready(child: ChildProcess, port: number, passStdout: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    let isReady = false;
    const collect = (data: Buffer) => {
      if (isReady) {
        if (passStdout) process.stdout.write(`[server] ${data.toString("utf8")}`);
        return;
      }
      // Keep the tail only: enough to explain a failed start.
      output = (output + data.toString("utf8")).slice(-8000);
      const match = READY.exec(output);
      if (!isReady && match && Number(match[1]) === port) {
        isReady = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", collect);
    // After start-up the server logs only errors; pass the first ones on so
    // they are seen, without burying the tables when every request fails.
    let passed = 0;
    child.stderr?.on("data", (data: Buffer) => {
      if (!isReady) return collect(data);
      if (passed < STDERR_LINES) {
        const lines = data.toString("utf8").split("\n").filter((l) => l !== "").slice(0, STDERR_LINES - passed);
        passed += lines.length;
        for (const line of lines) process.stderr.write(`[server] ${line}\n`);
        if (passed >= STDERR_LINES) process.stderr.write("[server] (further server errors not shown)\n");
      }
    });
    const timer = setTimeout(() => reject(new Error(`server not ready after 120 s:\n${output}`)), 120_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!isReady) reject(new Error(`server exited during start-up (${signal ?? `code ${code}`}):\n${output}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
