/**
 * Pipeline tracking as users rely on it, on both backends: a run's steps form
 * a DAG (declared and through the data), fan-outs collapse, a failure skips
 * what waits downstream, caching reuses an earlier result, and cycles are
 * refused.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const external = (name: string) => ({ ref: { case: "external" as const, value: { namespace: "s3://raw", name, facets: "" } } });

describe.each(backends())("pipelines on $name", (backend) => {
  let server: TestServer;
  let n = 0;
  const pipelines = () => server.client(PipelineService);

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("records a DAG with a fan-out, a failure that skips its downstream, and draws it", async () => {
      const name = `nightly-${++n}`;
      const { run } = await pipelines().startPipelineRun({ pipeline: name, createPipeline: true, project: "churn", requestId: "r1" });
      const runId = run?.id ?? "";
      expect((await pipelines().startPipelineRun({ pipeline: name, requestId: "r1" })).run?.id).toBe(runId);
      const extract = await pipelines().startStep({ pipelineRunId: runId, name: "extract" });
      await pipelines().finishStep({ stepId: extract.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [external("day-1")] });
      for (let i = 0; i < 5; i++) {
        const s = await pipelines().startStep({ pipelineRunId: runId, name: "features", instance: i, inputs: [external("day-1")] });
        await pipelines().finishStep({ stepId: s.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [external(`part-${i}`)] });
      }
      await pipelines().startStep({ pipelineRunId: runId, name: "train", upstream: ["features"] });
      await pipelines().startStep({ pipelineRunId: runId, name: "publish", upstream: ["train"], pending: true });
      await pipelines().finishStep({ pipelineRunId: runId, name: "train", status: StepStatus.FAILED, message: "out of memory" });

      const dag = await pipelines().getPipelineRun({ pipelineRunId: runId });
      expect(dag.steps.map((s) => [s.name, StepStatus[s.status], s.instanceCount])).toEqual([
        ["extract", "SUCCEEDED", 1],
        ["features", "SUCCEEDED", 5],
        ["train", "FAILED", 1],
        ["publish", "SKIPPED", 1],
      ]);
      expect(dag.edges.map((e) => [e.from, e.to, e.fromData]).sort()).toEqual([
        ["extract", "features", true],
        ["features", "train", false],
        ["train", "publish", false],
      ]);
      const collapsed = await pipelines().getPipelineGraph({ pipelineRunId: runId });
      expect(collapsed.nodes.map((x) => [x.id, x.layer])).toEqual([["extract", 0], ["features", 1], ["train", 2], ["publish", 3]]);
      expect(collapsed.mermaid).toContain("flowchart LR");
      expect(collapsed.dot).toContain("digraph pipeline");
      const expanded = await pipelines().getPipelineGraph({ pipelineRunId: runId, expand: true });
      expect(expanded.nodes).toHaveLength(8);
      expect(expanded.edges).toHaveLength(5 + 5 + 1);

      const ended = await pipelines().finishPipelineRun({ pipelineRunId: runId, status: PipelineRunStatus.FAILED });
      expect(ended.run?.status).toBe(PipelineRunStatus.FAILED);
    });

    it("caches a step whose key matched an earlier success, and refuses a cycle", async () => {
      const name = `cached-${++n}`;
      const first = (await pipelines().startPipelineRun({ pipeline: name, createPipeline: true })).run?.id ?? "";
      const a = await pipelines().startStep({ pipelineRunId: first, name: "a", cacheKey: "code-v1" });
      await pipelines().finishStep({ stepId: a.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [external("out-a")] });
      const second = (await pipelines().startPipelineRun({ pipeline: name })).run?.id ?? "";
      const again = await pipelines().startStep({ pipelineRunId: second, name: "a", cacheKey: "code-v1" });
      expect({ cached: again.cached, status: again.step?.status, from: again.step?.cachedFrom }).toEqual({ cached: true, status: StepStatus.CACHED, from: a.step?.id });

      const b = await pipelines().startStep({ pipelineRunId: second, name: "b", inputs: [external("out-a")] });
      const refused = await pipelines()
        .recordStepIO({ stepId: again.step?.id ?? "", inputs: [external("out-b")] })
        .then(() => pipelines().recordStepIO({ stepId: b.step?.id ?? "", outputs: [external("out-b")] }))
        .catch((e: unknown) => ConnectError.from(e));
      expect(refused instanceof ConnectError ? refused.code : "no error").toBe(Code.FailedPrecondition);
      const self = await pipelines()
        .startStep({ pipelineRunId: second, name: "c", upstream: ["c"] })
        .catch((e: unknown) => ConnectError.from(e));
      expect(self instanceof ConnectError ? self.code : "no error").toBe(Code.InvalidArgument);
      const unknown = await pipelines()
        .startStep({ pipelineRunId: second, name: "d", upstream: ["nope"] })
        .catch((e: unknown) => ConnectError.from(e));
      expect(unknown instanceof ConnectError ? unknown.code : "no error").toBe(Code.InvalidArgument);
    });
  });
});
