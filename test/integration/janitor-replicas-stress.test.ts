/**
 * Two replicas on one PostgreSQL and one MinIO commit the same contents over
 * and over while both run janitor passes back to back, so that orphaned blobs
 * (unreferenced rows whose lease ran out, as commits killed by earlier
 * versions left them) are being deleted while the same bytes are committed
 * again, and duplicate upload objects are purged meanwhile. Every committed
 * version must read back whole afterwards.
 */
import { Readable } from "node:stream";
import { setTimeout as pause } from "node:timers/promises";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import type { JanitorReport } from "../../src/services/janitor.js";
import { bytesOf, download, sha256, uploadMessages } from "../support/data.js";
import { startTestServer, type TestServer, backends } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const ROUNDS = 24;
/** Content orphaned in round r is committed again in round r + LAG: a second or so later, while passes delete it. */
const LAG = 4;
const SHORT = { TRAINTRACK_STAGING_GRACE_SECONDS: "1" };

interface Clients {
  uploads: Client<typeof UploadService>;
  datasets: Client<typeof DatasetService>;
}

/** Uploads and commits `data` as version "1" of `name`, retrying what the server says to retry (ABORTED), as the SDK does. */
async function commitWithRetries(c: Clients, name: string, data: Buffer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { upload } = await c.uploads.upload(uploadMessages("content.bin", data));
      await c.datasets.createDataset({ name, version: "1", artefacts: [{ uploadId: upload?.uploadId ?? "", path: "content.bin" }] });
      return;
    } catch (error) {
      if (ConnectError.from(error).code !== Code.Aborted || attempt >= 30) throw error;
    }
  }
}

describe.skipIf(!backends().find((b) => b.name === "postgres+minio")?.available)("replicas committing identical content under running janitors", () => {
  let a: TestServer & { env: Record<string, string> };
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer("postgres+minio", { env: SHORT });
    b = await startTestServer("postgres+minio", { reuseEnv: a.env, env: SHORT });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("every committed version downloads whole", async () => {
    const clients = (s: TestServer): Clients => ({ uploads: s.client(UploadService), datasets: s.client(DatasetService) });
    const [onA, onB] = [clients(a), clients(b)];
    let running = true;
    const reports: JanitorReport[] = [];
    // Each replica's janitor runs a pass about every quarter second (the schedule, not a wait for anything).
    const janitorLoop = async (s: TestServer) => {
      while (running) {
        reports.push(await s.app.janitor.runOnce());
        await pause(250);
      }
    };
    const loops = [janitorLoop(a), janitorLoop(b)];

    const contents = Array.from({ length: ROUNDS }, (_, r) => bytesOf(1024 * 1024 + 4096 * r, 5000 + r));
    const committed: { name: string; data: Buffer }[] = [];
    const run = uniqueSuffix();
    const { id: orgId } = await a.app.db.selectFrom("organizations").select("id").executeTakeFirstOrThrow();
    /** An unreferenced blob row whose lease ran out, with its object at its content-addressed key. */
    const orphan = async (data: Buffer) => {
      const sha = sha256(data);
      const physicalKey = `blobs/${orgId}/sha256/${sha.slice(0, 2)}/${sha}`;
      await a.app.store.put(physicalKey, Readable.from([data]), data.length);
      await a.app.db
        .insertInto("blobs")
        .values({ orgId, sha256: sha, size: data.length, physicalKey, state: "live", leaseUntil: new Date(Date.now() - 1000) })
        .execute();
    };
    try {
      // Round r orphans content r, then commits content r - LAG, orphaned LAG rounds earlier, from both replicas at once.
      for (let r = 0; r < ROUNDS; r++) {
        await orphan(contents[r] as Buffer);
        if (r < LAG) continue;
        const data = contents[r - LAG] as Buffer;
        const names = [`a-${run}-${r}`, `b-${run}-${r}`];
        await Promise.all([commitWithRetries(onA, names[0] as string, data), commitWithRetries(onB, names[1] as string, data)]);
        for (const name of names) committed.push({ name, data });
      }
    } finally {
      running = false;
      await Promise.all(loops);
    }

    expect(reports.filter((r) => !r.skipped).length).toBeGreaterThan(0);
    // Not asserted (it depends on timing), but shown: how much the passes reclaimed while commits ran.
    console.info(`janitor passes: ${reports.length}, skipped ${reports.filter((r) => r.skipped).length}, blobs deleted ${reports.reduce((n, r) => n + r.deletedBlobs, 0)}`);
    for (const { name, data } of committed) {
      const got = await download(onA.datasets, name, "1", "content.bin");
      expect({ name, size: got.bytes.length, sha256: sha256(got.bytes) }).toEqual({ name, size: data.length, sha256: sha256(data) });
    }
  });
});
