/**
 * Benchmark 5: what a resume costs. An upload of 1 GiB (plus one small last
 * chunk) breaks after every whole segment is durable; the resume then sends
 * that last chunk. Measured: the resume's wall time and the bytes the server
 * process read meanwhile (/proc/<pid>/io rchar: files and sockets, so MinIO
 * and the last chunk included). Baseline, in the same run: what the old
 * resume did first, reading every staged segment back through the store and
 * hashing it with node:crypto.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { UploadRequestSchema, UploadService } from "../gen/traintrack/v1/upload_pb.js";
import { createStore } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { connect, Payload, since } from "./client.js";
import { type BenchOptions, type ProviderName, providerLabel } from "./options.js";
import { printTable, type Target } from "./report.js";
import { startServer } from "./server.js";

const MiB = 1024 * 1024;
const TAIL = MiB;
const TARGET_SECONDS = 1;

type UploadInit = MessageInitShape<typeof UploadRequestSchema>;

export interface ResumeResult {
  provider: ProviderName;
  stagedMiB: number;
  resumeSeconds: number;
  resumeReadBytes: number;
  baselineSeconds: number;
  baselineReadBytes: number;
}

/** Bytes `pid` has read so far through read(2) and friends (files, pipes, sockets). */
function bytesRead(pid: number): number {
  const match = /^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
  return Number(match?.[1] ?? Number.NaN);
}

const resumeHeader = (uploadId: string, offset: number): UploadInit => ({
  payload: { case: "header", value: { start: { case: "resume", value: { uploadId, offset: BigInt(offset) } } } },
});

/** Stages `staged` bytes of a declared `staged + TAIL`, waits until all of them are durable, then drops the stream. */
async function stageAndBreak(uploads: Client<typeof UploadService>, payload: Payload, staged: number, chunkBytes: number): Promise<string> {
  const created = await uploads.createUpload({ upload: { fileName: "resume.bin", mediaType: "application/octet-stream", size: BigInt(staged + TAIL) } });
  const uploadId = created.upload?.uploadId ?? "";
  const abort = new AbortController();
  async function* requests(): AsyncGenerator<UploadInit> {
    yield resumeHeader(uploadId, 0);
    for (const chunk of payload.chunks(staged, chunkBytes)) yield { payload: { case: "chunk", value: chunk } };
    for (;;) {
      const { upload } = await uploads.getUpload({ uploadId });
      if (Number(upload?.bytesReceived ?? 0) >= staged) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    abort.abort();
  }
  const error = await uploads.upload(requests(), { signal: abort.signal }).then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (error?.code !== Code.Canceled) throw new Error(`the broken stream should end Canceled, not ${String(error)}`);
  return uploadId;
}

/** Resumes with the last small chunk; retries while the broken stream's lease is still held. */
async function resumeTail(uploads: Client<typeof UploadService>, uploadId: string, staged: number, tail: Buffer): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { upload } = await uploads.upload(
        (async function* (): AsyncGenerator<UploadInit> {
          yield resumeHeader(uploadId, staged);
          yield { payload: { case: "chunk", value: tail } };
        })(),
      );
      return upload?.sha256 ?? "";
    } catch (error) {
      if (ConnectError.from(error).code !== Code.Aborted || attempt > 100) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The old resume's first step: the bytes staged before the break read back
 * through the store and hashed. Staged parts cannot be read while their
 * object is unfinished (S3 serves no part of an open multipart upload), so
 * this reads the same first `bytes` of the upload's object once it is whole.
 */
async function rereadStaged(storageEnv: Record<string, string>, dataDir: string, uploadId: string, bytes: number) {
  const store = await createStore(loadConfig({ ...storageEnv, TRAINTRACK_DATA_DIR: dataDir }).storage);
  let key: string | undefined;
  for await (const object of store.list("objects/")) if (object.key.endsWith(`/${uploadId}`)) key = object.key;
  if (key === undefined) throw new Error(`no object of upload ${uploadId} found to re-read`);
  const hash = createHash("sha256");
  let read = 0;
  const t0 = performance.now();
  for await (const chunk of await store.get(key)) {
    const piece = (chunk as Buffer).subarray(0, bytes - read);
    hash.update(piece);
    read += piece.length;
    if (read === bytes) break;
  }
  hash.digest();
  return { seconds: since(t0) / 1000, bytes: read };
}

/** Runs benchmark 5 on one provider. */
export async function measureResume(opts: BenchOptions, provider: ProviderName): Promise<ResumeResult> {
  // Whole segments (the server's default, 8 MiB), so that everything staged becomes durable before the break.
  const stagedMiB = Math.max(8, Math.floor(opts.sizeMiB / 8) * 8);
  const staged = stagedMiB * MiB;
  const payload = new Payload();
  const server = await startServer({ provider, services: opts.services, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `resume-${provider}` });
  try {
    const { uploads } = connect(server);
    const uploadId = await stageAndBreak(uploads, payload, staged, opts.chunkKiB * 1024);
    const tail = payload.small(TAIL, 1);
    const read0 = bytesRead(server.pid);
    const t0 = performance.now();
    await resumeTail(uploads, uploadId, staged, tail);
    const resumeSeconds = since(t0) / 1000;
    const resumeReadBytes = bytesRead(server.pid) - read0;
    const baseline = await rereadStaged(server.storageEnv, server.dataDir, uploadId, staged);
    await uploads.abortUpload({ uploadId });
    return { provider, stagedMiB, resumeSeconds, resumeReadBytes, baselineSeconds: baseline.seconds, baselineReadBytes: baseline.bytes };
  } finally {
    await server.stop();
  }
}

export function printResume(opts: BenchOptions, results: ResumeResult[]): void {
  printTable(
    `5. Resume after ${results[0]?.stagedMiB ?? opts.sizeMiB} MiB were staged (1 MiB left to send)`,
    ["provider", "resume s", "server read MiB", "old: re-read s", "old: re-read MiB", "ratio"],
    results.map((r) => [
      providerLabel(r.provider),
      r.resumeSeconds,
      r.resumeReadBytes / MiB,
      r.baselineSeconds,
      r.baselineReadBytes / MiB,
      r.resumeSeconds / r.baselineSeconds,
    ]),
    results.flatMap((r): Target[] => [
      { what: `${providerLabel(r.provider)}: resume < ${TARGET_SECONDS} s`, met: r.resumeSeconds < TARGET_SECONDS },
      // What the server reads during the resume is the last chunk, its framing and database replies: far below one segment.
      { what: `${providerLabel(r.provider)}: no re-read (server reads < 8 MiB)`, met: r.resumeReadBytes < 8 * MiB },
    ]),
    [
      "resume s: from the resume's first message to its completion, including sending the last 1 MiB chunk",
      "server read: bytes the server process read meanwhile (/proc/<pid>/io rchar: sockets included, so the chunk and MinIO replies count)",
      "old: the re-read of every staged segment through the store, hashed with node:crypto, as the old resume did before accepting a byte (measured from this process)",
    ],
  );
}
