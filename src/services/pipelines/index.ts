/** Pipeline tracking: pipelines, runs, steps and their inputs and outputs, the DAG and its drawings. The capability's only door. */
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import { createBatchRecorder } from "./batch.js";
import { graphOf, toDot, toMermaid } from "./graph.js";
import { createIoResolver } from "./io.js";
import { createPipelineRuns } from "./runs.js";
import { createStepRecorder } from "./steps.js";

export type { RecordedStep } from "./batch.js";
export type { GraphNode } from "./graph.js";
export * from "./types.js";

export type PipelineService = ReturnType<typeof createPipelineService>;

export function createPipelineService(deps: { db: Kysely<Database>; now: () => Date; ensureProject: (orgId: string, name: string) => Promise<string> }) {
  const io = createIoResolver(deps);
  const runs = createPipelineRuns({ ...deps, io });
  const steps = createStepRecorder({ ...deps, io, findRun: runs.findRun });
  const batch = createBatchRecorder({ ...deps, io, steps, findRun: runs.findRun });

  /** A run's DAG, collapsed or expanded, with its Mermaid and DOT renderings. */
  async function graph(orgId: string, runId: string, expand: boolean) {
    const { steps: stepViews, edges } = await runs.dag(orgId, runId);
    const g = graphOf(stepViews, edges, expand);
    return { ...g, mermaid: toMermaid(g), dot: toDot(g) };
  }

  return {
    createPipeline: runs.create,
    getPipeline: runs.get,
    listPipelines: runs.list,
    startRun: runs.start,
    finishRun: runs.finish,
    finishRunFromEvent: runs.finishFromEvent,
    findRun: runs.findRun,
    listRuns: runs.listRuns,
    dag: runs.dag,
    graph,
    startStep: steps.start,
    findStep: steps.find,
    finishStep: steps.finish,
    addIo: steps.addIo,
    recordSteps: batch.record,
  };
}
