/**
 * Benchmark 6: one large artefact read back. A 1 GiB artefact is committed
 * once, then downloaded through DownloadArtefact by a connect-node gRPC client
 * with its default options (it offers gzip, as the README's example does),
 * against the same stored bytes read straight from the same storage by this
 * process: MinIO with the minio client's getObject, or the blob's file with
 * fs.createReadStream. Both sides only count the bytes (no hashing).
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { Client as MinioClient } from "minio";
import { connect, Payload, since, upload } from "./client.js";
import { type BenchOptions, type ProviderName, providerLabel, servicePorts, type ServicesEnv } from "./options.js";
import { type CpuSplit, meterCpu } from "./proc.js";
import { printCpu, printTable, type Target } from "./report.js";
import { type ServerChild, startServer } from "./server.js";

const MiB = 1024 * 1024;
const RATIO_TARGET = 0.5;

export interface DownloadResult {
  provider: ProviderName;
  baseline: string;
  baselineMiBs: number;
  serverMiBs: number;
  messages: number;
  directCpu: CpuSplit;
  downloadCpu: CpuSplit;
}

/**
 * Opens the stored object of exactly `size` bytes (the only one that large)
 * straight from the provider's storage. Looked for under any prefix: where
 * objects live is the store's business (`blobs/…` before issue 10,
 * `objects/<org>/<upload>` after), and the benchmark reads whichever holds the bytes.
 */
async function directReader(provider: ProviderName, services: ServicesEnv | undefined, server: ServerChild, size: number): Promise<{ what: string; open(): Promise<Readable> }> {
  if (provider === "local") {
    const file = await findFile(server.dataDir, size);
    if (!file) throw new Error(`no file of ${size} bytes under ${server.dataDir}`);
    return { what: "fs.createReadStream", open: async () => createReadStream(file) };
  }
  if (!services) throw new Error("MinIO is not running");
  const url = new URL(services.s3.endpoint);
  const client = new MinioClient({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: services.s3.accessKey, secretKey: services.s3.secretKey, region: services.s3.region });
  const bucket = server.storageEnv.TRAINTRACK_S3_BUCKET ?? "";
  let name: string | undefined;
  for await (const item of client.listObjectsV2(bucket, "", true) as AsyncIterable<{ name?: string; size?: number }>) {
    if (item.size === size) name = item.name;
  }
  if (!name) throw new Error(`no object of ${size} bytes in bucket ${bucket}`);
  const key = name;
  return { what: "minio getObject", open: () => client.getObject(bucket, key) };
}

/** Temporary and partial files of the local store (`.tmp-…`, `.tmp-parts/`) and anything hidden are not stored objects. */
const notAnObject = (name: string) => name.startsWith(".") || name.includes(".tmp-") || name.endsWith(".part");

/** A file of exactly `size` bytes anywhere under `dir`, skipping temporary and partial files. */
async function findFile(dir: string, size: number): Promise<string | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (notAnObject(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = await findFile(full, size);
      if (found) return found;
    } else if (entry.isFile() && (await stat(full)).size === size) {
      return full;
    }
  }
  return undefined;
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.byteLength;
  return bytes;
}

/** Runs benchmark 6 on one provider. */
export async function measureDownload(opts: BenchOptions, provider: ProviderName): Promise<DownloadResult> {
  const size = opts.sizeMiB * MiB;
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `download-${provider}` });
  try {
    const { uploads, datasets } = connect(server);
    const payload = new Payload();
    const { uploadId } = await upload(uploads, "big.bin", size, payload.chunks(size, opts.chunkKiB * 1024));
    await datasets.createDataset({ name: "download-bench", version: "1", artefacts: [{ uploadId, path: "big.bin" }] });
    const direct = await directReader(provider, opts.services, server, size);
    const ports = servicePorts(opts.services);
    const download = async () => {
      let bytes = 0;
      let messages = 0;
      for await (const m of datasets.downloadArtefact({ dataset: { name: "download-bench", version: "1" }, path: "big.bin" })) {
        if (m.payload.case === "chunk") (bytes += m.payload.value.byteLength), (messages += 1);
      }
      return { bytes, messages };
    };
    // Warm-up: JIT and connections on both paths (the last 32 MiB through the server; offset, not length, so that older servers run it too).
    for await (const m of datasets.downloadArtefact({ dataset: { name: "download-bench", version: "1" }, path: "big.bin", offset: BigInt(Math.max(0, size - 32 * MiB)) })) void m;
    (await direct.open()).destroy();

    let best: DownloadResult | undefined;
    for (let r = 0; r < opts.repeat; r++) {
      const directMeter = meterCpu(server.pid, ports);
      const t0 = performance.now();
      const directBytes = await drain(await direct.open());
      const baselineMs = since(t0);
      const directCpu = directMeter.stop();

      const downloadMeter = meterCpu(server.pid, ports);
      const profiled = server.profile(`${providerLabel(provider)}: DownloadArtefact of ${opts.sizeMiB} MiB (run ${r + 1})`);
      const t1 = performance.now();
      const got = await download();
      const serverMs = since(t1);
      profiled();
      const downloadCpu = downloadMeter.stop();
      if (directBytes !== size || got.bytes !== size) throw new Error(`read ${directBytes} bytes directly and ${got.bytes} through the server, not ${size}`);
      const result: DownloadResult = {
        provider,
        baseline: direct.what,
        baselineMiBs: opts.sizeMiB / (baselineMs / 1000),
        serverMiBs: opts.sizeMiB / (serverMs / 1000),
        messages: got.messages,
        directCpu,
        downloadCpu,
      };
      best = { ...result, baselineMiBs: Math.max(result.baselineMiBs, best?.baselineMiBs ?? 0), serverMiBs: Math.max(result.serverMiBs, best?.serverMiBs ?? 0) };
    }
    if (!best) throw new Error("BENCH_REPEAT must be at least 1");
    return best;
  } finally {
    await server.stop();
  }
}

export function printDownload(opts: BenchOptions, results: DownloadResult[]): void {
  const perGiB = (cpu: number) => (cpu * 1024) / opts.sizeMiB;
  const notes = [
    `${opts.sizeMiB} MiB committed once, then read whole; DownloadArtefact over one gRPC (HTTP/2) connection, connect-node client with default options (offers gzip and br); best of ${opts.repeat}`,
    "CPU per GiB: seconds of CPU the server child / this bench process (the client) used per GiB read",
  ];
  if (opts.cpuProf) notes.push("the server ran with --cpu-prof: its throughput is slightly understated");
  printTable(
    `6. Download throughput (${opts.sizeMiB} MiB)`,
    ["provider", "direct read", "direct MiB/s", "Download MiB/s", "ratio", "messages", "server CPU s / GiB", "client CPU s / GiB (Download)", "client CPU s / GiB (direct)"],
    results.map((r) => [
      providerLabel(r.provider),
      r.baseline,
      r.baselineMiBs,
      r.serverMiBs,
      r.serverMiBs / r.baselineMiBs,
      r.messages,
      perGiB(r.downloadCpu.server),
      perGiB(r.downloadCpu.client),
      perGiB(r.directCpu.client),
    ]),
    results.map((r): Target => ({ what: `${providerLabel(r.provider)}: Download ≥ ${RATIO_TARGET} × ${r.baseline}`, met: r.serverMiBs / r.baselineMiBs >= RATIO_TARGET })),
    notes,
  );
  printCpu(
    "6",
    results.flatMap((r) => [
      { phase: `${providerLabel(r.provider)}: ${r.baseline}`, cpu: r.directCpu },
      { phase: `${providerLabel(r.provider)}: DownloadArtefact`, cpu: r.downloadCpu },
    ]),
  );
}
