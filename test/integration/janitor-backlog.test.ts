/**
 * A janitor pass drains its backlog within its time budget instead of
 * stopping at a fixed count: the 3,000 orphans three killed 1,000-artefact
 * commits leave are gone after one pass (issue 9: "The janitor falls behind").
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapConcurrent } from "../../src/util/map-concurrent.js";
import { sha256 } from "../support/data.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";

const ORPHANS = 3000;

describe.each(backends())("janitor backlog on $name", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    if (backend.available) server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)(`clears ${ORPHANS} orphan blobs in one pass`, async () => {
    const { db, store } = server.app;
    const { id: orgId } = await db.selectFrom("organizations").select("id").executeTakeFirstOrThrow();
    // What commits killed by earlier versions left: leased rows whose lease ran out, each with its object at its
    // content-addressed key, referenced by nothing.
    const orphans = Array.from({ length: ORPHANS }, (_, i) => {
      const data = Buffer.from(`orphan ${i}`);
      const sha = sha256(data);
      return { data, sha256: sha, key: `blobs/${orgId}/sha256/${sha.slice(0, 2)}/${sha}` };
    });
    const leaseUntil = new Date(Date.now() - 60_000);
    for (let i = 0; i < ORPHANS; i += 500) {
      const rows = orphans.slice(i, i + 500).map((o) => ({ orgId, sha256: o.sha256, size: o.data.length, physicalKey: o.key, state: "live" as const, leaseUntil }));
      await db.insertInto("blobs").values(rows).execute();
    }
    await mapConcurrent(orphans, 32, (o) => store.put(o.key, Readable.from([o.data]), o.data.length));

    const report = await server.app.janitor.runOnce();
    expect(report).toMatchObject({ skipped: false, drained: true, deletedBlobs: ORPHANS });
    expect(report.durationMs).toBeGreaterThan(0);
    const left = await db.selectFrom("blobs").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(0);
    const objects: string[] = [];
    for await (const object of store.list("blobs/")) objects.push(object.key);
    expect(objects).toEqual([]);
  });
});
