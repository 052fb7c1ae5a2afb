/**
 * Benchmark 2b: many large uploads at once, each from its own client (its own
 * HTTP/2 connection), and how much the server's RSS grows meanwhile. Memory
 * per upload should be bounded by a segment or two, whatever the artefact size.
 */
import { LANDED, landedNote } from "./landed.js";
import { connect, forEachConcurrent, Payload, since, upload } from "./client.js";
import { type BenchOptions, type ProviderName, providerLabel, servicePorts } from "./options.js";
import { type CpuSplit, type MemoryWindow, meterCpu, toMiB, watchMemory } from "./proc.js";
import { printCpu, printTable } from "./report.js";
import { startServer } from "./server.js";

const MiB = 1024 * 1024;
const GROWTH_TARGET_MIB = 256;

export interface ConcurrentResult {
  provider: ProviderName;
  seconds: number;
  cpu: CpuSplit;
  startupRssBytes: number;
  memory: MemoryWindow;
}

export async function measureConcurrent(opts: BenchOptions, provider: ProviderName): Promise<ConcurrentResult> {
  const n = opts.concurrentUploads;
  const size = opts.concurrentSizeMiB * MiB;
  const chunkBytes = opts.chunkKiB * 1024;
  const payload = new Payload();
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `concurrent-${provider}` });
  try {
    const clients = Array.from({ length: n }, () => connect(server));
    // Warm-up: every path compiled by one multi-segment upload, then every
    // connection opened by a tiny one. Not a concurrent large warm-up: what
    // that leaves resident would hide the growth being measured.
    const warm = Math.min(size, 24 * MiB);
    await forEachConcurrent(n, n, async (i) => {
      const c = clients[i]?.uploads;
      if (!c) return;
      const bytes = i === 0 ? warm : 1024;
      const done = await upload(c, `warm-up-${i}.bin`, bytes, payload.chunks(bytes, chunkBytes));
      await c.abortUpload({ uploadId: done.uploadId });
    });
    await new Promise((r) => setTimeout(r, 500));

    const memory = watchMemory(server.pid);
    const meter = meterCpu(server.pid, servicePorts(opts.services));
    const profiled = server.profile(`${providerLabel(provider)}: ${n} concurrent uploads of ${opts.concurrentSizeMiB} MiB`);
    const t0 = performance.now();
    const ids: string[] = [];
    await forEachConcurrent(n, n, async (i) => {
      const c = clients[i]?.uploads;
      if (c) ids.push((await upload(c, `part-${i}.bin`, size, payload.chunks(size, chunkBytes))).uploadId);
    });
    const seconds = since(t0) / 1000;
    profiled();
    const result = { provider, seconds, cpu: meter.stop(), startupRssBytes: server.startupRssBytes, memory: memory.close() };
    const first = clients[0]?.uploads;
    if (first) for (const uploadId of ids) await first.abortUpload({ uploadId });
    return result;
  } finally {
    await server.stop();
  }
}

export function printConcurrent(opts: BenchOptions, results: ConcurrentResult[]): void {
  const total = opts.concurrentUploads * opts.concurrentSizeMiB;
  printTable(
    `2b. Server RSS during ${opts.concurrentUploads} concurrent ${opts.concurrentSizeMiB} MiB uploads`,
    ["provider", "RSS at start-up MiB", "RSS after warm-up MiB", "peak MiB", "growth MiB", "wall s", "aggregate MiB/s"],
    results.map((r) => [
      providerLabel(r.provider),
      toMiB(r.startupRssBytes),
      toMiB(r.memory.baselineBytes),
      toMiB(r.memory.peakBytes),
      toMiB(r.memory.growthBytes),
      r.seconds,
      total / r.seconds,
    ]),
    results.map((r) => ({ what: `${providerLabel(r.provider)}: growth < ${GROWTH_TARGET_MIB} MiB`, met: toMiB(r.memory.growthBytes) < GROWTH_TARGET_MIB })),
    [
      `each upload from its own client (own HTTP/2 connection), ${opts.chunkKiB} KiB messages; ${total} MiB in all`,
      ...results.map((r) => landedNote(`${providerLabel(r.provider)}: ${LANDED.concurrent[r.provider]}`)),
    ],
  );
  printCpu("2b", results.map((r) => ({ phase: providerLabel(r.provider), cpu: r.cpu })));
}
