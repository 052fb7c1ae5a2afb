/**
 * `npm run bench`: throughput and scaling benchmarks of a real Traintrack
 * server (a child process) against PostgreSQL + MinIO and against embedded
 * PGlite + local files. Figures are printed with ratios against baselines
 * measured in the same run; nothing is asserted, and the exit status is
 * non-zero only when a benchmark could not run.
 *
 * Without TRAINTRACK_TEST_PG_URL this script re-runs itself under
 * test/scripts/with-services.sh, which starts a throwaway PostgreSQL and MinIO.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cleanUp } from "./cleanup.js";
import { type CommitSizeResult, measureCommitSize, printCommitSize } from "./commit-time.js";
import { type ConcurrentResult, measureConcurrent, printConcurrent } from "./concurrent.js";
import { type BenchmarkName, type BenchOptions, HELP, parseOptions, type ProviderName, UsageError } from "./options.js";
import { type CommitRow, type ManyResult, measureCommit, measureMany, printCommit, printMany } from "./small-files.js";
import { type DownloadResult, measureDownload, printDownload } from "./download.js";
import { measureModelRegistry, type ModelRegistryResult, printModelRegistry } from "./model-registry.js";
import { measureResume, printResume, type ResumeResult } from "./resume.js";
import { measurePipelineGraph, type PipelineGraphResult, printPipelineGraph } from "./pipeline-graph.js";
import { ROOT } from "./server.js";
import { measureThroughput, printThroughput, type ThroughputResult } from "./throughput.js";

type Runner = (opts: BenchOptions) => Promise<void>;

/** Runs `measure` on each selected provider, prints what succeeded, and rethrows the first failure. */
function perProvider<R>(measure: (o: BenchOptions, p: ProviderName) => Promise<R>, print: (o: BenchOptions, rs: R[]) => void): Runner {
  return async (opts) => {
    const results: R[] = [];
    let failure: unknown;
    for (const provider of opts.providers) {
      if (stopping) break;
      try {
        results.push(await measure(opts, provider));
      } catch (error) {
        failure ??= error;
        if (!stopping) console.error(`\n${provider}: benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (results.length > 0) print(opts, results);
    if (failure) throw failure;
  };
}

const RUNNERS: Record<BenchmarkName, Runner> = {
  throughput: perProvider<ThroughputResult>(measureThroughput, printThroughput),
  concurrent: perProvider<ConcurrentResult>(measureConcurrent, printConcurrent),
  commit: perProvider<CommitRow[]>(measureCommit, (o, rs) => printCommit(o, rs.flat())),
  many: perProvider<ManyResult>(measureMany, printMany),
  resume: perProvider<ResumeResult>(measureResume, printResume),
  download: perProvider<DownloadResult>(measureDownload, printDownload),
  "commit-size": perProvider<CommitSizeResult>(measureCommitSize, printCommitSize),
  models: perProvider<ModelRegistryResult>(measureModelRegistry, printModelRegistry),
  pipelines: perProvider<PipelineGraphResult>(measurePipelineGraph, printPipelineGraph),
};

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const opts = parseOptions(argv, process.env);
  if (opts.providers.includes("s3") && !opts.services) return underServices(argv);
  cleanUpOnSignals();

  printMachine(opts);
  const started = performance.now();
  const failed: BenchmarkName[] = [];
  for (const name of opts.only) {
    if (stopping) break;
    console.log(`\n-- running ${name} (${opts.providers.join(", ")}) …`);
    try {
      await RUNNERS[name](opts);
    } catch {
      failed.push(name);
    }
  }
  if (stopping) return 130;
  console.log(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(0)} s; load average now ${loadAverage()}`);
  if (failed.length > 0) console.log(`benchmarks that could not run: ${failed.join(", ")}`);
  return failed.length > 0 ? 1 : 0;
}

function printMachine(opts: BenchOptions): void {
  const cpus = os.cpus();
  console.log(
    `traintrack bench: node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? "CPU"}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average ${loadAverage()}`,
  );
  console.log(
    `note: the server, PostgreSQL, MinIO and this client share these ${cpus.length} cores (and other people's jobs may too): ` +
      "absolute figures are noisy; compare the ratios, each measured against a baseline in this same run.",
  );
  console.log(`benchmarks: ${opts.only.join(", ")}; providers: ${opts.providers.join(", ")}`);
  if (opts.serverRoot) console.log(`server: src/main.ts of ${opts.serverRoot}`);
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");

/** Re-runs this script under with-services.sh (PostgreSQL + MinIO on loopback) and returns its exit status. */
function underServices(argv: string[]): Promise<number> {
  if (process.env.BENCH_UNDER_SERVICES) {
    throw new Error("with-services.sh did not export TRAINTRACK_TEST_PG_URL and the S3 variables");
  }
  const script = path.join(ROOT, "test", "scripts", "with-services.sh");
  const self = fileURLToPath(import.meta.url);
  const child = spawn("bash", [script, process.execPath, "--import", "tsx", self, ...argv], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, BENCH_UNDER_SERVICES: "1" },
  });
  // Ctrl-C reaches the whole process group, child included: let it clean up.
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  process.on("SIGHUP", () => child.kill("SIGHUP"));
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
  });
}

let stopping = false;

/** On a signal: stop the servers, remove temporary files, exit. */
function cleanUpOnSignals(): void {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping servers and removing temporary files`);
      void cleanUp().finally(() => process.exit(code));
    });
  }
}

main()
  .then(async (status) => {
    if (stopping) return; // the signal handler cleans up and exits
    await cleanUp();
    process.exit(status);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof UsageError ? `${error.message}\n\n${HELP}` : error);
    await cleanUp();
    process.exit(error instanceof UsageError ? 2 : 1);
  });
