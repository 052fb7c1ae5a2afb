/**
 * Recording many steps at once (RecordSteps), the write-time limits of a run's
 * graph, what ending a run does to steps left open, and facets read back, on
 * both backends.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const external = (name: string) => ({ ref: { case: "external" as const, value: { namespace: "s3://batch", name, facets: "" } } });
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));

describe.each(backends())("recording steps in bulk on $name", (backend) => {
  let server: TestServer;
  let n = 0;
  const pipelines = () => server.client(PipelineService);
  const newRun = async (pipeline = `batch-${++n}`) => (await pipelines().startPipelineRun({ pipeline, createPipeline: true })).run?.id ?? "";
  const statuses = async (runId: string) =>
    Object.fromEntries((await pipelines().getPipelineRun({ pipelineRunId: runId })).steps.map((s) => [s.name, StepStatus[s.status]]));

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("records a DAG in one call as StartStep and FinishStep would, and a retry of the call changes nothing", async () => {
      const runId = await newRun();
      const began = new Date("2026-11-29T10:00:00Z");
      const steps = [
        { name: "extract", status: StepStatus.SUCCEEDED, outputs: [external(`raw-${n}`)], startTime: timestampFromDate(began) },
        ...[0, 1, 2].map((i) => ({ name: "features", instance: i, upstream: ["extract"], inputs: [external(`raw-${n}`)], status: StepStatus.SUCCEEDED })),
        { name: "train", upstream: ["features"], status: StepStatus.FAILED, message: "CUDA out of memory" },
        { name: "evaluate", upstream: ["train"], status: StepStatus.PENDING },
        { name: "report", upstream: ["extract"], status: StepStatus.RUNNING },
      ];
      const first = await pipelines().recordSteps({ pipelineRunId: runId, steps });
      expect(first.steps.map((s) => StepStatus[s.status])).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED", "SKIPPED", "RUNNING"]);
      expect(first.steps[0]?.startTime?.seconds).toBe(BigInt(began.getTime() / 1000));
      expect(first.steps[4]?.message).toBe("CUDA out of memory");

      const dag = await pipelines().getPipelineRun({ pipelineRunId: runId });
      expect(dag.steps.map((s) => s.name).sort()).toEqual(["evaluate", "extract", "features", "report", "train"]);
      expect(dag.steps[0]?.name).toBe("extract");
      expect(dag.steps.find((s) => s.name === "features")?.instanceCount).toBe(3);
      expect(dag.edges.filter((e) => !e.fromData).map((e) => `${e.from}->${e.to}`).sort()).toEqual(["extract->features", "extract->report", "features->train", "train->evaluate"]);
      expect(dag.edges.some((e) => e.fromData && e.from === "extract" && e.to === "features")).toBe(true);

      // The retry finds every instance; the first end of each wins, so "report" does not end.
      const again = await pipelines().recordSteps({ pipelineRunId: runId, steps: steps.map((s) => (s.name === "train" ? { ...s, status: StepStatus.SUCCEEDED } : s)) });
      expect(again.steps.map((s) => s.id)).toEqual(first.steps.map((s) => s.id));
      expect(await statuses(runId)).toEqual({ extract: "SUCCEEDED", features: "SUCCEEDED", train: "FAILED", evaluate: "SKIPPED", report: "RUNNING" });
      // A later call ends a step started by an earlier one.
      const ended = await pipelines().recordSteps({ pipelineRunId: runId, steps: [{ name: "report", status: StepStatus.SUCCEEDED }] });
      expect(ended.steps[0]?.id).toBe(first.steps[6]?.id);
      expect(ended.steps[0]?.status).toBe(StepStatus.SUCCEEDED);
    });

    it("reuses an earlier success of the pipeline by cache key, outputs included", async () => {
      const pipeline = `batch-cache-${++n}`;
      const earlier = await newRun(pipeline);
      await pipelines().recordSteps({ pipelineRunId: earlier, steps: [{ name: "prep", cacheKey: "h1", status: StepStatus.SUCCEEDED, outputs: [external(`prep-${n}`)] }] });
      const later = await newRun(pipeline);
      const { steps } = await pipelines().recordSteps({ pipelineRunId: later, steps: [{ name: "prep", cacheKey: "h1", status: StepStatus.RUNNING }, { name: "train", upstream: ["prep"], status: StepStatus.SUCCEEDED }] });
      expect(steps[0]?.status).toBe(StepStatus.CACHED);
      expect(steps[0]?.cachedFrom).not.toBe("");
      const prep = (await pipelines().getPipelineRun({ pipelineRunId: later })).steps.find((s) => s.name === "prep");
      expect(prep?.outputs.map((o) => (o.ref.case === "external" ? o.ref.value.name : ""))).toEqual([`prep-${n}`]);
    });

    it("refuses the whole call on an unknown upstream name, a cycle through the data, or a step named twice", async () => {
      const runId = await newRun();
      const unknown = await errorOf(
        pipelines().recordSteps({ pipelineRunId: runId, steps: [{ name: "a", status: StepStatus.SUCCEEDED }, { name: "b", upstream: ["c"], status: StepStatus.SUCCEEDED }, { name: "c", status: StepStatus.SUCCEEDED }] }),
      );
      expect(unknown?.code).toBe(Code.InvalidArgument);
      expect(unknown?.rawMessage).toContain('upstream step "c"');
      // Nothing was written: "a" is not a step of the run.
      expect(await statuses(runId)).toEqual({});

      // b comes after a, and a reads what b writes: a cycle through the data.
      const cycle = await errorOf(
        pipelines().recordSteps({
          pipelineRunId: runId,
          steps: [
            { name: "a", inputs: [external(`loop-${n}`)], status: StepStatus.SUCCEEDED },
            { name: "b", upstream: ["a"], outputs: [external(`loop-${n}`)], status: StepStatus.SUCCEEDED },
          ],
        }),
      );
      expect(cycle?.code).toBe(Code.FailedPrecondition);
      expect(await statuses(runId)).toEqual({});

      // The same through a step already in the run.
      await pipelines().recordSteps({ pipelineRunId: runId, steps: [{ name: "a", inputs: [external(`loop2-${n}`)], status: StepStatus.SUCCEEDED }] });
      const later = await errorOf(pipelines().recordSteps({ pipelineRunId: runId, steps: [{ name: "b", upstream: ["a"], outputs: [external(`loop2-${n}`)], status: StepStatus.SUCCEEDED }] }));
      expect(later?.code).toBe(Code.FailedPrecondition);

      const twice = await errorOf(pipelines().recordSteps({ pipelineRunId: runId, steps: [{ name: "x", status: StepStatus.RUNNING }, { name: "x", status: StepStatus.SUCCEEDED }] }));
      expect(twice?.code).toBe(Code.InvalidArgument);
      const tooMany = await errorOf(pipelines().recordSteps({ pipelineRunId: runId, steps: Array.from({ length: 1001 }, (_, i) => ({ name: `m${i}`, status: StepStatus.SUCCEEDED })) }));
      expect(tooMany?.code).toBe(Code.InvalidArgument);
      expect(tooMany?.rawMessage).toContain("at most 1000 steps per call");
    });

    it("refuses a step past 1,000 upstream steps, and a run past 50,000 declared edges, saying the limit", async () => {
      const runId = await newRun();
      const names = Array.from({ length: 1000 }, (_, i) => `u${i}`);
      await pipelines().recordSteps({ pipelineRunId: runId, steps: names.map((name) => ({ name, status: StepStatus.SUCCEEDED })) });
      await pipelines().recordSteps({ pipelineRunId: runId, steps: [{ name: "extra", status: StepStatus.SUCCEEDED }] });
      await pipelines().startStep({ pipelineRunId: runId, name: "join", upstream: names });
      // A new instance of "join" that adds one more upstream step: 1,001 in all.
      const step = await errorOf(pipelines().startStep({ pipelineRunId: runId, name: "join", instance: 1, upstream: ["extra"] }));
      expect(step?.code).toBe(Code.InvalidArgument);
      expect(step?.rawMessage).toContain("the limit is 1000 per step");

      // 49 more steps after all 1,000 (50,000 declared edges in all), then one edge more.
      for (let batch = 0; batch < 49; batch += 10) {
        const steps = Array.from({ length: Math.min(10, 49 - batch) }, (_, i) => ({ name: `fan${batch + i}`, upstream: names, status: StepStatus.SUCCEEDED }));
        await pipelines().recordSteps({ pipelineRunId: runId, steps });
      }
      const edges = await errorOf(pipelines().recordSteps({ pipelineRunId: runId, steps: [{ name: "last", upstream: ["extra"], status: StepStatus.SUCCEEDED }] }));
      expect(edges?.code).toBe(Code.ResourceExhausted);
      expect(edges?.rawMessage).toContain("the limit is 50000 per pipeline run");
      const single = await errorOf(pipelines().startStep({ pipelineRunId: runId, name: "last", upstream: ["extra"] }));
      expect(single?.code).toBe(Code.ResourceExhausted);
    });

    it("leaves no step open when the run ends: running ones fail with a failed run, pending ones are skipped", async () => {
      const failedRun = await newRun();
      await pipelines().recordSteps({
        pipelineRunId: failedRun,
        steps: [{ name: "train", status: StepStatus.RUNNING }, { name: "publish", upstream: ["train"], status: StepStatus.PENDING }],
      });
      const ended = await pipelines().finishPipelineRun({ pipelineRunId: failedRun, status: PipelineRunStatus.ABORTED });
      expect(ended.run?.stepCounts).toEqual({ failed: 1, skipped: 1 });
      const train = (await pipelines().getPipelineRun({ pipelineRunId: failedRun, expandInstances: true })).steps.find((s) => s.name === "train")?.instances[0];
      expect(train?.endTime).toBeDefined();
      expect(train?.message).toContain("while this step was running");

      const succeeded = await newRun();
      await pipelines().startStep({ pipelineRunId: succeeded, name: "background" });
      const done = await pipelines().finishPipelineRun({ pipelineRunId: succeeded, status: PipelineRunStatus.SUCCEEDED });
      expect(done.run?.stepCounts).toEqual({ skipped: 1 });
    });
  });
});
