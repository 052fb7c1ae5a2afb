/**
 * Benchmark 8: the model registry. What it does, on one server:
 *   setup (not timed) — 10 runs, each holding 100 artefacts of 4 KiB under
 *     "model/" (distinct contents, uploaded through the API) and a latest
 *     `auc` of 0.80 … 0.98; one more run holding 100 artefacts of 1 MiB.
 *   registration — 1,000 CreateModelVersion calls from run artefacts, one
 *     after the other, each taking a run's 100 files (round robin over the
 *     10 runs, so that the search below has metrics to tell apart). Then the
 *     baseline for file size: registrations from the 1 MiB run and from a
 *     4 KiB run, alternated on one model, 100 each: a registration copies no
 *     byte, so their ratio should be about 1.
 *   search — SearchModelVersions over the 1,000 versions with `auc > 0.9`
 *     (about half match), sorted by auc, a page of 100; timed many times.
 * The 1,000 registrations reuse 10 runs' artefacts rather than 1,000 runs'
 * (100,000 uploads would time the upload path, benchmarked elsewhere): a
 * registration's work (the run's artefact rows under the prefix, copied as
 * 100 file rows) is the same whichever run it reads.
 */
import { createClient } from "@connectrpc/connect";
import { ExperimentService, MetricThreshold_Op } from "../gen/traintrack/v1/experiment_pb.js";
import { ModelService } from "../gen/traintrack/v1/model_pb.js";
import { RunArtefactService } from "../gen/traintrack/v1/run_artefact_pb.js";
import { connect, forEachConcurrent, Payload, since, upload } from "./client.js";
import { type BenchOptions, type ProviderName, providerLabel, servicePorts } from "./options.js";
import { type CpuSplit, meterCpu } from "./proc.js";
import { printCpu, printTable } from "./report.js";
import { startServer } from "./server.js";

const SEARCH_TARGET_MS = 50;
/** Large over small registration time: "independent of file size" within noise. */
const SIZE_RATIO_TARGET = 1.5;
const METRIC_RUNS = 10;
const SMALL_BYTES = 4096;

export interface ModelRegistryResult {
  provider: ProviderName;
  versions: number;
  files: number;
  largeBytes: number;
  /** Per registration, ms, in call order. */
  registrations: number[];
  registerCpu: CpuSplit;
  /** The alternated baseline: per registration, ms. */
  small: number[];
  large: number[];
  /** SearchModelVersions, ms per call; how many versions matched (first page). */
  search: number[];
  searchUnsorted: number[];
  /** Sorted, a page of 10 (a UI's page): how much of the time is the page's files. */
  searchSmallPage: number[];
  matched: number;
  searchCpu: CpuSplit;
}

export async function measureModelRegistry(opts: BenchOptions, provider: ProviderName): Promise<ModelRegistryResult> {
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `models-${provider}` });
  try {
    const clients = connect(server);
    const experiments = createClient(ExperimentService, clients.transport);
    const artefacts = createClient(RunArtefactService, clients.transport);
    const models = createClient(ModelService, clients.transport);
    const payload = new Payload();
    const files = opts.modelFiles;
    const largeBytes = opts.modelLargeKiB * 1024;

    /** A run with `files` artefacts of `bytes` each under "model/" and, if given, a latest auc. */
    const makeRun = async (tag: string, bytes: number, auc?: number) => {
      const runId = (await experiments.createRun({ project: "bench", experiment: "models", name: tag })).run?.runId ?? "";
      if (auc !== undefined) await experiments.logMetrics({ runId, batchId: "auc", points: [{ key: "auc", value: auc, step: 1n }] });
      const sources: { uploadId: string; path: string }[] = new Array(files);
      await forEachConcurrent(files, 16, async (i) => {
        const chunks = bytes <= SMALL_BYTES ? [payload.small(bytes, i + hashOf(tag))] : payload.chunks(bytes, 1024 * 1024);
        sources[i] = { uploadId: (await upload(clients.uploads, `f${i}.bin`, bytes, chunks)).uploadId, path: `model/part-${String(i).padStart(4, "0")}.bin` };
      });
      await artefacts.logRunArtefacts({ runId, artefacts: sources });
      return runId;
    };
    console.log(`   setup: ${METRIC_RUNS} runs × ${files} artefacts of ${SMALL_BYTES} B, 1 run × ${files} of ${opts.modelLargeKiB} KiB …`);
    const smallRuns: string[] = [];
    for (let r = 0; r < METRIC_RUNS; r++) smallRuns.push(await makeRun(`small-${r}`, SMALL_BYTES, 0.8 + (0.18 * r) / (METRIC_RUNS - 1)));
    const largeRun = await makeRun("large", largeBytes);

    const register = async (model: string, runId: string) => {
      const t0 = performance.now();
      const res = await models.createModelVersion({ model, createModel: true, project: "bench", source: { case: "runArtefacts", value: { runId, pathPrefix: "model/" } } });
      const ms = since(t0);
      if (res.version?.fileCount !== files) throw new Error(`CreateModelVersion of ${model}: ${res.version?.fileCount} files registered, ${files} expected`);
      return ms;
    };
    // Warm-up: JIT and pools, on a model of its own.
    for (let i = 0; i < 5; i++) await register("warm-up", smallRuns[i % METRIC_RUNS] ?? "");

    const ports = servicePorts(opts.services);
    console.log(`   registering ${opts.modelVersions} versions …`);
    const registerMeter = meterCpu(server.pid, ports);
    const profiled = server.profile(`${providerLabel(provider)}: ${opts.modelVersions} CreateModelVersion`);
    const registrations: number[] = [];
    for (let i = 0; i < opts.modelVersions; i++) registrations.push(await register("bench-model", smallRuns[i % METRIC_RUNS] ?? ""));
    profiled();
    const registerCpu = registerMeter.stop();

    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < opts.modelSizeRounds; i++) {
      // Alternate which goes first, so neither always meets a cache the other warmed.
      if (i % 2 === 0) {
        large.push(await register("bench-size", largeRun));
        small.push(await register("bench-size", smallRuns[0] ?? ""));
      } else {
        small.push(await register("bench-size", smallRuns[0] ?? ""));
        large.push(await register("bench-size", largeRun));
      }
    }

    const query = { models: ["bench-model"], runMetrics: [{ key: "auc", op: MetricThreshold_Op.GREATER, value: 0.9 }], pageSize: 100 };
    const timedSearch = async (sorted: boolean, pageSize = 100) => {
      const t0 = performance.now();
      const res = await models.searchModelVersions(sorted ? { ...query, pageSize, orderByMetric: "auc", descending: true } : { ...query, pageSize });
      return { ms: since(t0), found: res.versions.length };
    };
    for (let i = 0; i < 3; i++) await timedSearch(true);
    const searchMeter = meterCpu(server.pid, ports);
    const searching = server.profile(`${providerLabel(provider)}: SearchModelVersions`);
    const search: number[] = [];
    const searchUnsorted: number[] = [];
    const searchSmallPage: number[] = [];
    let matched = 0;
    for (let i = 0; i < opts.modelSearches; i++) {
      const s = await timedSearch(true);
      search.push(s.ms);
      matched = s.found;
      searchUnsorted.push((await timedSearch(false)).ms);
      searchSmallPage.push((await timedSearch(true, 10)).ms);
    }
    searching();
    return {
      provider,
      versions: opts.modelVersions,
      files,
      largeBytes,
      registrations,
      registerCpu,
      small,
      large,
      search,
      searchUnsorted,
      searchSmallPage,
      matched,
      searchCpu: searchMeter.stop(),
    };
  } finally {
    await server.stop();
  }
}

const hashOf = (tag: string) => [...tag].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 10_007, 7) * 1000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const median = (values: number[]) => percentile(values, 50);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export function printModelRegistry(opts: BenchOptions, results: ModelRegistryResult[]): void {
  const sizeRatio = (r: ModelRegistryResult) => median(r.large) / median(r.small);
  printTable(
    `8a. CreateModelVersion from run artefacts: ${opts.modelVersions.toLocaleString("en-US")} versions of ${opts.modelFiles} files each`,
    ["provider", "total s", "mean ms", "median ms", "p95 ms", "first 100 median ms", "last 100 median ms"],
    results.map((r) => [
      providerLabel(r.provider),
      r.registrations.reduce((a, b) => a + b, 0) / 1000,
      mean(r.registrations),
      median(r.registrations),
      percentile(r.registrations, 95),
      median(r.registrations.slice(0, 100)),
      median(r.registrations.slice(-100)),
    ]),
    [],
    ["one call after the other on one model (each takes the model's row lock); first vs last 100: does it slow down as versions pile up?"],
  );
  printTable(
    "8b. Registration time vs file size (baseline: the same registration of small files, alternated, same run)",
    ["provider", "files", `${SMALL_BYTES} B files median ms`, `${opts.modelLargeKiB} KiB files median ms`, "p95 small", "p95 large", "ratio large / small"],
    results.map((r) => [providerLabel(r.provider), r.files, median(r.small), median(r.large), percentile(r.small, 95), percentile(r.large, 95), sizeRatio(r)]),
    results.map((r) => ({ what: `${providerLabel(r.provider)}: ratio < ${SIZE_RATIO_TARGET} (registration independent of file size)`, met: sizeRatio(r) < SIZE_RATIO_TARGET })),
    [`${opts.modelSizeRounds} registrations of each, from a run of ${opts.modelFiles} × ${SMALL_BYTES} B and one of ${opts.modelFiles} × ${opts.modelLargeKiB} KiB`],
  );
  printTable(
    `8c. SearchModelVersions over ${opts.modelVersions.toLocaleString("en-US")} versions, run metric auc > 0.9, page of 100`,
    ["provider", "matched (page)", "sorted by auc: median ms", "p95 ms", "unsorted: median ms", "p95 ms", "sorted, page of 10: median ms", "p95 ms"],
    results.map((r) => [
      providerLabel(r.provider),
      r.matched,
      median(r.search),
      percentile(r.search, 95),
      median(r.searchUnsorted),
      percentile(r.searchUnsorted, 95),
      median(r.searchSmallPage),
      percentile(r.searchSmallPage, 95),
    ]),
    results.map((r) => ({ what: `${providerLabel(r.provider)}: search median < ${SEARCH_TARGET_MS} ms (sorted by the metric)`, met: median(r.search) < SEARCH_TARGET_MS })),
    [
      `${opts.modelSearches} calls of each, one at a time, after 3 warm-up calls; the versions come from ${METRIC_RUNS} runs whose latest auc is 0.80 … 0.98`,
      "versions found carry no files (file_count says how many; GetModelVersion and ListModelFiles list them), so a page costs the same whatever the versions hold",
    ],
  );
  printCpu(
    "8",
    results.flatMap((r) => [
      { phase: `${providerLabel(r.provider)}: ${r.versions} registrations`, cpu: r.registerCpu },
      { phase: `${providerLabel(r.provider)}: searches`, cpu: r.searchCpu },
    ]),
  );
}
