/**
 * Runs: their lifecycle (RUNNING, then FINISHED, FAILED or KILLED, once),
 * tags, params (set once), the dataset versions they read, and search. Every
 * write is idempotent under retry.
 */
import type { Kysely } from "kysely";
import * as datasetsRepo from "../db/datasets-repo.js";
import type { VersionKey } from "../db/datasets-repo.js";
import * as repo from "../db/experiments-repo.js";
import type { RunFilter, RunMetricOp, RunWithNames } from "../db/experiments-repo.js";
import { type LatestPoint, latestMetricsOf } from "../db/latest-metrics-repo.js";
import * as details from "../db/run-details-repo.js";
import type { Database, RunStatus } from "../db/schema.js";
import { FailedPreconditionError, LimitExceededError, NotFoundError } from "./errors.js";
import type { ExperimentService } from "./experiments.js";
import { isWellFormedId, newId } from "./ids.js";
import { decodeToken, encodeToken, isSafeInt, type Page } from "./page-tokens.js";
import {
  countWithinBytes,
  entriesBytes,
  MAX_INPUTS_PER_RUN,
  MAX_LATEST_METRICS_PER_RUN,
  MAX_PARAMS_PER_RUN,
  MAX_TAGS_PER_RUN,
} from "./read-limits.js";

export interface RunView {
  id: string;
  project: string;
  experiment: string;
  name: string;
  status: RunStatus;
  startTime: Date;
  endTime: Date | null;
  tags: Record<string, string>;
  params: Record<string, string>;
  inputs: VersionKey[];
  group: string;
  rank: number | null;
  host: string;
  /** The latest point of each metric, ordered by key: the first MAX_LATEST_METRICS_PER_RUN keys. */
  latestMetrics: LatestPoint[];
  /** True when the run has more metrics than latestMetrics holds. */
  latestMetricsTruncated: boolean;
}

export interface NewRun {
  project: string;
  experiment: string;
  name: string;
  tags: [string, string][];
  params: [string, string][];
  group: string;
  rank: number | null;
  host: string;
  requestId: string;
}

export interface RunSearch {
  project: string;
  /** Empty: every experiment of the project. */
  experiments: string[];
  statuses: RunStatus[];
  group: string;
  tags: [string, string][];
  params: [string, string][];
  metrics: { key: string; op: RunMetricOp; value: number }[];
  pageSize: number;
  pageToken: string;
}

export type RunService = ReturnType<typeof createRunService>;

/** Throws NotFoundError unless the run is the organisation's; `db` may be a transaction. */
export async function mustFindRun(db: Kysely<Database>, orgId: string, runId: string): Promise<void> {
  if (!isWellFormedId("run", runId) || !(await repo.runExists(db, orgId, runId))) throw new NotFoundError(`run "${runId}" not found`);
}

export function createRunService(deps: { db: Kysely<Database>; experiments: ExperimentService; now: () => Date }) {
  const { db, experiments, now } = deps;

  async function views(orgId: string, rows: RunWithNames[]): Promise<RunView[]> {
    const ids = rows.map((r) => r.id);
    const [tags, params, inputs, latest] = await Promise.all([
      details.entriesOf(db, "runTags", orgId, ids),
      details.entriesOf(db, "runParams", orgId, ids),
      details.inputsOf(db, orgId, ids),
      latestMetricsOf(db, orgId, ids, MAX_LATEST_METRICS_PER_RUN),
    ]);
    return rows.map((r) => ({
      id: r.id,
      project: r.projectName,
      experiment: r.experimentName,
      name: r.name,
      status: r.status,
      startTime: r.startTime,
      endTime: r.endTime,
      tags: tags.get(r.id) ?? {},
      params: params.get(r.id) ?? {},
      inputs: inputs.get(r.id) ?? [],
      group: r.runGroup ?? "",
      rank: r.rank,
      host: r.host,
      latestMetrics: latest.get(r.id)?.points ?? [],
      latestMetricsTruncated: latest.get(r.id)?.truncated ?? false,
    }));
  }

  /** A run with its tags, params, inputs and latest metrics; NotFoundError otherwise. */
  async function get(orgId: string, runId: string): Promise<RunView> {
    const row = isWellFormedId("run", runId) ? await repo.findRun(db, orgId, runId) : undefined;
    if (!row) throw new NotFoundError(`run "${runId}" not found`);
    const [view] = await views(orgId, [row]);
    if (!view) throw new Error(`run ${runId} has no view`);
    return view;
  }

  /** Starts a run, creating its project and experiment when absent; a known request id returns its run unchanged. */
  async function create(orgId: string, input: NewRun): Promise<RunView> {
    const { project, experiment } = await experiments.ensure(orgId, input.project, input.experiment);
    const runId = await db.transaction().execute(async (trx) => {
      const row = {
        id: newId("run"),
        orgId,
        projectId: project.id,
        experimentId: experiment.id,
        name: input.name,
        status: "running" as const,
        runGroup: input.group || null,
        rank: input.rank,
        host: input.host,
        requestId: input.requestId || null,
        startTime: now(),
        endTime: null,
      };
      if (!(await repo.insertRun(trx, row))) {
        const first = await repo.findRunByRequest(trx, orgId, experiment.id, input.requestId);
        if (!first) throw new Error(`run of request ${input.requestId} vanished`);
        return first.id;
      }
      await details.writeEntries(trx, "runTags", orgId, row.id, input.tags, "overwrite");
      await details.writeEntries(trx, "runParams", orgId, row.id, input.params, "keep");
      return row.id;
    });
    return get(orgId, runId);
  }

  /** Ends a run once; the status it has is a no-op, anything else after the end is FailedPreconditionError. */
  async function updateStatus(orgId: string, runId: string, status: RunStatus): Promise<RunView> {
    await db.transaction().execute(async (trx) => {
      const run = isWellFormedId("run", runId) ? await repo.lockRun(trx, orgId, runId) : undefined;
      if (!run) throw new NotFoundError(`run "${runId}" not found`);
      if (run.status === status) return;
      if (run.status !== "running") {
        throw new FailedPreconditionError(`run "${runId}" has already ended as ${run.status}; an ended run cannot become ${status}: start a new run`);
      }
      await repo.updateRunStatus(trx, orgId, runId, status, now());
    });
    return get(orgId, runId);
  }

  /**
   * Locks the run for a write of its tags, params or inputs, so that the
   * count checked after the write is exact; NotFoundError when there is none.
   * (No-key-update: metric inserts, which only need the run to exist, go on.)
   */
  async function lockForDetails(trx: Kysely<Database>, orgId: string, runId: string): Promise<void> {
    if (!isWellFormedId("run", runId) || !(await repo.lockRun(trx, orgId, runId))) throw new NotFoundError(`run "${runId}" not found`);
  }

  /** Throws LimitExceededError (rolling the write back) when a run holds more than `max` of `what`. */
  function within(runId: string, what: string, count: number, max: number, fix: string): void {
    if (count > max) throw new LimitExceededError(`run "${runId}" would hold ${count} ${what}; a run holds at most ${max}: ${fix}`);
  }

  async function setTags(orgId: string, runId: string, set: [string, string][], remove: string[]): Promise<RunView> {
    await db.transaction().execute(async (trx) => {
      await lockForDetails(trx, orgId, runId);
      await details.writeEntries(trx, "runTags", orgId, runId, set, "overwrite");
      await details.deleteEntries(trx, "runTags", orgId, runId, remove);
      const count = await details.countEntries(trx, "runTags", orgId, runId);
      within(runId, "tags", count, MAX_TAGS_PER_RUN, "remove tags it no longer needs");
    });
    return get(orgId, runId);
  }

  /** Sets params, all or none: a param already set to another value is FailedPreconditionError naming it. */
  async function logParams(orgId: string, runId: string, params: [string, string][]): Promise<RunView> {
    await db.transaction().execute(async (trx) => {
      await lockForDetails(trx, orgId, runId);
      // Insert what is new, then compare: a concurrent writer's value is seen
      // once its transaction ends (the insert waits on its key), and a
      // mismatch rolls back this whole call.
      await details.writeEntries(trx, "runParams", orgId, runId, params, "keep");
      const stored = (await details.entriesOf(trx, "runParams", orgId, [runId])).get(runId) ?? {};
      for (const [key, value] of params) {
        if (stored[key] !== value) {
          throw new FailedPreconditionError(
            `param "${key}" of run "${runId}" is already ${JSON.stringify(stored[key])}; params are set once: log ${JSON.stringify(value)} under another key or start a new run`,
          );
        }
      }
      within(runId, "params", Object.keys(stored).length, MAX_PARAMS_PER_RUN, "log fewer, e.g. one param per group of settings, or keep large configurations as a run artefact");
    });
    return get(orgId, runId);
  }

  /** Records dataset versions the run read, all or none; NotFoundError names an unknown version. */
  async function useDatasets(orgId: string, runId: string, refs: VersionKey[]): Promise<RunView> {
    await db.transaction().execute(async (trx) => {
      await lockForDetails(trx, orgId, runId);
      const found = await datasetsRepo.findVersions(trx, orgId, refs);
      const missing = refs.find((ref) => !found.some((v) => v.name === ref.name && v.version === ref.version));
      if (missing) throw new NotFoundError(`dataset "${missing.name}" version "${missing.version}" not found`);
      await details.insertInputs(trx, orgId, runId, found.map((v) => v.id));
      within(runId, "dataset inputs", await details.countInputs(trx, orgId, runId), MAX_INPUTS_PER_RUN, "record the dataset versions it read, not every version of every dataset");
    });
    return get(orgId, runId);
  }

  /** Runs of a project matching every filter, newest first; NotFoundError for an unknown project or experiment. */
  async function search(orgId: string, query: RunSearch): Promise<Page<RunView>> {
    const project = await experiments.mustFindProject(orgId, query.project);
    const experimentIds = (await experiments.mustFindExperiments(orgId, project, query.experiments)).map((e) => e.id);
    const filter: RunFilter = {
      projectId: project.id,
      experimentIds,
      statuses: query.statuses,
      group: query.group || undefined,
      tags: query.tags,
      params: query.params,
      metrics: query.metrics,
      beforeSeq: query.pageToken ? decodeToken(query.pageToken, isSafeInt) : undefined,
      limit: query.pageSize + 1,
    };
    const rows = await repo.searchRuns(db, orgId, filter);
    const candidates = rows.slice(0, query.pageSize);
    const all = await views(orgId, candidates);
    // Large runs make a short page rather than a huge message; the token continues after the last one sent.
    const kept = countWithinBytes(all, runViewBytes);
    const last = candidates[kept - 1];
    const more = kept < candidates.length || rows.length > query.pageSize;
    return { items: all.slice(0, kept), nextPageToken: more && last ? encodeToken(last.seq) : "" };
  }

  return { create, get, updateStatus, setTags, logParams, useDatasets, search };
}

/** A run's estimated size on the wire, for cutting pages by bytes. */
function runViewBytes(r: RunView): number {
  const inputs = r.inputs.reduce((n, i) => n + i.name.length + i.version.length + 8, 0);
  const metrics = r.latestMetrics.reduce((n, m) => n + m.key.length + 40, 0);
  return 200 + r.name.length + r.host.length + entriesBytes(r.tags) + entriesBytes(r.params) + inputs + metrics;
}
