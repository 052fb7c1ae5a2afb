/**
 * Run.latest_metrics on both backends: every run a call returns carries the
 * latest point of each metric it logged (the highest step, then the latest
 * timestamp, then the last written), as SearchRuns' thresholds read it.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExperimentService,
  type LatestMetric,
  type MetricPointSchema,
  MetricThreshold_Op,
  RunStatus,
} from "../../gen/traintrack/v1/experiment_pb.js";
import { latestMetricsOf } from "../../src/db/latest-metrics-repo.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

type PointInit = MessageInitShape<typeof MetricPointSchema>;
type Experiments = Client<typeof ExperimentService>;

const T0 = Date.UTC(2026, 0, 1);
const point = (key: string, step: number, value: number, tsMs?: number, worker?: { rank: number; host: string }): PointInit => ({
  key,
  value,
  step: BigInt(step),
  timestamp: tsMs === undefined ? undefined : timestampFromMs(tsMs),
  worker,
});
/** Latest metrics as comparable tuples: [key, value, step, tsMs]. */
const flat = (latest: LatestMetric[] | undefined) =>
  (latest ?? []).map((m) => [m.key, m.value, Number(m.step), m.timestamp ? timestampMs(m.timestamp) : undefined]);

describe.each(backends())("latest metric values on runs on $name", (backend) => {
  let server: TestServer;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;
  const experiments = (): Experiments => server.client(ExperimentService);
  const newRun = async (project = unique("p")) => (await experiments().createRun({ project, experiment: "e" })).run?.runId ?? "";
  const log = (runId: string, batchId: string, points: PointInit[]) => experiments().logMetrics({ runId, batchId, points });
  const latestOf = async (runId: string) => flat((await experiments().getRun({ runId })).run?.latestMetrics);

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("a run with no metrics has none, from CreateRun on", async () => {
      const created = (await experiments().createRun({ project: unique("p"), experiment: "e" })).run;
      expect(created?.latestMetrics).toEqual([]);
      expect(await latestOf(created?.runId ?? "")).toEqual([]);
    });

    it("the latest point is the highest step, not the last written; a later write with a lower step changes nothing", async () => {
      const runId = await newRun();
      await log(runId, "1", [point("loss", 1, 0.9, T0), point("loss", 5, 0.5, T0 + 5), point("loss", 3, 0.7, T0 + 3)]);
      expect(await latestOf(runId)).toEqual([["loss", 0.5, 5, T0 + 5]]);
      // A slow rank's late points at lower steps, with later timestamps.
      await log(runId, "2", [point("loss", 2, 0.1, T0 + 100), point("loss", 4, 0.2, T0 + 101)]);
      expect(await latestOf(runId)).toEqual([["loss", 0.5, 5, T0 + 5]]);
      await log(runId, "3", [point("loss", 6, 0.4, T0 + 6)]);
      expect(await latestOf(runId)).toEqual([["loss", 0.4, 6, T0 + 6]]);
    });

    it("ties on the step go to the latest timestamp, then to the last written", async () => {
      const runId = await newRun();
      // The later timestamp wins though it was written first.
      await log(runId, "1", [point("acc", 10, 0.8, T0 + 2), point("acc", 10, 0.7, T0 + 1)]);
      expect(await latestOf(runId)).toEqual([["acc", 0.8, 10, T0 + 2]]);
      // Same step and timestamp: the last written, within a batch and across batches.
      await log(runId, "2", [point("acc", 10, 0.81, T0 + 2), point("acc", 10, 0.82, T0 + 2)]);
      expect(await latestOf(runId)).toEqual([["acc", 0.82, 10, T0 + 2]]);
      await log(runId, "3", [point("acc", 10, 0.83, T0 + 2)]);
      expect(await latestOf(runId)).toEqual([["acc", 0.83, 10, T0 + 2]]);
      // An earlier timestamp at that step, written last, is not latest.
      await log(runId, "4", [point("acc", 10, 0.1, T0)]);
      expect(await latestOf(runId)).toEqual([["acc", 0.83, 10, T0 + 2]]);
    });

    it("NaN and the infinities are returned as stored, over gRPC and Connect JSON", async () => {
      const runId = await newRun();
      await log(runId, "1", [
        point("loss", 1, 0.3),
        point("loss", 2, Number.NaN, T0),
        point("grad", 7, Number.POSITIVE_INFINITY, T0),
        point("lr", 7, Number.NEGATIVE_INFINITY, T0),
      ]);
      expect(await latestOf(runId)).toEqual([
        ["grad", Number.POSITIVE_INFINITY, 7, T0],
        ["loss", Number.NaN, 2, T0],
        ["lr", Number.NEGATIVE_INFINITY, 7, T0],
      ]);
      // What curl gets.
      const res = await fetch(`${server.baseUrl}/traintrack.v1.ExperimentService/GetRun`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${server.apiKey}` },
        body: JSON.stringify({ runId }),
      });
      const json = (await res.json()) as { run: { latestMetrics: unknown } };
      expect(json.run.latestMetrics).toEqual([
        { key: "grad", value: "Infinity", step: "7", timestamp: "2026-01-01T00:00:00Z" },
        { key: "loss", value: "NaN", step: "2", timestamp: "2026-01-01T00:00:00Z" },
        { key: "lr", value: "-Infinity", step: "7", timestamp: "2026-01-01T00:00:00Z" },
      ]);
    });

    it("every key has its own latest point, listed by key, and each equals the last point of its raw history", async () => {
      const runId = await newRun();
      const keys = ["val/loss", "acc", "Loss", "loss", "lr", "train loss", "z-score"];
      // Shuffled steps with repeats (ties on step, timestamp and arrival), in several batches and ranks.
      for (let b = 0; b < 4; b++) {
        const points = Array.from({ length: 2500 }, (_, i) => {
          const n = b * 2500 + i;
          const key = keys[(n * 31) % keys.length] as string;
          return point(key, (n * 7919) % 1500, Math.sin(n), T0 + ((n * 13) % 5), { rank: b % 2, host: "h" });
        });
        await log(runId, `b${b}`, points);
      }
      const got = await latestOf(runId);
      expect(got.map(([key]) => key)).toEqual([...keys].sort());
      for (const [key, value, step, ts] of got) {
        const pages = await experiments().getMetricHistory({ key: String(key), runIds: [runId], pageSize: 100_000 });
        const last = pages.series[0]?.points.at(-1);
        expect([value, step, ts], String(key)).toEqual([last?.value, Number(last?.step), last?.timestamp ? timestampMs(last.timestamp) : undefined]);
      }
    });

    it("a resent batch changes nothing, whatever it holds", async () => {
      const runId = await newRun();
      await log(runId, "b1", [point("loss", 100, 1, T0)]);
      const resent = await log(runId, "b1", [point("loss", 200, 9, T0 + 1), point("acc", 1, 1)]);
      expect(resent.deduplicated).toBe(true);
      expect(await latestOf(runId)).toEqual([["loss", 1, 100, T0]]);
      const streamed = await experiments().streamMetrics(
        (async function* () {
          yield { runId, batchId: "b1", points: [point("loss", 300, 3)] };
        })(),
      );
      expect(streamed.batchesDeduplicated).toBe(1);
      expect(await latestOf(runId)).toEqual([["loss", 1, 100, T0]]);
    });

    it("ListRuns and SearchRuns pages carry them, matching the thresholds SearchRuns applies", async () => {
      const project = unique("pages");
      const a = await newRun(project);
      const b = await newRun(project);
      const c = await newRun(project);
      await log(a, "1", [point("loss", 1, 0.9, T0), point("loss", 2, 0.2, T0), point("acc", 2, 0.6, T0)]);
      // b: the lower step arrived last; its latest is 0.8.
      await log(b, "1", [point("loss", 5, 0.8, T0), point("loss", 1, 0.1, T0)]);
      await experiments().updateRunStatus({ runId: a, status: RunStatus.FINISHED });

      const listed = (await experiments().listRuns({ project })).runs;
      expect(listed.map((r) => [r.runId, flat(r.latestMetrics)])).toEqual([
        [c, []],
        [b, [["loss", 0.8, 5, T0]]],
        [a, [["acc", 0.6, 2, T0], ["loss", 0.2, 2, T0]]],
      ]);
      const below = (await experiments().searchRuns({ project, metrics: [{ key: "loss", op: MetricThreshold_Op.LESS, value: 0.5 }] })).runs;
      expect(below.map((r) => [r.runId, flat(r.latestMetrics)])).toEqual([[a, [["acc", 0.6, 2, T0], ["loss", 0.2, 2, T0]]]]);
      const above = (await experiments().searchRuns({ project, metrics: [{ key: "loss", op: MetricThreshold_Op.GREATER, value: 0.5 }] })).runs;
      expect(above.map((r) => r.latestMetrics.find((m) => m.key === "loss")?.value)).toEqual([0.8]);
      // Every response that returns a run carries them.
      expect(flat((await experiments().setRunTags({ runId: b, tags: { t: "1" } })).run?.latestMetrics)).toEqual([["loss", 0.8, 5, T0]]);
      expect(flat((await experiments().updateRunStatus({ runId: b, status: RunStatus.KILLED })).run?.latestMetrics)).toEqual([["loss", 0.8, 5, T0]]);
    });

    it("a page of 150 runs carries each run's own latest values", async () => {
      const project = unique("big-page");
      const ids: string[] = [];
      for (let i = 0; i < 150; i++) {
        const runId = await newRun(project);
        ids.push(runId);
        if (i % 3 !== 0) await log(runId, "1", [point("loss", i, i / 10, T0 + i), point("step_time", i * 2, i, T0)]);
      }
      const runs = (await experiments().listRuns({ project, pageSize: 1000 })).runs;
      expect(runs.map((r) => r.runId)).toEqual([...ids].reverse());
      for (const r of runs) {
        const i = ids.indexOf(r.runId);
        expect(flat(r.latestMetrics)).toEqual(i % 3 === 0 ? [] : [["loss", i / 10, i, T0 + i], ["step_time", i, i * 2, T0]]);
      }
    });

    it("another organisation's runs are never visible, nor theirs in ours", async () => {
      const project = unique("private");
      const mine = await newRun(project);
      await log(mine, "1", [point("loss", 1, 0.5, T0)]);
      const theirKey = await server.newOrganization(unique("org"));
      const theirs = server.client(ExperimentService, "grpc", theirKey);
      const error = await theirs.getRun({ runId: mine }).then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(error?.code).toBe(Code.NotFound);
      const own = (await theirs.createRun({ project, experiment: "e" })).run?.runId ?? "";
      await theirs.logMetrics({ runId: own, batchId: "1", points: [point("loss", 9, 0.1, T0)] });
      expect(flat((await theirs.listRuns({ project })).runs[0]?.latestMetrics)).toEqual([["loss", 0.1, 9, T0]]);
      expect((await theirs.listRuns({ project })).runs.map((r) => r.runId)).toEqual([own]);
      expect(await latestOf(mine)).toEqual([["loss", 0.5, 1, T0]]);

      // Below the API too: the query itself is scoped to the organisation.
      const orgOf = async (runId: string) =>
        (await server.app.db.selectFrom("runs").select("orgId").where("id", "=", runId).executeTakeFirstOrThrow()).orgId;
      const [myOrg, theirOrg] = [await orgOf(mine), await orgOf(own)];
      const seen = await latestMetricsOf(server.app.db, myOrg, [mine, own], 100);
      expect([...seen.keys()]).toEqual([mine]);
      expect([...(await latestMetricsOf(server.app.db, theirOrg, [mine], 100)).keys()]).toEqual([]);
    });
  });
});
