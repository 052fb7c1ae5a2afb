/**
 * A pipeline run's DAG as users rely on it, on both backends: a failure skips
 * what waits downstream, writes are idempotent under retry (the first end
 * wins), cycles are refused whichever way they would close, a cache key reuses
 * only an earlier success of the same pipeline, and a fan-out of 500 instances
 * is one node collapsed and 500 expanded.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const external = (name: string) => ({ ref: { case: "external" as const, value: { namespace: "s3://dag", name, facets: "" } } });
/** The error code of a call, or "no error". */
const codeOf = (p: Promise<unknown>) => p.then(() => "no error", (e: unknown) => Code[ConnectError.from(e).code]);
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

describe.each(backends())("pipeline DAGs on $name", (backend) => {
  let server: TestServer;
  let n = 0;
  const pipelines = () => server.client(PipelineService);
  const newRun = async (pipeline = `dag-${++n}`) => (await pipelines().startPipelineRun({ pipeline, createPipeline: true })).run?.id ?? "";
  const statuses = async (runId: string) =>
    Object.fromEntries((await pipelines().getPipelineRun({ pipelineRunId: runId })).steps.map((s) => [s.name, StepStatus[s.status]]));

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("skips the pending steps downstream of a failure, transitively, and the rest when the run finishes", async () => {
      const runId = await newRun();
      const start = (name: string, upstream: string[], pending = true) => pipelines().startStep({ pipelineRunId: runId, name, upstream, pending });
      await start("prepare", [], false);
      await start("train", ["prepare"], false);
      await start("evaluate", ["train"]);
      await start("publish", ["evaluate"]);
      // Downstream through the data: reads what train will write.
      await pipelines().startStep({ pipelineRunId: runId, name: "report", pending: true, inputs: [external(`metrics-${n}`)] });
      await start("docs", ["prepare"]);
      await pipelines().recordStepIO({ stepId: (await pipelines().startStep({ pipelineRunId: runId, name: "train" })).step?.id ?? "", outputs: [external(`metrics-${n}`)] });
      await pipelines().finishStep({ pipelineRunId: runId, name: "prepare", status: StepStatus.SUCCEEDED });
      const failed = await pipelines().finishStep({ pipelineRunId: runId, name: "train", status: StepStatus.FAILED, message: "CUDA out of memory" });
      expect(failed.step?.message).toBe("CUDA out of memory");

      expect(await statuses(runId)).toEqual({ prepare: "SUCCEEDED", train: "FAILED", evaluate: "SKIPPED", publish: "SKIPPED", report: "SKIPPED", docs: "PENDING" });
      // A skipped step started late stays skipped.
      expect((await pipelines().startStep({ pipelineRunId: runId, name: "evaluate", upstream: ["train"] })).step?.status).toBe(StepStatus.SKIPPED);

      const ended = await pipelines().finishPipelineRun({ pipelineRunId: runId, status: PipelineRunStatus.FAILED });
      expect(ended.run?.stepCounts).toEqual({ succeeded: 1, failed: 1, skipped: 4 });
      expect((await statuses(runId)).docs).toBe("SKIPPED");
      const skipped = (await pipelines().getPipelineRun({ pipelineRunId: runId, expandInstances: true })).steps.find((s) => s.name === "docs")?.instances[0];
      expect(skipped?.endTime).toBeDefined();
    });

    it("answers retries as the first call: StartPipelineRun, StartStep, FinishStep (the first end wins) and RecordStepIO", async () => {
      const pipeline = `retries-${++n}`;
      const first = await pipelines().startPipelineRun({ pipeline, createPipeline: true, requestId: "req-1", trigger: "schedule", params: { date: "2026-11-29" } });
      const again = await pipelines().startPipelineRun({ pipeline, createPipeline: true, requestId: "req-1", trigger: "schedule", params: { date: "2026-11-29" } });
      expect(again.run?.id).toBe(first.run?.id);
      const other = await pipelines().startPipelineRun({ pipeline, requestId: "req-2" });
      expect(other.run?.id).not.toBe(first.run?.id);
      // Concurrent retries of one request: one run.
      const raced = await Promise.all(Array.from({ length: 5 }, () => pipelines().startPipelineRun({ pipeline, requestId: "req-3" })));
      expect(new Set(raced.map((r) => r.run?.id)).size).toBe(1);
      expect((await pipelines().listPipelineRuns({ pipeline })).runs).toHaveLength(3);
      // A pipeline created by concurrent retries over every protocol: one pipeline, one run.
      const fresh = `retries-fresh-${n}`;
      const transports = ["grpc", "connectH1", "connectH2", "grpcWeb"] as const;
      const created = await Promise.all(transports.map((t) => server.client(PipelineService, t).startPipelineRun({ pipeline: fresh, createPipeline: true, project: "p", requestId: "req-1" })));
      expect(new Set(created.map((r) => r.run?.id)).size).toBe(1);
      expect((await pipelines().listPipelineRuns({ pipeline: fresh })).runs).toHaveLength(1);
      expect((await pipelines().getPipeline({ name: fresh })).pipeline?.project).toBe("p");

      const runId = first.run?.id ?? "";
      const a = await pipelines().startStep({ pipelineRunId: runId, name: "a" });
      const a2 = await pipelines().startStep({ pipelineRunId: runId, name: "a" });
      expect(a2.step?.id).toBe(a.step?.id);
      await pipelines().startStep({ pipelineRunId: runId, name: "b", upstream: ["a"], pending: true });

      const done = await pipelines().finishStep({ stepId: a.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [external(`a-${n}`)] });
      const twice = await pipelines().finishStep({ stepId: a.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [external(`a-${n}`)] });
      expect(twice.step?.endTime).toEqual(done.step?.endTime);
      // A late end with another status leaves the first, and does not skip what waits downstream.
      const late = await pipelines().finishStep({ pipelineRunId: runId, name: "a", status: StepStatus.FAILED, message: "late" });
      expect({ status: late.step?.status, message: late.step?.message, end: late.step?.endTime }).toEqual({ status: StepStatus.SUCCEEDED, message: "", end: done.step?.endTime });
      expect(await statuses(runId)).toEqual({ a: "SUCCEEDED", b: "PENDING" });

      const b = await pipelines().startStep({ pipelineRunId: runId, name: "b", upstream: ["a"] });
      for (let i = 0; i < 2; i++) await pipelines().recordStepIO({ stepId: b.step?.id ?? "", inputs: [external(`a-${n}`), external(`a-${n}`)], outputs: [external(`b-${n}`)] });
      const dag = await pipelines().getPipelineRun({ pipelineRunId: runId });
      const stepB = dag.steps.find((s) => s.name === "b");
      expect({ inputs: stepB?.inputs.length, outputs: stepB?.outputs.length, upstream: stepB?.upstream }).toEqual({ inputs: 1, outputs: 1, upstream: ["a"] });
      expect(dag.edges.map((e) => [e.from, e.to, e.fromData]).sort()).toEqual([["a", "b", false], ["a", "b", true]]);

      const ended = await pipelines().finishPipelineRun({ pipelineRunId: runId, status: PipelineRunStatus.SUCCEEDED });
      const endedAgain = await pipelines().finishPipelineRun({ pipelineRunId: runId, status: PipelineRunStatus.ABORTED });
      expect({ status: endedAgain.run?.status, end: endedAgain.run?.endTime }).toEqual({ status: PipelineRunStatus.SUCCEEDED, end: ended.run?.endTime });
    });

    it("refuses a cycle through the data, through a declared upstream on a retry, and through a new instance of a step", async () => {
      const runId = await newRun();
      const x = external(`x-${n}`);
      const y = external(`y-${n}`);
      const a = await pipelines().startStep({ pipelineRunId: runId, name: "A" });
      await pipelines().recordStepIO({ stepId: a.step?.id ?? "", outputs: [x] });
      const b = await pipelines().startStep({ pipelineRunId: runId, name: "B", inputs: [x] });
      await pipelines().recordStepIO({ stepId: b.step?.id ?? "", outputs: [y] });
      const refused = await errorOf(pipelines().recordStepIO({ stepId: a.step?.id ?? "", inputs: [y] }));
      expect(refused?.code).toBe(Code.FailedPrecondition);
      expect(refused?.rawMessage).toContain("cycle");
      // The same through StartStep's inputs on a retry.
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "A", inputs: [y] }))).toBe("FailedPrecondition");

      // Declared: C after B; then a retry of B naming C upstream.
      await pipelines().startStep({ pipelineRunId: runId, name: "C", upstream: ["B"] });
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "B", upstream: ["C"] }))).toBe("FailedPrecondition");
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "A", upstream: ["C"] }))).toBe("FailedPrecondition");
      // A new instance of a fan-out step is the same step: it cannot come after its own downstream.
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "B", instance: 1, upstream: ["C"] }))).toBe("FailedPrecondition");
      // Nothing refused was recorded: the DAG still is A → B → C.
      const dag = await pipelines().getPipelineRun({ pipelineRunId: runId });
      expect(dag.steps.map((s) => [s.name, s.instanceCount])).toEqual([["A", 1], ["B", 1], ["C", 1]]);
      expect(dag.edges.map((e) => [e.from, e.to]).sort()).toEqual([["A", "B"], ["B", "C"]]);
      expect(dag.steps.find((s) => s.name === "A")?.inputs).toEqual([]);
    });

    it("caches a step only on an earlier success of the same pipeline, and copies its outputs", async () => {
      const pipeline = `cache-${++n}`;
      const first = await newRun(pipeline);
      const ok = await pipelines().startStep({ pipelineRunId: first, name: "features", cacheKey: "sha-ok" });
      await pipelines().finishStep({ stepId: ok.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [external(`features-${n}`), external(`stats-${n}`)] });
      const bad = await pipelines().startStep({ pipelineRunId: first, name: "train", cacheKey: "sha-bad" });
      await pipelines().finishStep({ stepId: bad.step?.id ?? "", status: StepStatus.FAILED });
      // Within the same run, a second instance with the key is not a hit.
      const sameRun = await pipelines().startStep({ pipelineRunId: first, name: "features", instance: 1, cacheKey: "sha-ok" });
      expect(sameRun.cached).toBe(false);

      const second = await newRun(pipeline);
      const hit = await pipelines().startStep({ pipelineRunId: second, name: "features", cacheKey: "sha-ok" });
      expect({ cached: hit.cached, status: StepStatus[hit.step?.status ?? 0], from: hit.step?.cachedFrom, ended: hit.step?.endTime !== undefined }).toEqual({
        cached: true,
        status: "CACHED",
        from: ok.step?.id,
        ended: true,
      });
      // A retry says the same.
      expect((await pipelines().startStep({ pipelineRunId: second, name: "features", cacheKey: "sha-ok" })).cached).toBe(true);
      const miss = await pipelines().startStep({ pipelineRunId: second, name: "train", cacheKey: "sha-bad" });
      expect({ cached: miss.cached, status: miss.step?.status, from: miss.step?.cachedFrom }).toEqual({ cached: false, status: StepStatus.RUNNING, from: "" });
      const dag = await pipelines().getPipelineRun({ pipelineRunId: second });
      const features = dag.steps.find((s) => s.name === "features");
      expect(features?.outputs.map((o) => (o.ref.case === "external" ? o.ref.value.name : "")).sort()).toEqual([`features-${n}`, `stats-${n}`]);
      expect(features?.status).toBe(StepStatus.CACHED);
      // The copied outputs make edges like any others.
      await pipelines().startStep({ pipelineRunId: second, name: "train2", inputs: [external(`features-${n}`)] });
      expect((await pipelines().getPipelineRun({ pipelineRunId: second })).edges.map((e) => [e.from, e.to, e.fromData])).toContainEqual(["features", "train2", true]);

      // Copied outputs that one of the step's own upstream steps reads would close a cycle: refused, nothing recorded.
      const third = await newRun(pipeline);
      await pipelines().startStep({ pipelineRunId: third, name: "consumer", inputs: [external(`features-${n}`)] });
      expect(await codeOf(pipelines().startStep({ pipelineRunId: third, name: "features", cacheKey: "sha-ok", upstream: ["consumer"] }))).toBe("FailedPrecondition");
      expect((await pipelines().getPipelineRun({ pipelineRunId: third })).steps.map((s) => s.name)).toEqual(["consumer"]);

      // Another pipeline with the same key and step name never hits.
      const elsewhere = await newRun(`cache-other-${n}`);
      const foreign = await pipelines().startStep({ pipelineRunId: elsewhere, name: "features", cacheKey: "sha-ok" });
      expect({ cached: foreign.cached, status: foreign.step?.status }).toEqual({ cached: false, status: StepStatus.RUNNING });
    });

    it("shows a fan-out of 500 instances as one node collapsed and 500 expanded, and refuses an expansion past 50,000 edges", async () => {
      const runId = await newRun();
      await pipelines().startStep({ pipelineRunId: runId, name: "split" });
      await pipelines().finishStep({ pipelineRunId: runId, name: "split", status: StepStatus.SUCCEEDED });
      const FAN = 500;
      for (let at = 0; at < FAN; at += 25) {
        await Promise.all(
          Array.from({ length: 25 }, async (_, i) => {
            const s = await pipelines().startStep({ pipelineRunId: runId, name: "score", instance: at + i, upstream: ["split"] });
            await pipelines().finishStep({ stepId: s.step?.id ?? "", status: (at + i) % 100 === 7 ? StepStatus.FAILED : StepStatus.SUCCEEDED });
          }),
        );
      }
      await pipelines().startStep({ pipelineRunId: runId, name: "gather", upstream: ["score"] });

      const collapsed = await pipelines().getPipelineRun({ pipelineRunId: runId });
      const score = collapsed.steps.find((s) => s.name === "score");
      expect({ count: score?.instanceCount, byStatus: score?.instancesByStatus, status: score?.status, listed: score?.instances.length }).toEqual({
        count: FAN,
        byStatus: { succeeded: FAN - 5, failed: 5 },
        status: StepStatus.FAILED,
        listed: 0,
      });
      const expanded = await pipelines().getPipelineRun({ pipelineRunId: runId, expandInstances: true });
      expect(expanded.steps.find((s) => s.name === "score")?.instances.map((i) => i.instance)).toEqual(Array.from({ length: FAN }, (_, i) => i));
      // One step's instances only (a UI's step detail): the others stay collapsed.
      const one = await pipelines().getPipelineRun({ pipelineRunId: runId, instancesOfStep: "split" });
      expect(one.steps.map((s) => [s.name, s.instances.length])).toEqual([["split", 1], ["score", 0], ["gather", 0]]);

      const graph = await pipelines().getPipelineGraph({ pipelineRunId: runId });
      expect(graph.nodes.map((x) => [x.id, x.instanceCount, x.layer])).toEqual([["split", 1, 0], ["score", FAN, 1], ["gather", 1, 2]]);
      expect(graph.edges.map((e) => [e.from, e.to]).sort()).toEqual([["score", "gather"], ["split", "score"]]);
      expect(graph.mermaid).toContain("score ×500");
      const wide = await pipelines().getPipelineGraph({ pipelineRunId: runId, expand: true });
      expect(wide.nodes).toHaveLength(FAN + 2);
      expect(wide.nodes.filter((x) => x.status === StepStatus.FAILED).map((x) => x.id)).toEqual(["score[7]", "score[107]", "score[207]", "score[307]", "score[407]"]);
      expect(wide.edges).toHaveLength(2 * FAN);
      expect(wide.edges.filter((e) => e.to === "score[42]").map((e) => e.from)).toEqual(["split"]);
      expect(wide.edges.filter((e) => e.from === "score[42]").map((e) => e.to)).toEqual(["gather"]);
      expect(wide.dot.match(/->/g)).toHaveLength(2 * FAN);

      // A second fan-out of 101 after all 500: 50,500 edges expanded.
      for (let at = 0; at < 101; at += 25) {
        await Promise.all(Array.from({ length: Math.min(25, 101 - at) }, (_, i) => pipelines().startStep({ pipelineRunId: runId, name: "rank", instance: at + i, upstream: ["score"] })));
      }
      const refused = await errorOf(pipelines().getPipelineGraph({ pipelineRunId: runId, expand: true }));
      expect(refused?.code).toBe(Code.ResourceExhausted);
      expect(refused?.rawMessage).toMatch(/50,?000/);
      expect(refused?.rawMessage).toContain("collapsed");
      expect((await pipelines().getPipelineGraph({ pipelineRunId: runId })).nodes.map((x) => [x.id, x.instanceCount, x.layer]).sort()).toEqual([["gather", 1, 2], ["rank", 101, 2], ["score", FAN, 1], ["split", 1, 0]]);
    });
  });
});
