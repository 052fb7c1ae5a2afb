/**
 * Who may record and read pipelines, on both backends: a viewer reads every
 * pipeline and writes none; an editor of project alpha (a project grant only)
 * records alpha's pipelines and neither reads nor writes beta's; a read-only
 * key writes nothing. Refused writes change nothing.
 */
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { type Fixture, setUpOrganisation } from "../support/access-fixtures.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const codeOf = (p: Promise<unknown>) => p.then(() => "no error", (e: unknown) => Code[ConnectError.from(e).code]);
const external = (name: string) => ({ ref: { case: "external" as const, value: { namespace: "s3://access", name } } });

/** Every write of PipelineService on one pipeline (and its run and step), as thunks named by method. */
function writes(as: Client<typeof PipelineService>, on: { pipeline: string; project: string; runId: string; stepId: string }, tag: string) {
  return {
    createPipeline: () => as.createPipeline({ name: `${on.pipeline}-new-${tag}`, project: on.project }),
    startPipelineRun: () => as.startPipelineRun({ pipeline: on.pipeline }),
    startPipelineRunCreating: () => as.startPipelineRun({ pipeline: `${on.pipeline}-made-${tag}`, createPipeline: true, project: on.project }),
    finishPipelineRun: () => as.finishPipelineRun({ pipelineRunId: on.runId, status: PipelineRunStatus.ABORTED }),
    startStep: () => as.startStep({ pipelineRunId: on.runId, name: `new-${tag}` }),
    finishStepById: () => as.finishStep({ stepId: on.stepId, status: StepStatus.FAILED }),
    finishStepByName: () => as.finishStep({ pipelineRunId: on.runId, name: "s", status: StepStatus.FAILED }),
    recordStepIO: () => as.recordStepIO({ stepId: on.stepId, outputs: [external(`by-${tag}`)] }),
  };
}

function reads(as: Client<typeof PipelineService>, on: { pipeline: string; runId: string }) {
  return {
    getPipeline: () => as.getPipeline({ name: on.pipeline }),
    listPipelineRuns: () => as.listPipelineRuns({ pipeline: on.pipeline }),
    getPipelineRun: () => as.getPipelineRun({ pipelineRunId: on.runId, expandInstances: true }),
    getPipelineGraph: () => as.getPipelineGraph({ pipelineRunId: on.runId, expand: true }),
  };
}

async function codes(calls: Record<string, () => Promise<unknown>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, call] of Object.entries(calls)) out[name] = await codeOf(call());
  return out;
}
const all = (calls: Record<string, unknown>, code: string) => Object.fromEntries(Object.keys(calls).map((name) => [name, code]));

describe.each(backends())("pipeline permissions on $name", (backend) => {
  let server: TestServer;
  let fixture: Fixture;
  const made: Record<"alpha" | "beta", { pipeline: string; project: string; runId: string; stepId: string }> = {} as never;
  const keyOf = (name: string) => fixture.callers.find((c) => c.name === name)?.key ?? "";
  const as = (caller: string) => server.client(PipelineService, "grpc", keyOf(caller));
  const admin = () => server.client(PipelineService);
  const betaModelName = "beta-model";

  beforeAll(async () => {
    server = await startTestServer(backend.name);
    if (!backend.available) return;
    fixture = await setUpOrganisation(server);
    for (const project of ["alpha", "beta"] as const) {
      const pipeline = `etl-${project}`;
      const runId = (await admin().startPipelineRun({ pipeline, createPipeline: true, project })).run?.id ?? "";
      const stepId = (await admin().startStep({ pipelineRunId: runId, name: "s" })).step?.id ?? "";
      made[project] = { pipeline, project, runId, stepId };
    }
    await server.client(ModelService).createModelVersion({ model: betaModelName, createModel: true, project: "beta", source: { case: "runArtefacts", value: { runId: fixture.runs.beta } } });
  });
  afterAll(async () => server?.close());

  /** What the admin sees of a project's run: refused writes must leave it as it was. */
  const state = async (project: "alpha" | "beta") => {
    const dag = await admin().getPipelineRun({ pipelineRunId: made[project].runId, expandInstances: true });
    const runs = await admin().listPipelineRuns({ pipeline: made[project].pipeline });
    return { run: dag.run?.status, steps: dag.steps.map((s) => [s.name, s.status, s.outputs.length]), runs: runs.runs.length };
  };

  describe.skipIf(!backend.available)("", () => {
    it("lets a viewer read every pipeline and write none", async () => {
      const before = { alpha: await state("alpha"), beta: await state("beta") };
      for (const project of ["alpha", "beta"] as const) {
        const r = reads(as("viewer"), made[project]);
        expect(await codes(r), project).toEqual(all(r, "no error"));
        const w = writes(as("viewer"), made[project], "viewer");
        expect(await codes(w), project).toEqual(all(w, "PermissionDenied"));
      }
      // The fixture's own pipelines (pl-…) are there too; these are the ones this suite made.
      expect((await as("viewer").listPipelines({})).pipelines.map((p) => p.name).filter((n) => n.startsWith("etl-")).sort()).toEqual(["etl-alpha", "etl-beta"]);
      expect({ alpha: await state("alpha"), beta: await state("beta") }).toEqual(before);
    });

    it("lets a read-only key of an owner read and write nothing", async () => {
      const before = await state("alpha");
      const w = writes(as("owner's read-only key"), made.alpha, "ro");
      expect(await codes(w)).toEqual(all(w, "PermissionDenied"));
      const r = reads(as("owner's read-only key"), made.alpha);
      expect(await codes(r)).toEqual(all(r, "no error"));
      expect(await state("alpha")).toEqual(before);
    });

    it("lets an editor of project alpha record alpha's pipelines, and neither read nor write beta's", async () => {
      const editor = as("alpha editor (project grant)");
      const beforeBeta = await state("beta");
      const w = writes(editor, made.beta, "alpha-editor");
      expect(await codes(w)).toEqual(all(w, "PermissionDenied"));
      const r = reads(editor, made.beta);
      expect(await codes(r)).toEqual(all(r, "PermissionDenied"));
      expect(await state("beta")).toEqual(beforeBeta);
      // A pipeline outside any project is the organisation's: an editor of one project cannot make one.
      expect(await codeOf(editor.createPipeline({ name: "no-project" }))).toBe("PermissionDenied");
      expect(await codeOf(editor.startPipelineRun({ pipeline: "no-project-either", createPipeline: true }))).toBe("PermissionDenied");

      // In alpha, everything (each write once, in an order that makes sense).
      const ok = writes(editor, made.alpha, "alpha-editor");
      expect(await codes(ok)).toEqual(all(ok, "no error"));
      expect(await codes(reads(editor, made.alpha))).toEqual(all(reads(editor, made.alpha), "no error"));
      // A step of alpha may be tracked by alpha's run, not by beta's.
      expect(await codeOf(editor.startStep({ pipelineRunId: made.alpha.runId, name: "tracked-alpha", runId: fixture.runs.alpha }))).toBe("no error");
      expect(await codeOf(editor.startStep({ pipelineRunId: made.alpha.runId, name: "tracked-beta", runId: fixture.runs.beta }))).toBe("PermissionDenied");
      // Nor may its steps name beta's run artefacts or models as inputs or outputs (that would show they exist, and link them).
      const alphaStep = made.alpha.stepId;
      const betaArtefact = { ref: { case: "runArtefact" as const, value: { runId: fixture.runs.beta, path: "model.bin" } } };
      const betaModel = { ref: { case: "model" as const, value: { model: betaModelName, version: 1n } } };
      const alphaArtefact = { ref: { case: "runArtefact" as const, value: { runId: fixture.runs.alpha, path: "model.bin" } } };
      const refused = {
        startStepInput: () => editor.startStep({ pipelineRunId: made.alpha.runId, name: "reads-beta", inputs: [betaArtefact] }),
        recordInput: () => editor.recordStepIO({ stepId: alphaStep, inputs: [betaArtefact] }),
        recordOutput: () => editor.recordStepIO({ stepId: alphaStep, outputs: [betaModel] }),
        finishOutput: () => editor.finishStep({ pipelineRunId: made.alpha.runId, name: "tracked-alpha", status: StepStatus.SUCCEEDED, outputs: [alphaArtefact, betaModel] }),
      };
      expect(await codes(refused)).toEqual(all(refused, "PermissionDenied"));
      expect(await codeOf(editor.recordStepIO({ stepId: alphaStep, inputs: [alphaArtefact] }))).toBe("no error");
      const alphaDag = await admin().getPipelineRun({ pipelineRunId: made.alpha.runId });
      expect(alphaDag.steps.map((s) => s.name)).not.toContain("reads-beta");
      expect(alphaDag.steps.flatMap((s) => [...s.inputs, ...s.outputs]).map((x) => x.ref.case)).not.toContain("model");
      expect((await editor.listPipelines({})).pipelines.every((p) => p.project === "alpha")).toBe(true);
      expect((await editor.listPipelines({})).pipelines.map((p) => p.name)).toContain("etl-alpha");
    });
  });
});
