/**
 * What PipelineService refuses, on both backends: malformed names and
 * instances, unknown or self upstream steps, unknown statuses, too many items
 * in one call, a run past its documented 20,000 instances, and every id of
 * another organisation (NOT_FOUND, as if it did not exist).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const external = (name: string, namespace = "s3://bad") => ({ ref: { case: "external" as const, value: { namespace, name, facets: "" } } });
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => ConnectError.from(e));
const codeOf = async (p: Promise<unknown>) => {
  const e = await errorOf(p);
  return e ? Code[e.code] : "no error";
};

describe.each(backends())("PipelineService's refusals on $name", (backend) => {
  let server: TestServer;
  let n = 0;
  const pipelines = () => server.client(PipelineService);
  const newRun = async () => (await pipelines().startPipelineRun({ pipeline: `bad-${++n}`, createPipeline: true })).run?.id ?? "";

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("refuses unknown and self upstream steps, bad instances, names and statuses, saying which field", async () => {
      const runId = await newRun();
      await pipelines().startStep({ pipelineRunId: runId, name: "a" });
      const unknown = await errorOf(pipelines().startStep({ pipelineRunId: runId, name: "b", upstream: ["a", "missing"] }));
      expect({ code: unknown?.code, message: unknown?.rawMessage }).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining('"missing"') });
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "b", upstream: ["b"] }))).toBe("InvalidArgument");
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "a", upstream: ["a"] }))).toBe("InvalidArgument");
      for (const instance of [-1, 1_000_001, 2_147_483_647, -2_147_483_648]) {
        expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "c", instance })), `instance ${instance}`).toBe("InvalidArgument");
      }
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "c", instance: 1_000_000 }))).toBe("no error");

      const long = "é".repeat(128) + "x"; // 257 bytes, 129 characters
      for (const bad of ["", "tab\there", "bell\u0007", "new\nline", "nul\u0000", "del\u007f", "c1\u0085", long]) {
        const label = JSON.stringify(bad);
        expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: bad })), `StartStep ${label}`).toBe("InvalidArgument");
        expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "d", upstream: [bad] })), `upstream ${label}`).toBe("InvalidArgument");
        expect(await codeOf(pipelines().finishStep({ pipelineRunId: runId, name: bad, status: StepStatus.SUCCEEDED })), `FinishStep ${label}`).toBe("InvalidArgument");
        expect(await codeOf(pipelines().startPipelineRun({ pipeline: bad, createPipeline: true })), `StartPipelineRun ${label}`).toBe("InvalidArgument");
        expect(await codeOf(pipelines().createPipeline({ name: bad })), `CreatePipeline ${label}`).toBe("InvalidArgument");
        expect(await codeOf(pipelines().getPipeline({ name: bad })), `GetPipeline ${label}`).toBe("InvalidArgument");
        expect(await codeOf(pipelines().listPipelineRuns({ pipeline: bad })), `ListPipelineRuns ${label}`).toBe("InvalidArgument");
      }
      // Ids with a NUL name nothing (and must not reach the database as they are).
      for (const [label, call] of [
        ["GetPipelineRun", () => pipelines().getPipelineRun({ pipelineRunId: "plr_\u0000" })],
        ["StartStep", () => pipelines().startStep({ pipelineRunId: "plr_\u0000", name: "x" })],
        ["FinishStep", () => pipelines().finishStep({ stepId: "stp_\u0000", status: StepStatus.SUCCEEDED })],
        ["RecordStepIO", () => pipelines().recordStepIO({ stepId: "stp_\u0000" })],
        ["a run artefact's run", () => pipelines().startStep({ pipelineRunId: runId, name: "x", inputs: [{ ref: { case: "runArtefact", value: { runId: "run_\u0000", path: "m.bin" } } }] })],
        ["a model", () => pipelines().startStep({ pipelineRunId: runId, name: "x", inputs: [{ ref: { case: "model", value: { model: "m\u0000", version: 1n } } }] })],
        ["a tracking run", () => pipelines().startStep({ pipelineRunId: runId, name: "x", runId: "run_\u0000" })],
      ] as const) {
        expect(["InvalidArgument", "NotFound"], label).toContain(await codeOf(call()));
      }
      // 256 bytes, and OpenLineage's job names, are fine.
      for (const good of ["é".repeat(128), "etl.daily_load", "dag/task", "spark job: load (v2)"]) {
        expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: good })), good).toBe("no error");
      }
      expect((await pipelines().getPipelineRun({ pipelineRunId: runId })).steps).toHaveLength(2 + 4);

      for (const status of [StepStatus.UNSPECIFIED, StepStatus.RUNNING, StepStatus.PENDING, StepStatus.CACHED, 99 as StepStatus, -1 as StepStatus]) {
        expect(await codeOf(pipelines().finishStep({ pipelineRunId: runId, name: "a", status })), `status ${status}`).toBe("InvalidArgument");
      }
      for (const status of [PipelineRunStatus.UNSPECIFIED, PipelineRunStatus.RUNNING, 42 as PipelineRunStatus]) {
        expect(await codeOf(pipelines().finishPipelineRun({ pipelineRunId: runId, status })), `run status ${status}`).toBe("InvalidArgument");
      }
      // Neither step_id nor pipeline_run_id: the policy, which runs first, finds no pipeline run "".
      expect(["InvalidArgument", "NotFound"]).toContain(await codeOf(pipelines().finishStep({ status: StepStatus.SUCCEEDED })));
      expect(await codeOf(pipelines().finishStep({ pipelineRunId: runId, name: "nope", status: StepStatus.SUCCEEDED }))).toBe("NotFound");
      // Nothing refused changed the run.
      const dag = await pipelines().getPipelineRun({ pipelineRunId: runId });
      expect(dag.run?.status).toBe(PipelineRunStatus.RUNNING);
      expect(dag.steps.find((s) => s.name === "a")?.status).toBe(StepStatus.RUNNING);
    });

    it("refuses more than 1,000 inputs, outputs or upstream steps in one call, and malformed inputs", async () => {
      const runId = await newRun();
      const step = (await pipelines().startStep({ pipelineRunId: runId, name: "wide" })).step?.id ?? "";
      const many = (count: number) => Array.from({ length: count }, (_, i) => external(`part-${i}`));
      const tooMany = await errorOf(pipelines().recordStepIO({ stepId: step, inputs: many(1001) }));
      expect({ code: tooMany?.code, message: tooMany?.rawMessage }).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("1000") });
      expect(await codeOf(pipelines().recordStepIO({ stepId: step, outputs: many(1001) }))).toBe("InvalidArgument");
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "wide2", inputs: many(1001) }))).toBe("InvalidArgument");
      expect(await codeOf(pipelines().finishStep({ stepId: step, status: StepStatus.SUCCEEDED, outputs: many(1001) }))).toBe("InvalidArgument");
      const names = Array.from({ length: 1001 }, (_, i) => `u${i}`);
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "wide3", upstream: names }))).toBe("InvalidArgument");
      // Exactly 1,000 is within the limit.
      await pipelines().recordStepIO({ stepId: step, inputs: many(1000) });
      expect((await pipelines().getPipelineRun({ pipelineRunId: runId })).steps[0]?.inputs).toHaveLength(1000);

      const realRun = (await server.client(ExperimentService).createRun({ project: "p", experiment: "e" })).run?.runId ?? "";
      const bad = [
        { ref: { case: undefined } },
        external("x", ""),
        external("", "s3://bad"),
        external("x".repeat(1025)),
        external("a\u0001b"),
        { ref: { case: "external" as const, value: { namespace: "s3://bad", name: "f", facets: "not json" } } },
        { ref: { case: "external" as const, value: { namespace: "s3://bad", name: "f", facets: "[1,2]" } } },
        { ref: { case: "dataset" as const, value: { name: "", version: "1" } } },
        { ref: { case: "runArtefact" as const, value: { runId: "", path: "model.bin" } } },
        { ref: { case: "runArtefact" as const, value: { runId: realRun, path: "../etc/passwd" } } },
        { ref: { case: "runArtefact" as const, value: { runId: realRun, path: "" } } },
      ];
      for (const item of bad) expect(await codeOf(pipelines().recordStepIO({ stepId: step, inputs: [item] })), JSON.stringify(item.ref)).toBe("InvalidArgument");
      // Well formed, but naming nothing that exists.
      expect(await codeOf(pipelines().recordStepIO({ stepId: step, inputs: [{ ref: { case: "dataset", value: { name: "no-such-data", version: "1" } } }] }))).toBe("NotFound");
      expect(await codeOf(pipelines().recordStepIO({ stepId: step, inputs: [{ ref: { case: "model", value: { model: "no-such-model", version: 1n } } }] }))).toBe("NotFound");
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "tracked", runId: "run_doesnotexist" }))).toBe("NotFound");
      expect(await codeOf(pipelines().startStep({ pipelineRunId: "plr_doesnotexist", name: "x" }))).toBe("NotFound");
      expect(await codeOf(pipelines().recordStepIO({ stepId: "stp_doesnotexist", inputs: many(1) }))).toBe("NotFound");
    });

    it("refuses the instance past 20,000 in one pipeline run, and still answers retries and reads at the limit", async () => {
      const runId = await newRun();
      const first = await pipelines().startStep({ pipelineRunId: runId, name: "map", instance: 0 });
      // 19,998 more instances written directly (recording them one call each would take minutes); the limit is the server's.
      const run = first.step;
      await sql`
        insert into pipeline_steps (id, org_id, pipeline_id, pipeline_run_id, name, instance, status, start_time)
        select 'stp_seed_' || ${runId} || '_' || i, s.org_id, s.pipeline_id, s.pipeline_run_id, s.name, i, 'succeeded', now()
        from pipeline_steps s, generate_series(1, 19998) as i
        where s.id = ${run?.id ?? ""}`.execute(server.app.db);
      expect((await pipelines().startStep({ pipelineRunId: runId, name: "reduce", upstream: ["map"] })).step?.status).toBe(StepStatus.RUNNING);
      const refused = await errorOf(pipelines().startStep({ pipelineRunId: runId, name: "map", instance: 19999 }));
      expect({ code: refused?.code, message: refused?.rawMessage }).toMatchObject({ code: Code.ResourceExhausted, message: expect.stringContaining("20000") });
      expect(await codeOf(pipelines().startStep({ pipelineRunId: runId, name: "other" }))).toBe("ResourceExhausted");
      // A retry of an instance that exists is no new instance.
      expect((await pipelines().startStep({ pipelineRunId: runId, name: "reduce", upstream: ["map"] })).step?.id).toBeTruthy();
      const dag = await pipelines().getPipelineRun({ pipelineRunId: runId });
      expect(dag.steps.map((s) => [s.name, s.instanceCount])).toEqual([["map", 19999], ["reduce", 1]]);
      expect((await pipelines().getPipelineGraph({ pipelineRunId: runId })).nodes.map((x) => x.instanceCount)).toEqual([19999, 1]);
    });

    it("answers NOT_FOUND for every pipeline, run and step id of another organisation", async () => {
      const pipeline = `ours-${++n}`;
      const runId = (await pipelines().startPipelineRun({ pipeline, createPipeline: true, project: "secret" })).run?.id ?? "";
      const stepId = (await pipelines().startStep({ pipelineRunId: runId, name: "s" })).step?.id ?? "";
      const trackedRun = (await server.client(ExperimentService).createRun({ project: "secret", experiment: "e" })).run?.runId ?? "";
      const file = await upload(server.client(UploadService), "d.csv", Buffer.from("a\n1\n"));
      await server.client(DatasetService).createDataset({ name: `ours-data-${n}`, version: "1", artefacts: [{ uploadId: file.uploadId }] });

      const theirs = server.client(PipelineService, "grpc", await server.newOrganization());
      const calls: Record<string, () => Promise<unknown>> = {
        getPipeline: () => theirs.getPipeline({ name: pipeline }),
        listPipelineRuns: () => theirs.listPipelineRuns({ pipeline }),
        startPipelineRun: () => theirs.startPipelineRun({ pipeline }),
        getPipelineRun: () => theirs.getPipelineRun({ pipelineRunId: runId }),
        getPipelineGraph: () => theirs.getPipelineGraph({ pipelineRunId: runId }),
        finishPipelineRun: () => theirs.finishPipelineRun({ pipelineRunId: runId, status: PipelineRunStatus.ABORTED }),
        startStep: () => theirs.startStep({ pipelineRunId: runId, name: "s" }),
        finishStepById: () => theirs.finishStep({ stepId, status: StepStatus.FAILED }),
        finishStepByName: () => theirs.finishStep({ pipelineRunId: runId, name: "s", status: StepStatus.FAILED }),
        recordStepIO: () => theirs.recordStepIO({ stepId, outputs: [external("stolen")] }),
        recordSteps: () => theirs.recordSteps({ pipelineRunId: runId, steps: [{ name: "planted", status: StepStatus.SUCCEEDED }] }),
      };
      for (const [name, call] of Object.entries(calls)) expect(await codeOf(call()), name).toBe("NotFound");
      expect((await theirs.listPipelines({})).pipelines).toEqual([]);

      // Their own run cannot name our tracking run, dataset or run artefacts either.
      const theirRun = (await theirs.startPipelineRun({ pipeline, createPipeline: true })).run?.id ?? "";
      expect(theirRun).not.toBe(runId);
      expect(await codeOf(theirs.startStep({ pipelineRunId: theirRun, name: "t", runId: trackedRun }))).toBe("NotFound");
      expect(await codeOf(theirs.recordSteps({ pipelineRunId: theirRun, steps: [{ name: "t", status: StepStatus.RUNNING, runId: trackedRun }] }))).toBe("NotFound");
      const ourData = { ref: { case: "dataset" as const, value: { name: `ours-data-${n}`, version: "1" } } };
      expect(await codeOf(theirs.recordSteps({ pipelineRunId: theirRun, steps: [{ name: "u", status: StepStatus.SUCCEEDED, inputs: [ourData] }] }))).toBe("NotFound");
      const theirStep = (await theirs.startStep({ pipelineRunId: theirRun, name: "t" })).step?.id ?? "";
      expect(await codeOf(theirs.recordStepIO({ stepId: theirStep, inputs: [{ ref: { case: "dataset", value: { name: `ours-data-${n}`, version: "1" } } }] }))).toBe("NotFound");
      expect(await codeOf(theirs.recordStepIO({ stepId: theirStep, inputs: [{ ref: { case: "runArtefact", value: { runId: trackedRun, path: "x.bin" } } }] }))).toBe("NotFound");

      // Ours is untouched.
      const dag = await pipelines().getPipelineRun({ pipelineRunId: runId });
      expect(dag.steps.map((st) => st.name)).toEqual(["s"]);
      expect({ status: dag.run?.status, step: dag.steps[0]?.status, outputs: dag.steps[0]?.outputs }).toEqual({ status: PipelineRunStatus.RUNNING, step: StepStatus.RUNNING, outputs: [] });
      expect((await pipelines().listPipelineRuns({ pipeline })).runs.map((r) => r.id)).toEqual([runId]);
    });
  });
});
