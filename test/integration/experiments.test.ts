/**
 * What users rely on from experiment tracking, on both backends: the run
 * lifecycle, params set once, idempotent metric batches under retry, eight
 * concurrent writers into one run, search, downsampled history, isolation
 * between organisations, and the bad inputs a tracking API gets.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import {
  ExperimentService,
  type MetricPoint,
  type MetricPointSchema,
  MetricThreshold_Op,
  ProjectService,
  RunStatus,
  type SearchRunsRequestSchema,
} from "../../gen/traintrack/v1/experiment_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { ROLLUP_SHIFTS } from "../../src/db/metrics-repo.js";
import { bucketCount, type Extreme, extremesToPoints, planBucketOf, planRollupRead } from "../../src/services/downsample.js";
import { upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

type PointInit = MessageInitShape<typeof MetricPointSchema>;
type Experiments = Client<typeof ExperimentService>;

/** Expects `call` to fail with exactly `code` and a message matching `hint`. */
async function expectCode(call: Promise<unknown>, code: Code, hint: string | RegExp): Promise<void> {
  const error = await call.then(() => undefined, (e: unknown) => ConnectError.from(e));
  if (!error) throw new Error(`expected ${Code[code]}, but the call succeeded`);
  expect(Code[error.code], error.rawMessage).toBe(Code[code]);
  expect(error.rawMessage).toMatch(hint);
}

const points = (key: string, steps: number[], value: (step: number) => number, worker?: { rank: number; host: string }): PointInit[] =>
  steps.map((step) => ({ key, value: value(step), step: BigInt(step), worker }));
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
async function* streamOf<T>(messages: T[]) {
  yield* messages;
}

/** Every raw point of `key` in `runIds`, read page by page. */
async function history(client: Experiments, runIds: string[], key: string, pageSize = 0): Promise<Map<string, MetricPoint[]>> {
  const byRun = new Map<string, MetricPoint[]>(runIds.map((id) => [id, []]));
  let pageToken = "";
  do {
    const page = await client.getMetricHistory({ key, runIds, pageSize, pageToken });
    for (const s of page.series) byRun.get(s.runId)?.push(...s.points);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return byRun;
}

describe.each(backends())("experiment tracking on $name", (backend) => {
  let server: TestServer;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;
  const projects = () => server.client(ProjectService);
  const experiments = () => server.client(ExperimentService);
  const newRun = async (project = unique("p"), init: { tags?: Record<string, string>; params?: Record<string, string> } = {}) =>
    (await experiments().createRun({ project, experiment: "e", ...init })).run?.runId ?? "";
  const seriesOf = async (runId: string, key: string) => (await history(experiments(), [runId], key)).get(runId) ?? [];

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("a run goes from RUNNING to one end, and its containers are created once under retry", async () => {
      expect((await projects().createProject({ name: "churn", description: "CRM" })).project?.name).toBe("churn");
      expect((await projects().createProject({ name: "churn", description: "CRM" })).project?.description).toBe("CRM");
      await expectCode(projects().createProject({ name: "churn", description: "other" }), Code.AlreadyExists, "another description");
      await experiments().createExperiment({ project: "churn", name: "xgb-sweep" });
      expect((await experiments().getExperiment({ project: "churn", name: "xgb-sweep" })).experiment?.project).toBe("churn");
      await expectCode(experiments().getExperiment({ project: "churn", name: "nope" }), Code.NotFound, 'experiment "nope"');

      const init = { project: "churn", experiment: "xgb-sweep", name: "trial 1", tags: { team: "a" }, params: { lr: "0.1" }, group: "job-42", rank: 0, host: "gpu-1" };
      const run = (await experiments().createRun({ ...init, requestId: "job-42" })).run;
      expect(run).toMatchObject({ status: RunStatus.RUNNING, tags: { team: "a" }, params: { lr: "0.1" }, group: "job-42", rank: 0, host: "gpu-1" });
      expect(run?.endTime).toBeUndefined();
      // Another rank (or a retry) with the same request id gets the same run.
      expect((await experiments().createRun({ ...init, rank: 3, requestId: "job-42" })).run?.runId).toBe(run?.runId);
      const runId = run?.runId ?? "";

      const ended = (await experiments().updateRunStatus({ runId, status: RunStatus.FINISHED })).run;
      expect(ended?.status).toBe(RunStatus.FINISHED);
      expect(ended?.endTime).toBeDefined();
      expect((await experiments().updateRunStatus({ runId, status: RunStatus.FINISHED })).run?.endTime).toEqual(ended?.endTime);
      await expectCode(experiments().updateRunStatus({ runId, status: RunStatus.RUNNING }), Code.FailedPrecondition, "already ended as finished");
      await expectCode(experiments().updateRunStatus({ runId, status: RunStatus.FAILED }), Code.FailedPrecondition, "cannot become failed");
      await expectCode(experiments().updateRunStatus({ runId, status: RunStatus.UNSPECIFIED }), Code.InvalidArgument, "status");

      const second = await newRun("churn");
      const first = await experiments().listRuns({ project: "churn", pageSize: 1 });
      expect(first.runs.map((r) => r.runId)).toEqual([second]);
      const rest = await experiments().listRuns({ project: "churn", pageSize: 1, pageToken: first.nextPageToken });
      expect(rest.runs.map((r) => r.runId)).toEqual([runId]);
      expect(rest.nextPageToken).toBe("");
      expect((await experiments().listRuns({ project: "churn", group: "job-42" })).runs.map((r) => r.runId)).toEqual([runId]);
      expect((await projects().listProjects({})).projects.map((p) => p.name)).toContain("churn");
    });

    it("params are set once, all or none; tags change; inputs record the dataset versions a run read", async () => {
      const runId = await newRun(undefined, { params: { lr: "0.1" } });
      await experiments().logParams({ runId, params: { lr: "0.1", depth: "6" } });
      await expectCode(experiments().logParams({ runId, params: { lr: "0.2", seed: "1" } }), Code.FailedPrecondition, /param "lr".*already "0.1"/);
      expect((await experiments().getRun({ runId })).run?.params).toEqual({ lr: "0.1", depth: "6" });

      await experiments().setRunTags({ runId, tags: { a: "1", b: "2" } });
      expect((await experiments().setRunTags({ runId, tags: { a: "3" }, remove: ["b"] })).run?.tags).toEqual({ a: "3" });

      const data = await upload(server.client(UploadService), "d.csv", Buffer.from("x\n1\n"));
      await server.client(DatasetService).createDataset({ name: "customer_churn", version: "1.0.1", artefacts: [{ uploadId: data.uploadId }] });
      await expectCode(
        experiments().useDatasets({ runId, datasets: [{ name: "customer_churn", version: "1.0.1" }, { name: "customer_churn", version: "9" }] }),
        Code.NotFound,
        'dataset "customer_churn" version "9"',
      );
      const used = await experiments().useDatasets({ runId, datasets: [{ name: "customer_churn", version: "1.0.1" }] });
      expect(used.run?.inputs.map((d) => `${d.name}@${d.version}`)).toEqual(["customer_churn@1.0.1"]);
    });

    it("a resent batch id writes nothing, unary and streamed; the same points in another batch are kept", async () => {
      const runId = await newRun();
      const batch = { runId, batchId: "b1", points: points("loss", [1, 2, 3], (s) => 1 / s) };
      expect(await experiments().logMetrics(batch)).toMatchObject({ pointsAccepted: 3n, deduplicated: false });
      expect(await experiments().logMetrics(batch)).toMatchObject({ pointsAccepted: 0n, deduplicated: true });
      const streamed = await experiments().streamMetrics(streamOf([batch, { ...batch, batchId: "b2" }, { ...batch, batchId: "b2" }]));
      expect(streamed).toMatchObject({ pointsAccepted: 3n, batchesAccepted: 1, batchesDeduplicated: 2 });
      expect((await seriesOf(runId, "loss")).map((p) => Number(p.step))).toEqual([1, 1, 2, 2, 3, 3]);
    });

    it("eight ranks writing into one run at once, over LogMetrics and StreamMetrics, lose and duplicate nothing", async () => {
      const runId = await newRun();
      const BATCHES = 10;
      const PER_BATCH = 1000;
      const writers = range(0, 8).map(async (rank) => {
        const worker = { rank, host: `node-${rank % 2}` };
        const batches = range(0, BATCHES).map((b) => ({
          runId,
          batchId: `rank-${rank}-${b}`,
          points: points("loss", range(b * PER_BATCH, PER_BATCH), (s) => rank + s / 1e6, worker),
        }));
        // Each writer also resends one batch, as a client does after a lost response.
        const withRetry = [...batches.slice(0, 5), batches[2]!, ...batches.slice(5)];
        if (rank % 2 === 0) {
          const client = server.client(ExperimentService, rank % 4 === 0 ? "grpc" : "connectH2");
          return client.streamMetrics(streamOf(withRetry));
        }
        const client = server.client(ExperimentService, rank % 4 === 1 ? "connectH1" : "grpcWeb");
        for (const batch of withRetry) await client.logMetrics(batch);
        return undefined;
      });
      for (const totals of await Promise.all(writers)) {
        if (totals) expect(totals).toMatchObject({ pointsAccepted: BigInt(BATCHES * PER_BATCH), batchesAccepted: BATCHES, batchesDeduplicated: 1 });
      }
      const all = await seriesOf(runId, "loss");
      expect(all.length).toBe(8 * BATCHES * PER_BATCH);
      const seen = new Set(all.map((p) => `${p.worker?.rank}/${p.step}`));
      expect(seen.size).toBe(all.length);
      for (let i = 1; i < all.length; i++) expect(all[i]!.step >= all[i - 1]!.step).toBe(true);
    });

    it("searches runs by status, tags, params and the latest value of a metric", async () => {
      const project = unique("search");
      const a = await newRun(project, { tags: { team: "a" }, params: { lr: "0.1" } });
      const b = await newRun(project, { tags: { team: "b" }, params: { lr: "0.2" } });
      const c = await newRun(project, { tags: { team: "a" } });
      const d = await newRun(project);
      await experiments().logMetrics({ runId: a, batchId: "1", points: points("loss", [1, 2], (s) => (s === 2 ? 0.2 : 0.9)) });
      // b's latest is step 5 (0.8) though a lower step arrived after it.
      await experiments().logMetrics({ runId: b, batchId: "1", points: [...points("loss", [5], () => 0.8), ...points("loss", [1], () => 0.1)] });
      await experiments().logMetrics({ runId: d, batchId: "1", points: points("loss", [1], () => Number.NaN) });
      await experiments().updateRunStatus({ runId: a, status: RunStatus.FINISHED });
      await experiments().updateRunStatus({ runId: b, status: RunStatus.FAILED });

      const search = async (filter: Omit<MessageInitShape<typeof SearchRunsRequestSchema>, "project" | "$typeName">) =>
        (await experiments().searchRuns({ project, ...filter })).runs.map((r) => r.runId);
      expect(await search({ statuses: [RunStatus.FINISHED] })).toEqual([a]);
      expect(await search({ statuses: [RunStatus.RUNNING] })).toEqual([d, c]);
      expect(await search({ tags: { team: "a" } })).toEqual([c, a]);
      expect(await search({ params: { lr: "0.2" } })).toEqual([b]);
      expect(await search({ metrics: [{ key: "loss", op: MetricThreshold_Op.LESS, value: 0.5 }] })).toEqual([a]);
      expect(await search({ metrics: [{ key: "loss", op: MetricThreshold_Op.GREATER_OR_EQUAL, value: 0.5 }] })).toEqual([b]);
      expect(await search({ metrics: [{ key: "loss", op: MetricThreshold_Op.LESS, value: Number.POSITIVE_INFINITY }] })).toEqual([b, a]);
      expect(await search({ tags: { team: "a" }, metrics: [{ key: "loss", op: MetricThreshold_Op.LESS_OR_EQUAL, value: 0.2 }] })).toEqual([a]);
      const page = await experiments().searchRuns({ project, pageSize: 3 });
      expect(page.runs.map((r) => r.runId)).toEqual([d, c, b]);
      expect((await experiments().searchRuns({ project, pageSize: 3, pageToken: page.nextPageToken })).runs.map((r) => r.runId)).toEqual([a]);
      await expectCode(experiments().searchRuns({ project, experiments: ["nope"] }), Code.NotFound, 'experiment "nope"');
      await expectCode(experiments().searchRuns({ project, metrics: [{ key: "loss", value: 1 }] }), Code.InvalidArgument, "metrics[0].op");
    });

    it("downsamples a 100,000-point series to 1,000 points that keep its global minimum and maximum", async () => {
      const runId = await newRun();
      const small = await newRun();
      const N = 100_000;
      const value = (s: number) => (s === 12_345 ? -1e6 : s === 73_210 ? 1e6 : Math.sin(s / 100) + (s % 7) / 10);
      for (let at = 0; at < N; at += 10_000) {
        await experiments().logMetrics({ runId, batchId: `b${at}`, points: points("loss", range(at, 10_000), value) });
      }
      await experiments().logMetrics({ runId: small, batchId: "b", points: points("loss", range(0, 10), (s) => s) });

      const res = await experiments().getMetricHistory({ key: "loss", runIds: [runId, small], maxPoints: 1000 });
      const [big, few] = res.series;
      expect(big?.downsampled).toBe(true);
      expect(big?.points.length).toBeLessThanOrEqual(1000);
      expect(big?.points.length).toBeGreaterThan(900);
      const steps = big?.points.map((p) => Number(p.step)) ?? [];
      expect(steps).toEqual([...steps].sort((x, y) => x - y));
      expect(big?.points).toContainEqual(expect.objectContaining({ step: 12_345n, value: -1e6 }));
      expect(big?.points).toContainEqual(expect.objectContaining({ step: 73_210n, value: 1e6 }));
      expect(few?.downsampled).toBe(false);
      expect(few?.points.map((p) => p.value)).toEqual(range(0, 10));
    });

    it("downsamples from rollups as a full scan of the points would, after out-of-order points, late points and a resent batch", async () => {
      const runId = await newRun();
      // Spans more steps than the finest rollup level has buckets for 1,000 points (128 x 500).
      const N = 70_000;
      // A permutation of 0..N-1 (7919 is prime to 70,000), written in seven batches.
      const steps = range(0, N).map((i) => (i * 7919) % N);
      const value = (s: number) => (s === 2024 ? Number.NaN : s === 17_001 ? Number.NEGATIVE_INFINITY : Math.cos(s / 50) * ((s % 13) - 6));
      for (let b = 0; b < 7; b++) {
        await experiments().logMetrics({ runId, batchId: `b${b}`, points: points("loss", steps.slice(b * 10_000, (b + 1) * 10_000), value) });
      }
      // Resent with other values: deduplicated, so no rollup moves.
      const resent = await experiments().logMetrics({ runId, batchId: "b1", points: points("loss", steps.slice(10_000, 20_000), () => 1e9) });
      expect(resent.deduplicated).toBe(true);
      // A slow rank's points at steps already written, one of them +Infinity.
      await experiments().logMetrics({
        runId,
        batchId: "late",
        points: points("loss", range(100, 400), (s) => (s === 250 ? Number.POSITIVE_INFINITY : -s), { rank: 2, host: "b" }),
      });

      const raw = await seriesOf(runId, "loss");
      expect(raw).toHaveLength(N + 400);
      const res = await experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 1000 });
      const got = res.series[0];
      expect(got?.downsampled).toBe(true);

      // The full scan: each point into its bucket, extremes compared as (value, step, ts) with NaN above +Infinity.
      const range_ = { minStep: 0, maxStep: N - 1, buckets: bucketCount(1000) };
      const plan = planRollupRead(ROLLUP_SHIFTS, range_);
      expect(plan).toBeDefined();
      const num = (a: number, b: number) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a < b ? -1 : a > b ? 1 : 0);
      const cmp = (a: Extreme, b: Extreme) => num(a[0] as number, b[0] as number) || num(a[1] as number, b[1] as number) || num(a[2] as number, b[2] as number);
      const byBucket = new Map<number, { min: Extreme; max: Extreme }>();
      for (const p of raw) {
        const e: Extreme = [p.value, Number(p.step), p.timestamp ? timestampMs(p.timestamp) : 0];
        const g = planBucketOf(ROLLUP_SHIFTS, plan!, Number(p.step));
        const cur = byBucket.get(g);
        if (!cur) byBucket.set(g, { min: e, max: e });
        else byBucket.set(g, { min: cmp(e, cur.min) < 0 ? e : cur.min, max: cmp(e, cur.max) > 0 ? e : cur.max });
      }
      const expected = extremesToPoints([...byBucket.values()]);
      expect(byBucket.size).toBe(plan!.groups);
      const sampled = (got?.points ?? []).map((p) => ({ value: p.value, step: Number(p.step), tsMs: p.timestamp ? timestampMs(p.timestamp) : 0 }));
      expect(sampled).toEqual(expected);
      expect(sampled.length).toBeLessThanOrEqual(1000);
      expect(sampled.length).toBeGreaterThan(900);
      expect(sampled).toContainEqual(expect.objectContaining({ step: 2024, value: Number.NaN }));
      expect(sampled).toContainEqual(expect.objectContaining({ step: 17_001, value: Number.NEGATIVE_INFINITY }));
      expect(sampled).toContainEqual(expect.objectContaining({ step: 250, value: Number.POSITIVE_INFINITY }));
      expect(sampled.some((p) => p.value === 1e9)).toBe(false);
    });

    it("a zoomed chart's step range gets finer buckets inside it only, keeping that range's minimum and maximum", async () => {
      const runId = await newRun();
      const N = 100_000;
      const spikes = new Map([[12_345, -1e6], [73_210, 1e6], [43_500, -5e5], [44_000, 5e5]]);
      const value = (s: number) => spikes.get(s) ?? Math.sin(s / 100) + (s % 7) / 10;
      for (let at = 0; at < N; at += 10_000) {
        await experiments().logMetrics({ runId, batchId: `b${at}`, points: points("loss", range(at, 10_000), value) });
      }
      const stepsOf = (res: { series: { points: MetricPoint[] }[] }) => res.series[0]?.points.map((p) => Number(p.step)) ?? [];

      // 1% of the steps, 200 points: about 10 steps a bucket, against 1,000 over the whole series.
      const zoomed = await experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 200, minStep: 43_210n, maxStep: 44_209n });
      const got = zoomed.series[0];
      expect(got?.downsampled).toBe(true);
      const steps = stepsOf(zoomed);
      expect(steps.length).toBeLessThanOrEqual(200);
      expect(steps.length).toBeGreaterThan(150);
      expect(steps.every((s) => s >= 43_210 && s <= 44_209)).toBe(true);
      expect(steps).toEqual([...steps].sort((x, y) => x - y));
      expect(got?.points).toContainEqual(expect.objectContaining({ step: 43_500n, value: -5e5 }));
      expect(got?.points).toContainEqual(expect.objectContaining({ step: 44_000n, value: 5e5 }));
      const whole = stepsOf(await experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 200 }));
      expect(whole.filter((s) => s >= 43_210 && s <= 44_209).length).toBeLessThan(10);

      // A wider range is read from the rollups, with the rows cut by its ends replaced by their points in it:
      // the same answer as a scan of the range's points.
      const [lo, hi] = [20_001, 50_000];
      const wide = (await experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 200, minStep: BigInt(lo), maxStep: BigInt(hi) })).series[0];
      const plan = planRollupRead(ROLLUP_SHIFTS, { minStep: lo, maxStep: hi, buckets: bucketCount(200) });
      expect(plan).toBeDefined();
      const byBucket = new Map<number, { min: Extreme; max: Extreme }>();
      for (const s of range(lo, hi - lo + 1)) {
        const e: Extreme = [value(s), s, 0];
        const g = planBucketOf(ROLLUP_SHIFTS, plan!, s);
        const cur = byBucket.get(g);
        if (!cur) byBucket.set(g, { min: e, max: e });
        else byBucket.set(g, { min: e[0]! < cur.min[0]! ? e : cur.min, max: e[0]! >= cur.max[0]! ? e : cur.max });
      }
      expect(wide?.downsampled).toBe(true);
      expect(wide?.points.map((p) => [Number(p.step), p.value])).toEqual(extremesToPoints([...byBucket.values()]).map((p) => [p.step, p.value]));

      // Raw pages hold the range's points only; 0 is a bound like any other.
      const raw: number[] = [];
      let pageToken = "";
      do {
        const page = await experiments().getMetricHistory({ key: "loss", runIds: [runId], pageSize: 300, pageToken, minStep: 99_000n });
        raw.push(...stepsOf(page));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(raw).toEqual(range(99_000, 1000));
      expect(stepsOf(await experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 200, maxStep: 0n }))).toEqual([0]);
      expect(stepsOf(await experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 200, minStep: 200_000n }))).toEqual([]);
      await expectCode(experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 200, minStep: 5n, maxStep: 4n }), Code.InvalidArgument, "min_step");
    });

    it("keeps out-of-order steps and late points, including after the run ended", async () => {
      const runId = await newRun();
      await experiments().logMetrics({ runId, batchId: "1", points: points("acc", [10, 5, 7], (s) => s / 10, { rank: 1, host: "a" }) });
      await experiments().updateRunStatus({ runId, status: RunStatus.FINISHED });
      // A slow rank's points arrive after the end.
      await experiments().logMetrics({ runId, batchId: "2", points: points("acc", [3, 7], (s) => s / 100, { rank: 2, host: "b" }) });
      const got = await history(experiments(), [runId], "acc", 2);
      expect(got.get(runId)?.map((p) => [Number(p.step), p.worker?.rank])).toEqual([[3, 2], [5, 1], [7, 1], [7, 2], [10, 1]]);
    });

    it("another organisation sees none of it and shares no names", async () => {
      const runId = await newRun("private");
      await experiments().logMetrics({ runId, batchId: "1", points: points("loss", [1], () => 1) });
      const key = await server.newOrganization(unique("org"));
      const theirs = server.client(ExperimentService, "grpc", key);
      await expectCode(theirs.getRun({ runId }), Code.NotFound, runId);
      await expectCode(theirs.logMetrics({ runId, batchId: "2", points: points("loss", [1], () => 2) }), Code.NotFound, runId);
      await expectCode(theirs.getMetricHistory({ key: "loss", runIds: [runId] }), Code.NotFound, runId);
      await expectCode(theirs.updateRunStatus({ runId, status: RunStatus.KILLED }), Code.NotFound, runId);
      await expectCode(theirs.logParams({ runId, params: { a: "b" } }), Code.NotFound, runId);
      await expectCode(theirs.searchRuns({ project: "private" }), Code.NotFound, 'project "private"');
      await expectCode(server.client(ProjectService, "grpc", key).getProject({ name: "private" }), Code.NotFound, "private");
      expect((await server.client(ProjectService, "grpc", key).listProjects({})).projects).toEqual([]);
      const own = (await theirs.createRun({ project: "private", experiment: "e" })).run?.runId ?? "";
      expect((await theirs.listRuns({ project: "private" })).runs.map((r) => r.runId)).toEqual([own]);
      expect(await seriesOf(runId, "loss")).toHaveLength(1);
    });

    it("stores NaN and the infinities and returns them as such, over gRPC and Connect JSON", async () => {
      const runId = await newRun();
      const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0.5, Number.MIN_VALUE, Number.MAX_VALUE];
      await experiments().logMetrics({ runId, batchId: "1", points: odd.map((value, step) => ({ key: "loss", value, step: BigInt(step) })) });
      expect((await seriesOf(runId, "loss")).map((p) => p.value)).toEqual(odd);
      const json = server.client(ExperimentService, "connectH1");
      expect((await json.getMetricHistory({ key: "loss", runIds: [runId] })).series[0]?.points.map((p) => p.value)).toEqual(odd);
      const sampled = await json.getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 2 });
      expect(sampled.series[0]?.points.map((p) => p.value)).toEqual([Number.NaN, Number.NEGATIVE_INFINITY]);

      // What curl sends: Connect JSON over HTTP/1.1, with NaN and infinities as strings.
      const res = await fetch(`${server.baseUrl}/traintrack.v1.ExperimentService/LogMetrics`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${server.apiKey}` },
        body: JSON.stringify({ runId, batchId: "curl", points: [{ key: "loss", value: "NaN", step: "9" }, { key: "loss", value: "-Infinity", step: "10" }] }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ pointsAccepted: "2" });
      expect((await seriesOf(runId, "loss")).slice(-2).map((p) => p.value)).toEqual([Number.NaN, Number.NEGATIVE_INFINITY]);
    });

    it("returns every value, step and worker exactly as written: signed zero, extremes, hosts with quotes and braces", async () => {
      const runId = await newRun();
      const values = [-0, 0, 1e-300, 5e-324, -1.7976931348623157e308, 0.1 + 0.2, 123456789.123456789, -2.5e-7];
      const steps = [-(2 ** 53 - 1), 2 ** 53 - 1, 0, -1, 1e15, 7, 8, 9];
      const hosts = ['a "quoted" host', "back\\slash", "{braces,commas}", "NULL", "", "ünïcode", " ", "h"];
      await experiments().logMetrics({
        runId,
        batchId: "exact",
        points: values.map((value, i) => ({ key: "x", value, step: BigInt(steps[i] ?? 0), worker: { rank: i, host: hosts[i] ?? "" } })),
      });
      const stored = await seriesOf(runId, "x");
      const byRank = new Map(stored.map((p) => [p.worker?.rank, p]));
      for (let i = 0; i < values.length; i++) {
        const p = byRank.get(i);
        expect({ value: p?.value, step: p?.step, host: p?.worker?.host }).toEqual({ value: values[i], step: BigInt(steps[i] ?? 0), host: hosts[i] });
        expect(Object.is(p?.value, values[i]), `value ${values[i]}`).toBe(true);
      }
    });

    it("refuses bad input with the documented code and a message saying what to fix", async () => {
      const runId = await newRun();
      const batch = (over: object) => ({ runId, batchId: unique("b"), points: points("loss", [1], () => 1), ...over });
      await expectCode(experiments().logMetrics(batch({ points: points("loss", range(0, 10_001), () => 1) })), Code.InvalidArgument, "limit is 10000");
      await expectCode(experiments().logMetrics(batch({ points: [] })), Code.InvalidArgument, "no points");
      await expectCode(experiments().logMetrics(batch({ points: points("k".repeat(251), [1], () => 1) })), Code.InvalidArgument, "limit is 250");
      await expectCode(experiments().logMetrics(batch({ points: points("bad\nkey", [1], () => 1) })), Code.InvalidArgument, "points[0].key");
      await expectCode(experiments().logMetrics(batch({ points: points("ünï", [1], () => 1) })), Code.InvalidArgument, "letters, digits");
      await expectCode(experiments().logMetrics(batch({ points: [{ key: "loss", value: 1, step: 2n ** 60n }] })), Code.InvalidArgument, "points[0].step");
      await expectCode(experiments().logMetrics(batch({ batchId: "" })), Code.InvalidArgument, "batch_id");
      await expectCode(experiments().logMetrics(batch({ runId: "run_00000000000000000000000000" })), Code.NotFound, "not found");
      await expectCode(experiments().logMetrics(batch({ runId: "nonsense" })), Code.NotFound, '"nonsense" not found');
      await expectCode(experiments().streamMetrics(streamOf([batch({}), batch({ runId: "nonsense" })])), Code.NotFound, "nonsense");
      await expectCode(experiments().getRun({ runId: "run_00000000000000000000000000" }), Code.NotFound, "not found");
      await expectCode(experiments().getMetricHistory({ key: "loss", runIds: [runId, "nope"] }), Code.NotFound, '"nope"');
      await expectCode(experiments().getMetricHistory({ key: "loss", runIds: [runId], maxPoints: 1 }), Code.InvalidArgument, "max_points");
      await expectCode(experiments().getMetricHistory({ key: "loss", runIds: [runId], pageToken: "garbage" }), Code.InvalidArgument, "page_token");
      await expectCode(experiments().logParams({ runId, params: { [" ".repeat(3) + "\u0000"]: "x" } }), Code.InvalidArgument, "params key");
      await expectCode(experiments().createRun({ project: "../etc", experiment: "e" }), Code.InvalidArgument, "project");
      await expectCode(experiments().createRun({ project: "p", experiment: "e", rank: -1 }), Code.InvalidArgument, "rank");
      // Only the streamed batch before the failing message was written.
      expect((await seriesOf(runId, "loss")).length).toBe(1);
    });

    it("refuses every method of ProjectService and ExperimentService without an API key", async () => {
      for (const service of [ProjectService, ExperimentService]) {
        const anonymous = createClient(service, server.transports.grpc) as unknown as Record<string, (input: unknown) => Promise<unknown>>;
        for (const method of service.methods) {
          const input = method.methodKind === "client_streaming" ? streamOf([{}]) : {};
          await expectCode(anonymous[method.localName]!(input), Code.Unauthenticated, "missing API key");
        }
      }
    });
  });
});
