/**
 * RecordSteps: many step instances of one pipeline run in one transaction,
 * with the guarantees of StartStep and FinishStep, in a few set-based
 * statements rather than a dozen round trips per step.
 *
 * Steps new to the run (the usual bulk) are inserted together. Their declared
 * upstream steps started before, or come earlier in the call, so declared
 * edges all point forward in the order "steps of the run, then this call's in
 * the order given". Any cycle would have to use an edge through the data that
 * points backward (a step of this call writes what a step before it, or
 * already in the run, reads): only those few are walked, under the run's
 * graph lock. Steps already in the run (a retry, a new instance of a started
 * step) take StartStep's and FinishStep's own path, in the same transaction.
 */
import type { Kysely } from "kysely";
import * as batch from "../../db/pipeline-batch-repo.js";
import * as repo from "../../db/pipeline-steps-repo.js";
import type { Database } from "../../db/schema.js";
import { ConflictError, FailedPreconditionError, InvalidInputError, LimitExceededError } from "../errors.js";
import { newId } from "../ids.js";
import type { createIoResolver } from "./io.js";
import type { StepRecorder } from "./steps.js";
import { type IoRef, MAX_INSTANCES_PER_RUN, type PipelineRunRow, type StepIoRow, type StepRow, type StepStatus } from "./types.js";

/** One instance as far as it got: started (running, pending) or ended (succeeded, failed, skipped). */
export interface RecordedStep {
  name: string;
  instance: number;
  upstream: string[];
  cacheKey: string;
  trackingRunId: string;
  inputs: IoRef[];
  outputs: IoRef[];
  status: StepStatus;
  startTime?: Date;
  endTime?: Date;
  message: string;
}

const ENDED: StepStatus[] = ["succeeded", "failed", "skipped"];
const keyOf = (s: { name: string; instance: number }) => `${s.name}\0${s.instance}`;

export function createBatchRecorder(deps: {
  db: Kysely<Database>;
  now: () => Date;
  io: ReturnType<typeof createIoResolver>;
  steps: StepRecorder;
  findRun: (orgId: string, id: string) => Promise<PipelineRunRow>;
}) {
  const { db, now, io, steps } = deps;

  /** Records the steps in order; the instances as recorded, in the same order. Nothing is written when it throws. */
  async function record(orgId: string, runId: string, items: RecordedStep[]): Promise<StepRow[]> {
    const run = await deps.findRun(orgId, runId);
    const at = now();
    return db.transaction().execute(async (trx) => {
      const known = await repo.existingStepNames(trx, run.id, [...new Set(items.flatMap((s) => [s.name, ...s.upstream]))]);
      const started = new Set(known);
      items.forEach((s, i) => {
        for (const u of s.upstream) {
          if (u === s.name) throw new InvalidInputError(`steps[${i}].upstream`, `step "${s.name}" names itself as upstream: a step cannot come before itself`);
          if (!started.has(u)) throw new InvalidInputError(`steps[${i}].upstream`, `upstream step "${u}" of step "${s.name}" has not started in this pipeline run: record it first, or earlier in this call`);
        }
        started.add(s.name);
      });
      const ids = new Map<string, string>();
      const fresh = items.filter((s) => !known.has(s.name));
      if (fresh.length > 0) await recordFresh(trx, orgId, run, fresh, at, ids);
      for (const s of items.filter((x) => known.has(x.name))) ids.set(keyOf(s), (await recordAgain(trx, orgId, run, s, at)).id);
      const rows = new Map((await batch.stepsByIds(trx, [...ids.values()])).map((r) => [r.id, r]));
      return items.map((s) => rows.get(ids.get(keyOf(s)) ?? "") as StepRow);
    });
  }

  /** A step already in the run: StartStep's and FinishStep's path, in this transaction. */
  async function recordAgain(trx: Kysely<Database>, orgId: string, run: PipelineRunRow, s: RecordedStep, at: Date): Promise<StepRow> {
    const { step } = await steps.startIn(trx, orgId, run, {
      runId: run.id,
      name: s.name,
      instance: s.instance,
      upstream: s.upstream,
      cacheKey: s.cacheKey,
      trackingRunId: s.trackingRunId,
      inputs: s.inputs,
      pending: s.status === "pending",
      at: s.startTime ?? at,
    });
    if (ENDED.includes(s.status)) return (await steps.finishIn(trx, orgId, step, s.status, s.outputs, s.message, s.endTime ?? at)) ?? step;
    await steps.recordIo(trx, orgId, step, "out", s.outputs);
    return step;
  }

  /** Steps new to the run, inserted together. */
  async function recordFresh(trx: Kysely<Database>, orgId: string, run: PipelineRunRow, fresh: RecordedStep[], at: Date, ids: Map<string, string>): Promise<void> {
    const count = await repo.countInstances(trx, run.id);
    if (count + fresh.length > MAX_INSTANCES_PER_RUN) {
      throw new LimitExceededError(`pipeline run "${run.id}" would have ${count + fresh.length} step instances; the limit is ${MAX_INSTANCES_PER_RUN} per pipeline run`);
    }
    const hits = await batch.cacheHits(trx, run.pipelineId, [...new Set(fresh.flatMap((s) => (s.cacheKey ? [s.cacheKey] : [])))], run.id);
    const rows = fresh.map((s): batch.NewStepRow => {
      const hit = s.cacheKey ? hits.get(s.cacheKey) : undefined;
      const ended = hit !== undefined || ENDED.includes(s.status);
      return {
        id: newId("stp"),
        orgId,
        pipelineId: run.pipelineId,
        pipelineRunId: run.id,
        name: s.name,
        instance: s.instance,
        status: hit ? "cached" : s.status,
        startTime: s.status === "pending" && !hit ? null : (s.startTime ?? at),
        endTime: ended ? (hit ? (s.startTime ?? at) : (s.endTime ?? at)) : null,
        runId: s.trackingRunId || null,
        cacheKey: s.cacheKey,
        cachedFrom: hit?.id ?? null,
        message: hit ? "" : s.message,
        facets: {},
        externalId: null,
      };
    });
    const inserted = await batch.insertSteps(trx, rows);
    // Another call recorded some of these names since we looked: a retry sees them as steps of the run and takes their path.
    if (inserted.length !== rows.length) throw new ConflictError("another call recorded some of these steps at the same moment: retry this call");
    const byKey = new Map(inserted.map((r) => [keyOf(r), r]));
    for (const r of inserted) ids.set(keyOf(r), r.id);

    const edges = new Map<string, { pipelineRunId: string; step: string; upstream: string; orgId: string }>();
    for (const s of fresh) for (const u of s.upstream) edges.set(`${s.name}\0${u}`, { pipelineRunId: run.id, step: s.name, upstream: u, orgId });
    if (edges.size > 0) {
      await batch.addUpstreamRows(trx, [...edges.values()]);
      await steps.checkEdgeLimits(trx, run.id, [...new Set(fresh.map((s) => s.name))]);
    }

    const ioRows = await io.rowsOfMany(
      trx,
      orgId,
      fresh.flatMap((s) => {
        const step = byKey.get(keyOf(s)) as StepRow;
        return [
          { step, direction: "in" as const, refs: s.inputs },
          { step, direction: "out" as const, refs: s.outputs },
        ];
      }),
    );
    // A cached step's outputs are those of the instance it reuses.
    const hitsOf = new Map<string, StepRow[]>();
    for (const r of inserted) if (r.cachedFrom) hitsOf.set(r.cachedFrom, [...(hitsOf.get(r.cachedFrom) ?? []), r]);
    for (const out of (await repo.ioOf(trx, [...hitsOf.keys()])).filter((r) => r.direction === "out")) {
      for (const target of hitsOf.get(out.stepId) ?? []) ioRows.push({ ...out, stepId: target.id, pipelineRunId: run.id, step: target.name });
    }
    await repo.addIo(trx, ioRows);
    await refuseDataCycles(trx, run.id, fresh, ioRows);

    for (const r of inserted) {
      if (r.status === "failed") await repo.skipPending(trx, run.id, await repo.downstreamOf(trx, run.id, r.name), r.endTime ?? at);
    }
  }

  /** Walks only the edges through the data that point backward (see the module's comment); FailedPreconditionError on a cycle. */
  async function refuseDataCycles(trx: Kysely<Database>, runId: string, fresh: RecordedStep[], ioRows: StepIoRow[]): Promise<void> {
    if (ioRows.length === 0) return;
    const order = new Map<string, number>();
    fresh.forEach((s, i) => order.has(s.name) || order.set(s.name, i));
    const byKey = new Map<string, { writers: Set<string>; readers: Set<string> }>();
    for (const r of await batch.ioTouching(trx, runId, [...new Set(ioRows.map((x) => x.refKey))])) {
      const k = byKey.get(r.refKey) ?? { writers: new Set(), readers: new Set() };
      (r.direction === "out" ? k.writers : k.readers).add(r.step);
      byKey.set(r.refKey, k);
    }
    const backward = new Map<string, [string, string]>();
    for (const { writers, readers } of byKey.values()) {
      for (const w of writers) {
        const ow = order.get(w) ?? -1;
        if (ow < 0) continue;
        for (const r of readers) if (r !== w && ow >= (order.get(r) ?? -1)) backward.set(`${w}\0${r}`, [w, r]);
      }
    }
    if (backward.size === 0) return;
    await repo.lockRunGraph(trx, runId);
    for (const [w, r] of backward.values()) {
      if (await repo.reaches(trx, runId, r, w)) throw new FailedPreconditionError(`this would make a cycle: step "${r}" already leads to step "${w}", which would now feed it`);
    }
  }

  return { record };
}
