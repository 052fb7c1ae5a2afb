/**
 * Applies OpenLineage RunEvents (openlineage.ts) to pipelines, runs and steps.
 *
 * Events arrive twice and out of order, so every step here is idempotent and
 * order-free: runs and steps are found again by their OpenLineage runIds (a
 * step's event before its pipeline run's START creates that run, running);
 * facets merge; starts only move earlier (eventTime, not arrival); the first
 * end wins and nothing reopens; inputs and outputs are a set.
 */
import type { Kysely } from "kysely";
import { datasetVersionId } from "../../db/lineage-graph-repo.js";
import { findByExternalId, findInstance, mergeStepFacets, nextInstance } from "../../db/pipeline-steps-repo.js";
import { retryingConflicts } from "../../db/pg-errors.js";
import { mergeRunFacets } from "../../db/pipelines-repo.js";
import type { Database } from "../../db/schema.js";
import type { PipelineService } from "./index.js";
import { type IntakeOp, ioRefOf, type JobRef, type LineageDataset, operationsOf, parseRunEvent, TRAINTRACK_NAMESPACE } from "./openlineage.js";
import type { IoRef, StepRow } from "./types.js";

type StepOp = Extract<IntakeOp, { kind: "step" }>;

/** Concurrent first events of two child runs of one step may pick the same instance number: the loser tries the next. */
const INSTANCE_ATTEMPTS = 5;

export type OpenLineageIntake = ReturnType<typeof createOpenLineageIntake>;

export function createOpenLineageIntake(deps: { db: Kysely<Database>; pipelines: PipelineService }) {
  const { db, pipelines } = deps;

  /** Our id of the pipeline run with OpenLineage runId `runId`, created (running, started `at`) when missing. */
  async function pipelineRun(orgId: string, pipeline: JobRef, runId: string, at: Date, facets: Record<string, unknown>): Promise<string> {
    const run = await pipelines.startRun(orgId, {
      pipeline: pipeline.name,
      namespace: pipeline.namespace,
      createPipeline: true,
      project: "",
      trigger: "openlineage",
      params: {},
      requestId: "",
      externalId: runId,
      facets,
      at,
    });
    // A run found (not created) keeps its status; its facets grow and its start moves earlier.
    await mergeRunFacets(db, run.id, facets, at);
    return run.id;
  }

  /** A dataset of ours when it exists, else an external dataset by the same namespace and name. */
  async function refsOf(orgId: string, datasets: LineageDataset[]): Promise<IoRef[]> {
    const out: IoRef[] = [];
    for (const d of datasets) {
      const ref = ioRefOf(d);
      const ours = ref.kind !== "dataset" || (await datasetVersionId(db, orgId, ref.name, ref.version)) !== undefined;
      out.push(ours ? ref : { kind: "external", namespace: TRAINTRACK_NAMESPACE, name: d.name, facets: d.facets });
    }
    return out;
  }

  /**
   * The step instance of child run `op.stepRunId` (found again, or started as
   * the next instance of its step), with the event's facets merged and its
   * start moved back to `op.at` if earlier: when a START and its COMPLETE race,
   * the COMPLETE may create the instance, and the START then finds it.
   */
  async function stepInstance(orgId: string, runId: string, op: StepOp): Promise<StepRow> {
    const step = await findOrStartStep(orgId, runId, op);
    await mergeStepFacets(db, step.id, op.facets, null, op.at);
    return step;
  }

  async function findOrStartStep(orgId: string, runId: string, op: StepOp): Promise<StepRow> {
    for (let attempt = 0; attempt < INSTANCE_ATTEMPTS; attempt++) {
      const found = await findByExternalId(db, orgId, op.stepRunId);
      if (found) return found;
      // A step run more than once in a pipeline run (a fan-out, a retry with a new runId) is one step with several instances.
      const instance = await nextInstance(db, runId, op.step);
      const { step } = await pipelines.startStep(orgId, {
        runId,
        name: op.step,
        instance,
        upstream: [],
        cacheKey: "",
        trackingRunId: "",
        inputs: [],
        pending: false,
        externalId: op.stepRunId,
        facets: op.facets,
        at: op.at,
      });
      if (step.externalId === op.stepRunId) return step;
      const taken = await findInstance(db, runId, op.step, instance);
      if (taken?.externalId === op.stepRunId) return taken;
    }
    throw new Error(`step "${op.step}" of pipeline run "${runId}": no free instance after ${INSTANCE_ATTEMPTS} attempts`);
  }

  async function applyStep(orgId: string, op: StepOp): Promise<string> {
    const runId = await pipelineRun(orgId, op.pipeline, op.pipelineRunId, op.at, {});
    const step = await stepInstance(orgId, runId, op);
    await pipelines.addIo(orgId, step, await refsOf(orgId, op.inputs), await refsOf(orgId, op.outputs));
    if (op.end) await pipelines.finishStep(orgId, { stepId: step.id }, op.end.status, [], op.end.message, op.at);
    return runId;
  }

  /**
   * Records one RunEvent (a parsed JSON body) for `orgId`; returns our id of
   * the pipeline run it touched. InvalidInputError names a bad field;
   * FailedPreconditionError when its data would close a cycle in the DAG.
   */
  async function record(orgId: string, body: unknown): Promise<{ pipelineRunId: string }> {
    const event = parseRunEvent(body);
    // Events of one run arrive at once and lock the same rows (shared external datasets, the run's graph) in
    // different orders; PostgreSQL then aborts one of them as a deadlock. An event is idempotent: apply it again.
    return retryingConflicts(() => apply(orgId, event));
  }

  async function apply(orgId: string, event: ReturnType<typeof parseRunEvent>): Promise<{ pipelineRunId: string }> {
    let pipelineRunId = "";
    for (const op of operationsOf(event)) {
      if (op.kind === "run") {
        pipelineRunId = await pipelineRun(orgId, op.pipeline, op.runId, op.at, op.facets);
        if (op.end) await pipelines.finishRunFromEvent(orgId, pipelineRunId, op.end, op.at);
      } else {
        pipelineRunId = await applyStep(orgId, op);
      }
    }
    return { pipelineRunId };
  }

  return { record };
}
