/**
 * Steps of pipeline runs. A step instance is keyed by (run, name, instance),
 * so every write is idempotent: a repeated start finds the instance, a
 * repeated or late end leaves the first end, inputs and outputs are a set.
 * The DAG stays acyclic: a step's declared upstream steps must exist already,
 * and an input or output that would close a cycle through the data is
 * refused. Only writes that join steps already in the graph can close one (a
 * step new to the run has nothing downstream of it yet), and only those take
 * the run's advisory lock and walk the graph: recording a pipeline in its
 * usual order (a step starts after what it reads was written) takes no lock,
 * so its steps record in parallel. (Two such joins made at the same instant,
 * each closing half of a new cycle, could both pass: a limit we accept.)
 */
import type { Kysely } from "kysely";
import * as repo from "../../db/pipeline-steps-repo.js";
import type { Database } from "../../db/schema.js";
import { FailedPreconditionError, InvalidInputError, LimitExceededError, NotFoundError } from "../errors.js";
import { newId } from "../ids.js";
import type { createIoResolver } from "./io.js";
import { type IoRef, MAX_EDGES_PER_RUN, MAX_INSTANCES_PER_RUN, MAX_UPSTREAM, type NewStep, type PipelineRunRow, type StepRef, type StepRow, type StepStatus } from "./types.js";


export type StepRecorder = ReturnType<typeof createStepRecorder>;

export function createStepRecorder(deps: {
  db: Kysely<Database>;
  now: () => Date;
  io: ReturnType<typeof createIoResolver>;
  findRun: (orgId: string, id: string) => Promise<PipelineRunRow>;
}) {
  const { db, now, io } = deps;

  const lock = repo.lockRunGraph;

  /** Refuses declared edges past the run's limit, or past the limit of upstream steps of one of `steps` (after they were added: the transaction then rolls back). */
  async function checkEdgeLimits(trx: Kysely<Database>, runId: string, steps: string[]): Promise<void> {
    const { runEdges, step, stepEdges } = await repo.upstreamCounts(trx, runId, steps);
    if (runEdges > MAX_EDGES_PER_RUN) throw new LimitExceededError(`pipeline run "${runId}" would have ${runEdges} declared edges (upstream steps); the limit is ${MAX_EDGES_PER_RUN} per pipeline run`);
    if (stepEdges > MAX_UPSTREAM) throw new InvalidInputError("upstream", `step "${step}" would have ${stepEdges} upstream steps; the limit is ${MAX_UPSTREAM} per step`);
  }

  /** Refuses rows that would close a cycle: an output read by a step upstream of its writer, or an input written by a step downstream of its reader. */
  async function checkAcyclic(trx: Kysely<Database>, step: StepRow, direction: "in" | "out", refKeys: string[], isNew: boolean): Promise<void> {
    // Nothing is downstream of a step new to the run: its inputs join nothing that could lead back to it.
    if (direction === "in" && isNew) return;
    const opposite = direction === "out" ? "in" : "out";
    if ((await repo.stepsTouching(trx, step.pipelineRunId, refKeys, opposite)).every((s) => s === step.name)) return;
    await lock(trx, step.pipelineRunId);
    const others = (await repo.stepsTouching(trx, step.pipelineRunId, refKeys, opposite)).filter((s) => s !== step.name);
    for (const other of others) {
      const [from, to] = direction === "out" ? [other, step.name] : [step.name, other];
      if (await repo.reaches(trx, step.pipelineRunId, from, to)) {
        throw new FailedPreconditionError(`this would make a cycle: step "${from}" already leads to step "${to}", which ${direction === "out" ? "would now feed it" : "it would now read from"}`);
      }
    }
  }

  async function recordIo(trx: Kysely<Database>, orgId: string, step: StepRow, direction: "in" | "out", refs: IoRef[], isNew = false): Promise<void> {
    if (refs.length === 0) return;
    const rows = await io.rowsOf(trx, orgId, step, direction, refs);
    await checkAcyclic(trx, step, direction, rows.map((r) => r.refKey), isNew);
    await repo.addIo(trx, rows);
  }

  /**
   * Starts a step instance (or finds it, on a retry). A cache key matching an
   * earlier succeeded instance of the pipeline makes it CACHED at once, with
   * that instance's outputs.
   */
  async function start(orgId: string, s: NewStep): Promise<{ step: StepRow; cached: boolean }> {
    const run = await deps.findRun(orgId, s.runId);
    return db.transaction().execute((trx) => startIn(trx, orgId, run, s));
  }

  /** `start`, in the caller's transaction (RecordSteps records many steps in one). */
  async function startIn(trx: Kysely<Database>, orgId: string, run: PipelineRunRow, s: NewStep): Promise<{ step: StepRow; cached: boolean }> {
    if (s.upstream.includes(s.name)) throw new InvalidInputError("upstream", `step "${s.name}" names itself as upstream: a step cannot come before itself`);
    const at = s.at ?? now();
    {
      // A name new to the run has nothing downstream: its upstream steps and inputs cannot close a cycle.
      const known = await repo.existingStepNames(trx, run.id, [s.name, ...s.upstream]);
      const isNew = !known.has(s.name);
      if (!isNew && s.upstream.length > 0) await lock(trx, run.id);
      const unknown = s.upstream.filter((u) => !known.has(u));
      if (unknown.length > 0) throw new InvalidInputError("upstream", `upstream step "${unknown[0]}" has not started in this pipeline run: start it first`);
      let step = await repo.findInstance(trx, run.id, s.name, s.instance);
      // Edges join step names, not instances: a retry, or a new instance of a step that has started, must not name an upstream downstream of it.
      if (!isNew) {
        for (const u of s.upstream) {
          if (await repo.reaches(trx, run.id, s.name, u)) throw new FailedPreconditionError(`this would make a cycle: step "${s.name}" already leads to step "${u}"`);
        }
      }
      let cached = false;
      let inserted = "";
      let hit: StepRow | undefined;
      if (!step) {
        if ((await repo.countInstances(trx, run.id)) >= MAX_INSTANCES_PER_RUN) {
          throw new LimitExceededError(`pipeline run "${run.id}" has ${MAX_INSTANCES_PER_RUN} step instances, the limit`);
        }
        hit = s.cacheKey ? await repo.cacheHit(trx, run.pipelineId, s.cacheKey, run.id) : undefined;
        cached = hit !== undefined;
        const status: StepStatus = hit ? "cached" : s.pending ? "pending" : "running";
        inserted = newId("stp");
        const row = await repo.insertStep(trx, {
          id: inserted,
          orgId,
          pipelineId: run.pipelineId,
          pipelineRunId: run.id,
          name: s.name,
          instance: s.instance,
          status,
          startTime: s.pending ? null : at,
          endTime: hit ? at : null,
          runId: s.trackingRunId || null,
          cacheKey: s.cacheKey,
          cachedFrom: hit?.id ?? null,
          facets: s.facets ?? {},
          externalId: s.externalId ?? null,
        });
        // Not inserted: a concurrent start of the same instance won, or (OpenLineage) a concurrent event
        // recorded the same run under another instance: this is its retry.
        const existing =
          row ?? (await repo.findInstance(trx, run.id, s.name, s.instance)) ?? (s.externalId ? await repo.findByExternalId(trx, orgId, s.externalId) : undefined);
        if (!existing) throw new Error(`step "${s.name}" instance ${s.instance} vanished right after its insert`);
        step = existing;
      }
      if (step.id !== inserted) {
        if (!s.pending) await repo.markStarted(trx, step.id, at);
        if (s.facets || s.trackingRunId) await repo.mergeStepFacets(trx, step.id, s.facets ?? {}, s.trackingRunId || null);
        cached = step.status === "cached";
      }
      if (s.upstream.length > 0) {
        await repo.addUpstream(trx, orgId, run.id, s.name, s.upstream);
        await checkEdgeLimits(trx, run.id, [s.name]);
      }
      await recordIo(trx, orgId, step, "in", s.inputs, isNew);
      if (hit) {
        // The earlier instance's outputs become this one's; after its upstream edges, so that a cycle they would close is seen.
        const target = step;
        const copied = (await repo.ioOf(trx, [hit.id])).filter((r) => r.direction === "out").map((r) => ({ ...r, stepId: target.id, pipelineRunId: run.id, step: s.name }));
        await checkAcyclic(trx, step, "out", copied.map((r) => r.refKey), false);
        await repo.addIo(trx, copied);
      }
      return { step: step.id === inserted ? step : ((await repo.findStep(trx, orgId, step.id)) as StepRow), cached };
    }
  }

  /** The instance by id, or by (run, name, instance). */
  async function find(orgId: string, ref: StepRef): Promise<StepRow> {
    if ("stepId" in ref) {
      const step = await repo.findStep(db, orgId, ref.stepId);
      if (!step) throw new NotFoundError(`step "${ref.stepId}" not found`);
      return step;
    }
    const run = await deps.findRun(orgId, ref.runId);
    const step = await repo.findInstance(db, run.id, ref.name, ref.instance);
    if (!step) throw new NotFoundError(`pipeline run "${ref.runId}" has no step "${ref.name}" instance ${ref.instance}`);
    return step;
  }

  /**
   * Ends an instance with its outputs; a failure skips the pending steps
   * downstream of it. Without outputs, and unless it failed, one UPDATE … RETURNING
   * (the common end of a step), else a transaction.
   */
  async function finish(orgId: string, ref: StepRef, status: StepStatus, outputs: IoRef[], message: string, at = now()): Promise<StepRow> {
    if ("stepId" in ref && outputs.length === 0 && status !== "failed") {
      const ended = await repo.finishStepOf(db, orgId, ref.stepId, status, at, message);
      if (ended) return ended;
    }
    const step = await find(orgId, ref);
    const ended = await db.transaction().execute((trx) => finishIn(trx, orgId, step, status, outputs, message, at));
    return ended ?? ((await repo.findStep(db, orgId, step.id)) as StepRow);
  }

  /** `finish` in the caller's transaction; the row if this call ended it (the first end wins). */
  async function finishIn(trx: Kysely<Database>, orgId: string, step: StepRow, status: StepStatus, outputs: IoRef[], message: string, at: Date): Promise<StepRow | undefined> {
    await recordIo(trx, orgId, step, "out", outputs);
    const row = await repo.finishStep(trx, step.id, status, at, message);
    // A late FAILED after the first end changes nothing, so it must not skip what waits downstream either.
    if (row?.status === "failed") await repo.skipPending(trx, step.pipelineRunId, await repo.downstreamOf(trx, step.pipelineRunId, step.name), at);
    return row;
  }

  async function addIo(orgId: string, step: StepRow, inputs: IoRef[], outputs: IoRef[]): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await recordIo(trx, orgId, step, "in", inputs);
      await recordIo(trx, orgId, step, "out", outputs);
    });
  }

  return { start, startIn, find, finish, finishIn, recordIo, checkEdgeLimits, addIo };
}
