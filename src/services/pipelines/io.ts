/**
 * Inputs and outputs of steps: what each names is resolved to the thing it is
 * (a dataset version, a model version, a run artefact, an external dataset)
 * and keyed so that the same thing written by one step and read by another
 * makes an edge between them.
 */
import type { Kysely } from "kysely";
import { datasetDetails, datasetVersionId, modelDetails, modelVersionId } from "../../db/lineage-graph-repo.js";
import { ensureExternals } from "../../db/pipeline-batch-repo.js";
import { externalsById, type StepIoRow } from "../../db/pipeline-steps-repo.js";
import { findByPaths } from "../../db/run-artefacts-repo.js";
import type { Database } from "../../db/schema.js";
import { NotFoundError } from "../errors.js";
import { newId } from "../ids.js";
import type { IoRef, IoView, StepRow } from "./types.js";

/** An external dataset's key among others: its namespace and name. */
const externalKey = (ref: { namespace: string; name: string }) => `${ref.namespace}\0${ref.name}`;

export function createIoResolver(deps: { db: Kysely<Database> }) {
  const { db } = deps;

  /**
   * The rows recording `refs` as inputs or outputs of `step`, looked up on `trx`
   * (the caller's transaction: PGlite has one connection, which it holds).
   * NotFoundError for a dataset, model or artefact that does not exist.
   */
  function rowsOf(trx: Kysely<Database>, orgId: string, step: StepRow, direction: "in" | "out", refs: IoRef[]): Promise<StepIoRow[]> {
    return rowsOfMany(trx, orgId, [{ step, direction, refs }]);
  }

  /**
   * `rowsOf` for many steps at once: external datasets (the usual bulk) are
   * created or found in one statement, in the order of their names, so that
   * calls naming the same ones lock them in the same order; the others are
   * looked up one by one.
   */
  async function rowsOfMany(trx: Kysely<Database>, orgId: string, entries: { step: StepRow; direction: "in" | "out"; refs: IoRef[] }[]): Promise<StepIoRow[]> {
    const externals = new Map<string, { id: string; orgId: string; namespace: string; name: string; facets: Record<string, unknown> }>();
    for (const ref of entries.flatMap((e) => e.refs)) {
      if (ref.kind !== "external") continue;
      const key = externalKey(ref);
      const seen = externals.get(key);
      // One row per dataset: an upsert must not touch the same row twice in one statement.
      externals.set(key, seen ? { ...seen, facets: { ...seen.facets, ...ref.facets } } : { id: newId("ext"), orgId, namespace: ref.namespace, name: ref.name, facets: ref.facets });
    }
    const ids = await ensureExternals(trx, [...externals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row));
    const out: StepIoRow[] = [];
    for (const { step, direction, refs } of entries) {
      const base = { stepId: step.id, orgId, pipelineRunId: step.pipelineRunId, step: step.name, direction, datasetVersionId: null, modelVersionId: null, runId: null, path: null, externalId: null };
      for (const ref of refs) {
        if (ref.kind === "external") {
          const id = ids.get(externalKey(ref)) as string;
          out.push({ ...base, refKey: `external:${id}`, externalId: id });
        } else if (ref.kind === "dataset") {
          const id = await datasetVersionId(trx, orgId, ref.name, ref.version);
          if (!id) throw new NotFoundError(`dataset "${ref.name}" version "${ref.version}" not found`);
          out.push({ ...base, refKey: `dataset:${id}`, datasetVersionId: id });
        } else if (ref.kind === "model") {
          const id = await modelVersionId(trx, orgId, ref.name, ref.version);
          if (!id) throw new NotFoundError(`model "${ref.name}" has no version ${ref.version}`);
          out.push({ ...base, refKey: `model:${id}`, modelVersionId: id });
        } else {
          const [found] = await findByPaths(trx, orgId, ref.runId, [ref.path]);
          if (!found) throw new NotFoundError(`run "${ref.runId}" has no artefact "${ref.path}"`);
          out.push({ ...base, refKey: `artefact:${ref.runId}/${ref.path}`, runId: ref.runId, path: ref.path });
        }
      }
    }
    return out;
  }

  /** Stored rows described for answers. */
  async function views(orgId: string, rows: StepIoRow[]): Promise<Map<string, IoView>> {
    const datasets = new Map(
      (await datasetDetails(db, orgId, rows.flatMap((r) => (r.datasetVersionId ? [r.datasetVersionId] : [])))).map((d) => [d.id, d.dataset]),
    );
    const models = new Map((await modelDetails(db, orgId, rows.flatMap((r) => (r.modelVersionId ? [r.modelVersionId] : [])))).map((d) => [d.id, d.model]));
    const externals = await externalsById(db, rows.flatMap((r) => (r.externalId ? [r.externalId] : [])));
    const out = new Map<string, IoView>();
    for (const r of rows) {
      let view: IoView | undefined;
      const dataset = r.datasetVersionId ? datasets.get(r.datasetVersionId) : undefined;
      const model = r.modelVersionId ? models.get(r.modelVersionId) : undefined;
      if (dataset) view = { kind: "dataset", ...dataset };
      else if (model) view = { kind: "model", ...model };
      else if (r.runId && r.path !== null) view = { kind: "artefact", runId: r.runId, path: r.path };
      else if (r.externalId) {
        const e = externals.get(r.externalId);
        view = e && { kind: "external", ...e };
      }
      if (view) out.set(r.refKey, view);
    }
    return out;
  }

  return { rowsOf, rowsOfMany, views };
}
