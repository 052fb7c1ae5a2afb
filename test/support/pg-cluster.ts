/**
 * A PostgreSQL cluster of one suite's own, for tests that stop or restart the
 * database: doing that to the shared cluster of test/scripts/with-services.sh
 * would break the suites running beside them. Built the same way (initdb and
 * pg_ctl from `binDir`; as the postgres user when we are root, since initdb
 * refuses root), in a temporary directory removed by close().
 */
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

const run = promisify(execFile);

export interface PostgresCluster {
  /** Superuser on the "postgres" database (trust authentication). */
  url: string;
  /** pg_ctl stop -m fast: sessions are terminated (57P01), the server exits. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** pg_ctl restart -m fast, as an operator would. */
  restart(): Promise<void>;
  /** Stops the server (immediate) and removes its files. */
  close(): Promise<void>;
}

/** Creates and starts a cluster on a free loopback port. */
export async function startPostgresCluster(binDir: string): Promise<PostgresCluster> {
  const isRoot = process.getuid?.() === 0;
  const asPostgres = async (cmd: string, args: string[]) => {
    const [file, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
    try {
      await run(file, argv);
    } catch (error) {
      throw new Error(`${path.basename(cmd)} ${args.at(-1)} failed:\n${await readFile(log, "utf8").catch(() => "")}`, { cause: error });
    }
  };
  const work = await mkdtemp(path.join(os.tmpdir(), "traintrack-pg-"));
  // The postgres user must be able to reach its data directory inside.
  await chmod(work, 0o755);
  const dataDir = path.join(work, "pg");
  const log = path.join(dataDir, "server.log");
  await mkdir(dataDir, { mode: 0o700 });
  if (isRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dataDir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgCtl = path.join(binDir, "pg_ctl");
  await asPostgres(path.join(binDir, "initdb"), ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
  let port = await freePort();
  const options = () => `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir} -c fsync=off`;
  const ctl = (...args: string[]) => asPostgres(pgCtl, ["-D", dataDir, "-l", log, "-w", "-t", "60", ...args]);

  // A port found free can be taken before the server binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      await ctl("-o", options(), "start");
      break;
    } catch (error) {
      if (attempt === 3) {
        await rm(work, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => ctl("-m", "fast", "stop"),
    start: () => ctl("-o", options(), "start"),
    restart: () => ctl("-m", "fast", "-o", options(), "restart"),
    async close() {
      await ctl("-m", "immediate", "stop").catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    },
  };
}
