/**
 * Benchmarks 3 and 4: many small staged artefacts and the CreateDataset that
 * commits them. Upload time and commit time are measured separately, so the
 * cost of each is visible as the count grows.
 */
import { LANDED, landedNote } from "./landed.js";
import { type Clients, connect, forEachConcurrent, Payload, since, upload } from "./client.js";
import { type BenchOptions, type ProviderName, providerLabel, servicePorts } from "./options.js";
import { type CpuSplit, meterCpu } from "./proc.js";
import { printCpu, printTable } from "./report.js";
import { startServer } from "./server.js";
import { directWriter } from "./throughput.js";

const COMMIT_TARGET = { count: 1000, seconds: 2 };
const MANY_TARGET_SECONDS = 30;
/** Files/s uploaded and committed, over files/s put straight into storage at the same concurrency. */
const MANY_RATIO_TARGET = 0.5;

interface Staged {
  uploadIds: string[];
  seconds: number;
  /** Per-upload latency percentiles, ms. */
  p50: number;
  p99: number;
}

/** Uploads `count` distinct small files, at most `concurrency` in flight, spread over `clients` round-robin. */
async function stageSmallFiles(clients: Clients[], payload: Payload, count: number, bytes: number, concurrency: number, tag: string): Promise<Staged> {
  const uploadIds = new Array<string>(count);
  const latencies = new Array<number>(count);
  const t0 = performance.now();
  await forEachConcurrent(count, concurrency, async (i) => {
    const client = clients[i % clients.length];
    if (!client) throw new Error("no client");
    const start = performance.now();
    // Distinct content per file, also across runs (tag), so no blob is shared.
    const done = await upload(client.uploads, `f${i}.bin`, bytes, [payload.small(bytes, i + hashTag(tag))]);
    latencies[i] = since(start);
    uploadIds[i] = done.uploadId;
  });
  const seconds = since(t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(count - 1, Math.floor((p / 100) * count))] ?? 0;
  return { uploadIds, seconds, p50: pct(50), p99: pct(99) };
}

const hashTag = (tag: string) => [...tag].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 10_007, 7) * 1_000_000;

async function createDataset(client: Clients, name: string, uploadIds: string[], profiled: () => void = () => undefined): Promise<number> {
  const t0 = performance.now();
  const res = await client.datasets.createDataset({
    name,
    version: "1.0.0",
    description: `bench: ${uploadIds.length} artefacts`,
    artefacts: uploadIds.map((uploadId, i) => ({ uploadId, path: `data/part-${String(i).padStart(6, "0")}.bin` })),
  });
  const seconds = since(t0) / 1000;
  profiled();
  if (res.dataset?.artefactCount !== uploadIds.length) {
    throw new Error(`CreateDataset ${name}: ${res.dataset?.artefactCount} artefacts committed, ${uploadIds.length} sent`);
  }
  return seconds;
}

export interface CommitRow {
  provider: ProviderName;
  count: number;
  uploadSeconds: number;
  commitSeconds: number;
  uploadCpu: CpuSplit;
  commitCpu: CpuSplit;
}

/** Benchmark 3: CreateDataset over 1, 100, 1,000 staged artefacts, one server. */
export async function measureCommit(opts: BenchOptions, provider: ProviderName): Promise<CommitRow[]> {
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `commit-${provider}` });
  try {
    const client = connect(server);
    const payload = new Payload();
    // Warm-up: one small dataset, so the first measured commit pays no JIT or pool start.
    const warm = await stageSmallFiles([client], payload, 8, opts.smallFileBytes, 8, "warm-up");
    await createDataset(client, "warm-up", warm.uploadIds);
    const rows: CommitRow[] = [];
    const ports = servicePorts(opts.services);
    for (const count of opts.commitCounts) {
      const uploadMeter = meterCpu(server.pid, ports);
      const staged = await stageSmallFiles([client], payload, count, opts.smallFileBytes, 32, `commit-${count}`);
      const uploadCpu = uploadMeter.stop();
      const commitMeter = meterCpu(server.pid, ports);
      const profiled = server.profile(`${providerLabel(provider)}: CreateDataset of ${count} artefacts`);
      const commitSeconds = await createDataset(client, `commit-${count}`, staged.uploadIds, profiled);
      rows.push({ provider, count, uploadSeconds: staged.seconds, commitSeconds, uploadCpu, commitCpu: commitMeter.stop() });
    }
    return rows;
  } finally {
    await server.stop();
  }
}

export function printCommit(opts: BenchOptions, rows: CommitRow[]): void {
  const target = rows.filter((r) => r.provider === "s3" && r.count === COMMIT_TARGET.count);
  printTable(
    "3. CreateDataset vs number of staged artefacts",
    ["provider", "artefacts", "upload s", "CreateDataset s", "CreateDataset ms / artefact"],
    rows.map((r) => [providerLabel(r.provider), r.count, r.uploadSeconds, r.commitSeconds, (1000 * r.commitSeconds) / r.count]),
    [
      {
        what: `PostgreSQL + MinIO: CreateDataset of ${COMMIT_TARGET.count} artefacts < ${COMMIT_TARGET.seconds} s`,
        met: target.length === 0 ? undefined : target.every((r) => r.commitSeconds < COMMIT_TARGET.seconds),
      },
    ],
    [`artefacts of ${opts.smallFileBytes} bytes, distinct contents, uploaded 32 at a time (upload time not part of the target)`, landedNote(LANDED.commit)],
  );
  printCpu(
    "3",
    rows.flatMap((r) => [
      { phase: `${providerLabel(r.provider)}: upload ${r.count}`, cpu: r.uploadCpu },
      { phase: `${providerLabel(r.provider)}: CreateDataset ${r.count}`, cpu: r.commitCpu },
    ]),
  );
}

export interface ManyResult {
  provider: ProviderName;
  uploadSeconds: number;
  commitSeconds: number;
  p50: number;
  p99: number;
  /** The same files written straight to storage from this process, same concurrency. */
  direct: { what: string; seconds: number; cpu: CpuSplit };
  uploadCpu: CpuSplit;
  commitCpu: CpuSplit;
}

/** Benchmark 4: 10,000 small files uploaded with bounded concurrency, then committed as one dataset. */
export async function measureMany(opts: BenchOptions, provider: ProviderName): Promise<ManyResult> {
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `many-${provider}` });
  try {
    const clients = Array.from({ length: opts.manyConnections }, () => connect(server));
    const payload = new Payload();
    const warm = await stageSmallFiles(clients, payload, 64, opts.smallFileBytes, opts.manyConcurrency, "warm-up");
    const first = clients[0];
    if (!first) throw new Error("BENCH_MANY_CONNECTIONS must be at least 1");
    await createDataset(first, "warm-up", warm.uploadIds);
    const ports = servicePorts(opts.services);
    const direct = await directWriter(provider, opts.services, server.dataDir);
    let directResult: ManyResult["direct"];
    try {
      const meter = meterCpu(server.pid, ports);
      const t0 = performance.now();
      await forEachConcurrent(opts.manyFiles, opts.manyConcurrency, (i) =>
        direct.write(`small-${i}`, opts.smallFileBytes, [payload.small(opts.smallFileBytes, i)]),
      );
      directResult = { what: `${direct.what} × ${opts.manyFiles}`, seconds: since(t0) / 1000, cpu: meter.stop() };
    } finally {
      await direct.close();
    }

    const uploadMeter = meterCpu(server.pid, ports);
    const uploading = server.profile(`${providerLabel(provider)}: ${opts.manyFiles} small uploads`);
    const staged = await stageSmallFiles(clients, payload, opts.manyFiles, opts.smallFileBytes, opts.manyConcurrency, "many");
    uploading();
    const uploadCpu = uploadMeter.stop();
    const commitMeter = meterCpu(server.pid, ports);
    const profiled = server.profile(`${providerLabel(provider)}: CreateDataset of ${opts.manyFiles} artefacts`);
    const commitSeconds = await createDataset(first, "many", staged.uploadIds, profiled);
    return {
      provider,
      uploadSeconds: staged.seconds,
      commitSeconds,
      p50: staged.p50,
      p99: staged.p99,
      direct: directResult,
      uploadCpu,
      commitCpu: commitMeter.stop(),
    };
  } finally {
    await server.stop();
  }
}

export function printMany(opts: BenchOptions, results: ManyResult[]): void {
  const total = (r: ManyResult) => r.uploadSeconds + r.commitSeconds;
  const ratio = (r: ManyResult) => r.direct.seconds / total(r);
  printTable(
    `4. ${opts.manyFiles.toLocaleString("en-US")} files of ${opts.smallFileBytes} bytes, uploaded and committed as one dataset`,
    ["provider", "total s", "files/s", "upload s", "commit s", "Upload p50 ms", "Upload p99 ms", "direct writes", "direct s", "direct files/s", "ratio"],
    results.map((r) => [
      providerLabel(r.provider),
      total(r),
      opts.manyFiles / total(r),
      r.uploadSeconds,
      r.commitSeconds,
      r.p50,
      r.p99,
      r.direct.what,
      r.direct.seconds,
      opts.manyFiles / r.direct.seconds,
      ratio(r),
    ]),
    results.flatMap((r) => [
      { what: `${providerLabel(r.provider)}: ratio ≥ ${MANY_RATIO_TARGET} (files/s uploaded and committed / files/s of the direct writes)`, met: ratio(r) >= MANY_RATIO_TARGET },
      ...(r.provider === "s3" ? [{ what: `PostgreSQL + MinIO: total < ${MANY_TARGET_SECONDS} s`, met: total(r) < MANY_TARGET_SECONDS }] : []),
    ]),
    [
      `${opts.manyConcurrency} Upload streams in flight over ${opts.manyConnections} HTTP/2 connection(s); one CreateDataset at the end`,
      `direct: the same number of ${opts.smallFileBytes}-byte files written straight to the same storage from the bench process, ${opts.manyConcurrency} in flight; ratio = direct s / total s`,
      landedNote(LANDED.many),
    ],
  );
  printCpu(
    "4",
    results.flatMap((r) => [
      { phase: `${providerLabel(r.provider)}: direct writes`, cpu: r.direct.cpu },
      { phase: `${providerLabel(r.provider)}: upload`, cpu: r.uploadCpu },
      { phase: `${providerLabel(r.provider)}: CreateDataset`, cpu: r.commitCpu },
    ]),
  );
}
