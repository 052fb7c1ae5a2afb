/**
 * A MinIO server of one suite's own, for tests that stop and restart object
 * storage without disturbing the suites beside them. Data lives in a
 * temporary directory kept across stop() and start() (same port, same keys),
 * removed by close().
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "./free-port.js";
import { pollUntil } from "./poll.js";

export interface MinioServer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** SIGTERM, and waits until the process has exited (its port then refuses connections). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it is live. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts MinIO from `binary` on free loopback ports; resolves once it is live. */
export async function startMinioServer(binary: string): Promise<MinioServer> {
  const work = await mkdtemp(path.join(os.tmpdir(), "traintrack-minio-"));
  const accessKey = "traintrack-test";
  const secretKey = randomBytes(18).toString("hex");
  const [port, consolePort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = "";

  const start = async () => {
    output = "";
    const proc = spawn(
      binary,
      ["server", work, "--quiet", "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`],
      {
        env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: "off", MINIO_UPDATE: "off" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const collect = (data: Buffer) => {
      output += data.toString();
    };
    proc.stdout?.on("data", collect);
    proc.stderr?.on("data", collect);
    let running = true;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    void exited.then(() => {
      running = false;
    });
    child = proc;
    await pollUntil(`MinIO is live on ${endpoint}`, async () => {
      if (!running) throw new Error(`MinIO exited during start-up:\n${output}`);
      return fetch(`${endpoint}/minio/health/live`).then((r) => r.ok, () => false);
    });
  };
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    child = undefined;
  };

  await start();
  return {
    endpoint,
    accessKey,
    secretKey,
    region: "us-east-1",
    stop,
    start,
    async close() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      await rm(work, { recursive: true, force: true });
    },
  };
}
