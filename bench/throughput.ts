/**
 * Benchmark 1 (and 2a): one large artefact through Upload, against the same
 * bytes written straight to the same storage from the bench process: MinIO
 * with the minio client's putObject (declared size), or a plain
 * fs.createWriteStream file on the server's own volume. The server's RSS is
 * watched during its upload.
 */
import { LANDED, landedNote } from "./landed.js";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { minioClient, removeBucket } from "./buckets.js";
import { connect, Payload, since, upload } from "./client.js";
import { type BenchOptions, type ProviderName, providerLabel, servicePorts, type ServicesEnv } from "./options.js";
import { type CpuSplit, type MemoryWindow, meterCpu, toMiB, watchMemory } from "./proc.js";
import { printCpu, printTable, type Target } from "./report.js";
import { startServer } from "./server.js";

const MiB = 1024 * 1024;
const RATIO_TARGET = 0.8;
const GROWTH_TARGET_MIB = 64;

export interface ThroughputResult {
  provider: ProviderName;
  baseline: string;
  baselineMiBs: number;
  serverMiBs: number;
  startupRssBytes: number;
  memory: MemoryWindow;
  directCpu: CpuSplit;
  uploadCpu: CpuSplit;
}

/** A direct writer of `size` bytes from `chunks` to the provider's storage, from this process. */
export interface DirectWriter {
  what: string;
  write(name: string, size: number, chunks: Iterable<Buffer>): Promise<void>;
  remove(name: string): Promise<void>;
  /** Removes whatever is left (and the bucket). */
  close(): Promise<void>;
}

export async function directWriter(provider: ProviderName, services: ServicesEnv | undefined, dataDir: string): Promise<DirectWriter> {
  if (provider === "local") {
    return {
      what: "fs.createWriteStream",
      write: (name, _size, chunks) => pipeline(Readable.from(chunks, { objectMode: false }), createWriteStream(path.join(dataDir, name))),
      remove: (name) => rm(path.join(dataDir, name), { force: true }),
      close: async () => undefined,
    };
  }
  if (!services) throw new Error("MinIO is not running");
  const client = minioClient(services);
  const bucket = `bench-direct-${Date.now().toString(36)}`;
  await client.makeBucket(bucket, services.s3.region);
  return {
    what: "minio putObject",
    write: async (name, size, chunks) => {
      await client.putObject(bucket, name, Readable.from(chunks, { objectMode: false }), size);
    },
    remove: (name) => client.removeObject(bucket, name),
    close: () => removeBucket(client, bucket),
  };
}

/** Runs benchmark 1 on one provider. */
export async function measureThroughput(opts: BenchOptions, provider: ProviderName): Promise<ThroughputResult> {
  const size = opts.sizeMiB * MiB;
  const chunkBytes = opts.chunkKiB * 1024;
  const payload = new Payload();
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `throughput-${provider}` });
  try {
    const { uploads } = connect(server);
    const direct = await directWriter(provider, opts.services, server.dataDir);
    try {
      // Warm-up: JIT, connection set-up and the first segment puts on both paths.
      const warm = Math.min(size, 32 * MiB);
      await direct.write("warm-up", warm, payload.chunks(warm, chunkBytes));
      await direct.remove("warm-up");
      const warmed = await upload(uploads, "warm-up.bin", warm, payload.chunks(warm, chunkBytes));
      await uploads.abortUpload({ uploadId: warmed.uploadId });

      let best: ThroughputResult | undefined;
      for (let r = 0; r < opts.repeat; r++) {
        const ports = servicePorts(opts.services);
        const directMeter = meterCpu(server.pid, ports);
        const t0 = performance.now();
        await direct.write("direct.bin", size, payload.chunks(size, chunkBytes));
        const baselineMs = since(t0);
        const directCpu = directMeter.stop();
        await direct.remove("direct.bin");

        const memory = watchMemory(server.pid);
        const uploadMeter = meterCpu(server.pid, ports);
        const profiled = server.profile(`${providerLabel(provider)}: Upload of ${opts.sizeMiB} MiB (run ${r + 1})`);
        const t1 = performance.now();
        const done = await upload(uploads, "big.bin", size, payload.chunks(size, chunkBytes));
        const serverMs = since(t1);
        profiled();
        const result: ThroughputResult = {
          provider,
          baseline: direct.what,
          baselineMiBs: opts.sizeMiB / (baselineMs / 1000),
          serverMiBs: opts.sizeMiB / (serverMs / 1000),
          startupRssBytes: server.startupRssBytes,
          memory: memory.close(),
          directCpu,
          uploadCpu: uploadMeter.stop(),
        };
        await uploads.abortUpload({ uploadId: done.uploadId });
        best = {
          ...result,
          baselineMiBs: Math.max(result.baselineMiBs, best?.baselineMiBs ?? 0),
          serverMiBs: Math.max(result.serverMiBs, best?.serverMiBs ?? 0),
          memory: best && best.memory.growthBytes > result.memory.growthBytes ? best.memory : result.memory,
        };
      }
      if (!best) throw new Error("BENCH_REPEAT must be at least 1");
      return best;
    } finally {
      await direct.close();
    }
  } finally {
    await server.stop();
  }
}

export function printThroughput(opts: BenchOptions, results: ThroughputResult[]): void {
  const label = providerLabel;
  const notes = [
    `${opts.sizeMiB} MiB per artefact in ${opts.chunkKiB} KiB Upload messages over one gRPC (HTTP/2) connection; best of ${opts.repeat}`,
    "CPU per GiB: seconds of CPU the server child / this bench process (the client) used per GiB written",
  ];
  if (opts.cpuProf) notes.push("the server ran with --cpu-prof: its throughput is slightly understated");
  for (const r of results) notes.push(landedNote(`${label(r.provider)}: ${LANDED.throughput[r.provider]}`));
  printTable(
    `1. Upload throughput (${opts.sizeMiB} MiB)`,
    ["provider", "direct write", "direct MiB/s", "Upload MiB/s", "ratio", "server CPU s / GiB", "client CPU s / GiB (Upload)", "client CPU s / GiB (direct)"],
    results.map((r) => {
      const perGiB = (cpu: number) => (cpu * 1024) / opts.sizeMiB;
      return [
        label(r.provider),
        r.baseline,
        r.baselineMiBs,
        r.serverMiBs,
        r.serverMiBs / r.baselineMiBs,
        perGiB(r.uploadCpu.server),
        perGiB(r.uploadCpu.client),
        perGiB(r.directCpu.client),
      ];
    }),
    results.map((r): Target => ({ what: `${label(r.provider)}: Upload ≥ ${RATIO_TARGET} × ${r.baseline}`, met: r.serverMiBs / r.baselineMiBs >= RATIO_TARGET })),
    notes,
  );
  printCpu(
    "1",
    results.flatMap((r) => [
      { phase: `${label(r.provider)}: ${r.baseline}`, cpu: r.directCpu },
      { phase: `${label(r.provider)}: Upload`, cpu: r.uploadCpu },
    ]),
  );
  printTable(
    `2a. Server RSS during the ${opts.sizeMiB} MiB upload`,
    ["provider", "RSS at start-up MiB", "RSS after warm-up MiB", "peak MiB", "growth MiB"],
    results.map((r) => [
      label(r.provider),
      toMiB(r.startupRssBytes),
      toMiB(r.memory.baselineBytes),
      toMiB(r.memory.peakBytes),
      toMiB(r.memory.growthBytes),
    ]),
    results.map((r): Target => ({ what: `${label(r.provider)}: growth < ${GROWTH_TARGET_MIB} MiB`, met: toMiB(r.memory.growthBytes) < GROWTH_TARGET_MIB })),
    results.some((r) => !r.memory.exactPeak) ? ["VmHWM could not be reset: peaks are the largest 20 ms VmRSS sample"] : ["peak = VmHWM (reset after warm-up) of the server's node process"],
  );
}
