/**
 * Every list or read is bounded: the largest request allowed is served, one
 * past it is refused up front with the documented code and a message that
 * says how to page or narrow it, and lists that would outgrow a message are
 * cut with a flag or paged.
 */
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import {
  ARTEFACTS_IN_VERSION,
  DEFAULT_LINEAGE_NODES,
  MAX_EXPERIMENTS_PER_SEARCH,
  MAX_LATEST_METRICS_PER_RUN,
  MAX_LINEAGE_NODES,
  MAX_PARAMS_PER_RUN,
  MAX_PARENTS_LISTED_PER_VERSION,
  MAX_TAGS_PER_RUN,
} from "../../src/services/read-limits.js";
import { upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

async function expectCode(call: Promise<unknown>, code: Code, hint: string | RegExp): Promise<void> {
  const error = await call.then(() => undefined, (e: unknown) => ConnectError.from(e));
  if (!error) throw new Error(`expected ${Code[code]}, but the call succeeded`);
  expect(Code[error.code], error.rawMessage).toBe(Code[code]);
  expect(error.rawMessage).toMatch(hint);
}

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let at = 0; at < items.length; at += width) out.push(...(await Promise.all(items.slice(at, at + width).map((item, i) => fn(item, at + i)))));
  return out;
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i);
const pad = (n: number) => String(n).padStart(5, "0");

describe.each(backends().filter((b) => b.name === "postgres+minio"))("bounded reads ($name)", (backend) => {
  describe.skipIf(!backend.available)("", () => {
    let s: TestServer;
    let experiments: Client<typeof ExperimentService>;
    let datasets: Client<typeof DatasetService>;
    beforeAll(async () => {
      s = await startTestServer(backend.name);
      experiments = s.client(ExperimentService);
      datasets = s.client(DatasetService);
    });
    afterAll(async () => {
      await s?.close();
    });
    const orgOf = async (datasetName: string) =>
      (await s.app.db.selectFrom("datasets").select(["orgId", "id"]).where("name", "=", datasetName).executeTakeFirstOrThrow());

    it("a run holds at most its limits of tags and params: the write past one is refused whole", async () => {
      const runId = (await experiments.createRun({ project: "totals", experiment: "e" })).run?.runId ?? "";
      const entries = (prefix: string, from: number, count: number) => Object.fromEntries(range(count).map((i) => [`${prefix}${pad(from + i)}`, "v"]));
      await experiments.setRunTags({ runId, tags: entries("t", 0, MAX_TAGS_PER_RUN) });
      await expectCode(experiments.setRunTags({ runId, tags: entries("u", 0, 1) }), Code.ResourceExhausted, /at most 1000: remove tags/);
      // Overwriting and removing stay possible at the limit.
      await experiments.setRunTags({ runId, tags: { t00000: "w" }, remove: ["t00001"] });
      await experiments.setRunTags({ runId, tags: entries("u", 0, 1) });

      for (let from = 0; from < MAX_PARAMS_PER_RUN; from += 1000) await experiments.logParams({ runId, params: entries("p", from, 1000) });
      await expectCode(experiments.logParams({ runId, params: { ...entries("p", 0, 2), q: "v" } }), Code.ResourceExhausted, /at most 2000/);
      const run = (await experiments.getRun({ runId })).run;
      expect(Object.keys(run?.params ?? {})).toHaveLength(MAX_PARAMS_PER_RUN);
      expect(run?.params.q).toBeUndefined();
      expect(Object.keys(run?.tags ?? {})).toHaveLength(MAX_TAGS_PER_RUN);
      expect(run?.tags.t00000).toBe("w");
    });

    it("GetMetricHistory serves 10 runs × 100,000 points and refuses 11 before reading anything", async () => {
      const runIds = await inBatches(range(11), 11, async (i) => {
        const runId = (await experiments.createRun({ project: "history", experiment: "e", name: `r${i}` })).run?.runId ?? "";
        await experiments.logMetrics({ runId, batchId: "b", points: range(3).map((step) => ({ key: "loss", value: step, step: BigInt(step) })) });
        return runId;
      });
      const served = await experiments.getMetricHistory({ key: "loss", runIds: runIds.slice(0, 10), maxPoints: 100_000 });
      expect(served.series.map((x) => x.points.length)).toEqual(range(10).map(() => 3));
      await expectCode(
        experiments.getMetricHistory({ key: "loss", runIds, maxPoints: 100_000 }),
        Code.ResourceExhausted,
        /11 runs × max_points 100000 .* at most 1000000: ask for at most 90909 max_points with these runs, or for fewer runs/,
      );
      // Raw reads stay within the same budget through their page size.
      await expectCode(experiments.getMetricHistory({ key: "loss", runIds, pageSize: 100_001 }), Code.InvalidArgument, /page_size/);
    });

    it(`SearchRuns resolves ${MAX_EXPERIMENTS_PER_SEARCH} experiment names at once and refuses one more`, async () => {
      const project = "many-experiments";
      const run = (await experiments.createRun({ project, experiment: `e${pad(0)}` })).run;
      await experiments.createRun({ project, experiment: `e${pad(MAX_EXPERIMENTS_PER_SEARCH - 1)}` });
      const { id: projectId, orgId } = await s.app.db.selectFrom("projects").select(["id", "orgId"]).where("name", "=", project).executeTakeFirstOrThrow();
      // Setup at scale: the experiments between, as CreateExperiment would make them.
      const rows = range(MAX_EXPERIMENTS_PER_SEARCH - 2).map((i) => ({ id: `exp_bulk_${i}`, orgId, projectId, name: `e${pad(i + 1)}`, description: "" }));
      for (let at = 0; at < rows.length; at += 2000) await s.app.db.insertInto("experiments").values(rows.slice(at, at + 2000)).execute();
      const names = range(MAX_EXPERIMENTS_PER_SEARCH).map((i) => `e${pad(i)}`);

      const found = await experiments.searchRuns({ project, experiments: names });
      expect(found.runs.map((r) => r.experiment).sort()).toEqual([`e${pad(0)}`, `e${pad(MAX_EXPERIMENTS_PER_SEARCH - 1)}`]);
      const half = await experiments.searchRuns({ project, experiments: names.slice(0, 5000) });
      expect(half.runs.map((r) => r.runId)).toEqual([run?.runId]);
      await expectCode(experiments.searchRuns({ project, experiments: [...names.slice(1), "missing"] }), Code.NotFound, /experiment "missing" not found/);
      await expectCode(
        experiments.searchRuns({ project, experiments: [...names, "e-one-more"] }),
        Code.InvalidArgument,
        /the limit is 10000: search the whole project \(no experiments\), or split the names/,
      );
    });

    it(`latest_metrics holds the first ${MAX_LATEST_METRICS_PER_RUN} keys and says when a run has more`, async () => {
      const create = async (keys: number) => {
        const runId = (await experiments.createRun({ project: "latest", experiment: "e" })).run?.runId ?? "";
        const points = range(keys).map((k) => ({ key: `k${pad(keys - 1 - k)}`, value: k, step: 1n }));
        await experiments.logMetrics({ runId, batchId: "b", points });
        return (await experiments.getRun({ runId })).run;
      };
      const many = await create(MAX_LATEST_METRICS_PER_RUN + 50);
      expect(many?.latestMetrics.map((m) => m.key)).toEqual(range(MAX_LATEST_METRICS_PER_RUN).map((k) => `k${pad(k)}`));
      expect(many?.latestMetricsTruncated).toBe(true);
      const exact = await create(MAX_LATEST_METRICS_PER_RUN);
      expect(exact?.latestMetrics).toHaveLength(MAX_LATEST_METRICS_PER_RUN);
      expect(exact?.latestMetricsTruncated).toBe(false);
    });

    it(`ListDatasetVersions lists ${MAX_PARENTS_LISTED_PER_VERSION} parents per version with their count; GetDataset lists all`, async () => {
      const parentCount = MAX_PARENTS_LISTED_PER_VERSION + 20;
      const parents = await inBatches(range(parentCount), 16, async (i) => {
        await datasets.createDataset({ name: "parent", version: `v${pad(i)}` });
        return { name: "parent", version: `v${pad(i)}` };
      });
      await datasets.createDataset({ name: "child", version: "1", derivedFrom: parents });
      const [listed] = (await datasets.listDatasetVersions({ name: "child" })).versions;
      expect(listed?.derivedFrom).toEqual(parents.slice(0, MAX_PARENTS_LISTED_PER_VERSION).map((p) => expect.objectContaining(p)));
      expect(listed?.derivedFromCount).toBe(parentCount);
      const got = (await datasets.getDataset({ name: "child", version: "1" })).dataset;
      expect(got?.derivedFrom).toHaveLength(parentCount);
      expect(got?.derivedFromCount).toBe(parentCount);
    });

    it(`GetLineage of a graph past ${MAX_LINEAGE_NODES} versions is cut at max_nodes and says so`, async () => {
      await datasets.createDataset({ name: "root", version: "1" });
      const { orgId, id: rootDatasetId } = await orgOf("root");
      const root = await s.app.db.selectFrom("datasetVersions").select("id").where("datasetId", "=", rootDatasetId).executeTakeFirstOrThrow();
      // Setup at scale: MAX_LINEAGE_NODES + 500 versions derived from root, as CreateDataset would record them.
      const wide = { id: "ds_bulk_wide", orgId, name: "wide" };
      await s.app.db.insertInto("datasets").values(wide).execute();
      const children = range(MAX_LINEAGE_NODES + 500).map((i) => ({
        id: `dsv_bulk_${i}`,
        orgId,
        datasetId: wide.id,
        version: `v${pad(i)}`,
        description: "",
        metadata: "{}",
        fingerprint: `f${i}`,
        totalSize: 0,
        artefactCount: 0,
      }));
      for (let at = 0; at < children.length; at += 2000) {
        const batch = children.slice(at, at + 2000);
        await s.app.db.insertInto("datasetVersions").values(batch).execute();
        await s.app.db.insertInto("lineageEdges").values(batch.map((c) => ({ orgId, parentId: root.id, childId: c.id }))).execute();
      }

      const capped = await datasets.getLineage({ dataset: { name: "root", version: "1" }, maxNodes: MAX_LINEAGE_NODES });
      expect(capped.nodes).toHaveLength(MAX_LINEAGE_NODES);
      expect(capped.edges).toHaveLength(MAX_LINEAGE_NODES - 1);
      expect(capped.truncated).toBe(true);
      const names = new Set(capped.nodes.map((n) => `${n.dataset?.name}@${n.dataset?.version}`));
      expect(capped.edges.every((e) => names.has(`${e.child?.name}@${e.child?.version}`))).toBe(true);

      const byDefault = await datasets.getLineage({ dataset: { name: "root", version: "1" } });
      expect([byDefault.nodes.length, byDefault.truncated]).toEqual([DEFAULT_LINEAGE_NODES, true]);
      const leaf = await datasets.getLineage({ dataset: { name: "wide", version: "v00007" } });
      expect([leaf.nodes.length, leaf.edges.length, leaf.truncated]).toEqual([2, 1, false]);
      await expectCode(
        datasets.getLineage({ dataset: { name: "root", version: "1" }, maxNodes: MAX_LINEAGE_NODES + 1 }),
        Code.InvalidArgument,
        /max_nodes must be between 0 .* and 10000/,
      );
    });

    it("ListRuns and ListDatasetVersions cut a page of large items short and the token goes on from there", async () => {
      const tags = Object.fromEntries(range(1000).map((i) => [`t${pad(i)}`, "x".repeat(3000)])); // ~3 MB a run
      const runIds = [];
      for (const i of range(3)) runIds.push((await experiments.createRun({ project: "large-runs", experiment: "e", name: `r${i}`, tags })).run?.runId);
      const pages: number[] = [];
      const listed: (string | undefined)[] = [];
      let pageToken = "";
      do {
        const page = await experiments.listRuns({ project: "large-runs", pageSize: 100, pageToken });
        pages.push(page.runs.length);
        listed.push(...page.runs.map((r) => r.runId));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(pages).toEqual([1, 1, 1]);
      expect(listed).toEqual([...runIds].reverse());

      const metadata = Object.fromEntries(range(256).map((i) => [`m${pad(i)}`, "y".repeat(4096)])); // ~1 MB a version
      for (const i of range(5)) await datasets.createDataset({ name: "large-versions", version: `v${i}`, metadata });
      const versions: string[] = [];
      const sizes: number[] = [];
      pageToken = "";
      do {
        const page = await datasets.listDatasetVersions({ name: "large-versions", pageSize: 100, pageToken });
        sizes.push(page.versions.length);
        versions.push(...page.versions.map((v) => v.version));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(sizes.length).toBeGreaterThan(1);
      expect(versions).toEqual(["v4", "v3", "v2", "v1", "v0"]);
    });

    it("a version with more artefacts than a page is read whole through ListArtefacts", async () => {
      const uploads = s.client(UploadService);
      const count = ARTEFACTS_IN_VERSION + 205;
      const made = await inBatches(range(count), 32, (i) => upload(uploads, `f${pad(i)}.txt`, Buffer.from(`artefact ${i}`)));
      const paths = range(count).map((i) => `part/f${pad(i)}.txt`);
      const created = (await datasets.createDataset({ name: "big", version: "1", artefacts: made.map((u, i) => ({ uploadId: u.uploadId, path: paths[i] })) })).dataset;
      expect(created?.artefacts).toHaveLength(ARTEFACTS_IN_VERSION);
      expect(created?.artefactCount).toBe(count);
      expect(created?.artefactsNextPageToken).not.toBe("");

      const got = (await datasets.getDataset({ name: "big" })).dataset;
      const listed = [...(got?.artefacts ?? [])];
      let pageToken = got?.artefactsNextPageToken ?? "";
      while (pageToken) {
        const page = await datasets.listArtefacts({ dataset: { name: "big", version: "1" }, pageSize: 100, pageToken });
        expect(page.artefacts.length).toBeLessThanOrEqual(100);
        listed.push(...page.artefacts);
        pageToken = page.nextPageToken;
      }
      expect(listed.map((a) => a.path)).toEqual(paths);

      const prefixed = await datasets.listArtefacts({ dataset: { name: "big", version: "1" }, pathPrefix: "part/f0100", pageSize: 0 });
      expect(prefixed.artefacts.map((a) => a.path)).toEqual(range(10).map((i) => `part/f${pad(1000 + i)}.txt`));
      expect(prefixed.nextPageToken).toBe("");
      await expectCode(datasets.listArtefacts({ dataset: { name: "big", version: "1" }, pageSize: 10_001 }), Code.InvalidArgument, /page_size/);

      // The longest paths make the longest tokens, and they page too.
      const long = (c: string) => [c.repeat(250), '"'.repeat(250), c.repeat(250), `${c.repeat(200)}.txt`].join("/");
      const two = await inBatches(["a", "b"], 2, (c) => upload(uploads, `${c}.txt`, Buffer.from(c)));
      await datasets.createDataset({ name: "long-paths", version: "1", artefacts: two.map((u, i) => ({ uploadId: u.uploadId, path: long(i ? "b" : "a") })) });
      const first = await datasets.listArtefacts({ dataset: { name: "long-paths", version: "1" }, pageSize: 1 });
      const second = await datasets.listArtefacts({ dataset: { name: "long-paths", version: "1" }, pageSize: 1, pageToken: first.nextPageToken });
      expect([...first.artefacts, ...second.artefacts].map((a) => a.path)).toEqual([long("a"), long("b")]);
      expect(second.nextPageToken).toBe("");
      await expectCode(datasets.listArtefacts({ dataset: { name: "big", version: "" } }), Code.InvalidArgument, /dataset.version is required/);
      await expectCode(datasets.listArtefacts({ dataset: { name: "big", version: "2" } }), Code.NotFound, /not found/);
    });
  });
});
