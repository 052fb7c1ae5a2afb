/**
 * Benchmark 7: is a commit metadata? One version holding large artefacts
 * (1 GiB and 8 GiB by default) is committed with CreateDataset after its
 * uploads completed, and timed alone, against a version holding one 4 KiB
 * artefact committed on the same server in the same round. A commit that
 * copies no bytes takes the same time for both.
 *
 * Each round runs on a server of its own, and its bucket is removed after it:
 * an upload can be committed only once, so every round uploads the bytes
 * anew, and nothing may pile up on disk across rounds. A fresh payload per
 * round keeps contents distinct, so no commit finds its bytes already stored.
 */
import { minioClient, removeBucket } from "./buckets.js";
import { type Clients, connect, Payload, since, upload } from "./client.js";
import { type BenchOptions, type ProviderName, providerLabel, servicePorts } from "./options.js";
import { type CpuSplit, meterCpu } from "./proc.js";
import { printCpu, printTable, type Target } from "./report.js";
import { startServer } from "./server.js";

const MiB = 1024 * 1024;
const TARGET_SECONDS = 0.3;
/** The smallest difference called a slope rather than noise, when the reference commits vary less than it. */
const NOISE_FLOOR_SECONDS = 0.05;
const REFERENCE_BYTES = 4096;

interface Round {
  /** MiB/s of the large uploads, one after the other (context, not the figure). */
  uploadMiBs: number;
  largeSeconds: number;
  referenceSeconds: number;
  largeCpu: CpuSplit;
  referenceCpu: CpuSplit;
}

export interface CommitSizeResult {
  provider: ProviderName;
  rounds: Round[];
}

export async function measureCommitSize(opts: BenchOptions, provider: ProviderName): Promise<CommitSizeResult> {
  const rounds: Round[] = [];
  for (let r = 1; r <= opts.commitRounds; r++) {
    rounds.push(await measureRound(opts, provider, r));
    const last = rounds[rounds.length - 1];
    if (last) console.log(`   round ${r}: CreateDataset ${last.largeSeconds.toFixed(3)} s (large) / ${last.referenceSeconds.toFixed(3)} s (${REFERENCE_BYTES} B)`);
  }
  return { provider, rounds };
}

async function measureRound(opts: BenchOptions, provider: ProviderName, round: number): Promise<Round> {
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `commit-size-${provider}-${round}` });
  const bucket = server.storageEnv.TRAINTRACK_S3_BUCKET;
  try {
    const client = connect(server);
    const payload = new Payload();
    // Warm-up: the first commit of a server pays JIT and pool start-up.
    const warm = await upload(client.uploads, "warm-up.bin", REFERENCE_BYTES, [payload.small(REFERENCE_BYTES, 0)]);
    await createVersion(client, "warm-up", [warm.uploadId]);

    const chunkBytes = opts.chunkKiB * 1024;
    const t0 = performance.now();
    const large: string[] = [];
    for (const [i, mib] of opts.commitSizesMiB.entries()) {
      large.push((await upload(client.uploads, `large-${i}.bin`, mib * MiB, payload.chunks(mib * MiB, chunkBytes))).uploadId);
    }
    const uploadMiBs = sum(opts.commitSizesMiB) / (since(t0) / 1000);
    const reference = await upload(client.uploads, "reference.bin", REFERENCE_BYTES, [payload.small(REFERENCE_BYTES, 1)]);

    const ports = servicePorts(opts.services);
    const timed = async (name: string, uploadIds: string[]) => {
      const meter = meterCpu(server.pid, ports);
      const profiled = server.profile(`${providerLabel(provider)}: CreateDataset "${name}" (round ${round})`);
      const seconds = await createVersion(client, name, uploadIds);
      profiled();
      return { seconds, cpu: meter.stop() };
    };
    // Alternate which commit goes first, so neither always meets a cache the other warmed.
    const first = round % 2 === 1 ? "large" : "reference";
    const a = first === "large" ? await timed("large", large) : await timed("reference", [reference.uploadId]);
    const b = first === "large" ? await timed("reference", [reference.uploadId]) : await timed("large", large);
    const [largeCommit, referenceCommit] = first === "large" ? [a, b] : [b, a];
    return { uploadMiBs, largeSeconds: largeCommit.seconds, referenceSeconds: referenceCommit.seconds, largeCpu: largeCommit.cpu, referenceCpu: referenceCommit.cpu };
  } finally {
    await server.stop();
    if (bucket && opts.services) await removeBucket(minioClient(opts.services), bucket);
  }
}

/** Seconds of one CreateDataset committing `uploadIds` as a new dataset `name`. */
async function createVersion(client: Clients, name: string, uploadIds: string[]): Promise<number> {
  const t0 = performance.now();
  const res = await client.datasets.createDataset({
    name,
    version: "1.0.0",
    description: `bench: commit time of ${uploadIds.length} artefact(s)`,
    artefacts: uploadIds.map((uploadId, i) => ({ uploadId, path: `data/artefact-${i}.bin` })),
  });
  const seconds = since(t0) / 1000;
  if (res.dataset?.artefactCount !== uploadIds.length) {
    throw new Error(`CreateDataset ${name}: ${res.dataset?.artefactCount} artefacts committed, ${uploadIds.length} sent`);
  }
  return seconds;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Flat: the large commit's median exceeds the reference's by no more than the reference's own spread (or the floor). */
function verdict(r: CommitSizeResult): { large: number; reference: number; noise: number; met: boolean } {
  const refs = r.rounds.map((x) => x.referenceSeconds);
  const large = median(r.rounds.map((x) => x.largeSeconds));
  const reference = median(refs);
  const noise = Math.max(NOISE_FLOOR_SECONDS, Math.max(...refs) - Math.min(...refs));
  return { large, reference, noise, met: large < TARGET_SECONDS && large - reference <= noise };
}

export function printCommitSize(opts: BenchOptions, results: CommitSizeResult[]): void {
  const sizes = opts.commitSizesMiB.map((m) => `${m.toLocaleString("en-US")} MiB`).join(" + ");
  const label = providerLabel;
  printTable(
    `7. Commit time: CreateDataset of one version holding ${sizes} vs one holding ${REFERENCE_BYTES} bytes`,
    ["provider", "round", "upload MiB/s", `CreateDataset s (${sizes})`, `CreateDataset s (${REFERENCE_BYTES} B)`, "difference s"],
    results.flatMap((r) => {
      const v = verdict(r);
      return [
        ...r.rounds.map((x, i) => [label(r.provider), String(i + 1), x.uploadMiBs, x.largeSeconds, x.referenceSeconds, x.largeSeconds - x.referenceSeconds]),
        [label(r.provider), "median", median(r.rounds.map((x) => x.uploadMiBs)), v.large, v.reference, v.large - v.reference],
      ];
    }),
    results.map((r): Target => {
      const v = verdict(r);
      return { what: `${label(r.provider)}: flat (difference ≤ ${v.noise.toFixed(3)} s, the reference's spread or ${NOISE_FLOOR_SECONDS} s) and under ${TARGET_SECONDS} s`, met: v.met };
    }),
    [
      `${opts.commitRounds} round(s), each on a fresh server, database and bucket; the large artefacts uploaded one after the other in ${opts.chunkKiB} KiB messages (not timed in the figure)`,
      "which commit goes first alternates by round; the issue's target is on PostgreSQL + MinIO",
    ],
  );
  printCpu(
    "7",
    results.flatMap((r) =>
      r.rounds.flatMap((x, i) => [
        { phase: `${label(r.provider)}: round ${i + 1}, CreateDataset (${sizes})`, cpu: x.largeCpu },
        { phase: `${label(r.provider)}: round ${i + 1}, CreateDataset (${REFERENCE_BYTES} B)`, cpu: x.referenceCpu },
      ]),
    ),
  );
}
