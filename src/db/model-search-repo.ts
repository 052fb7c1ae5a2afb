/** SearchModelVersions: versions by model, alias, tags, framework, and the params and latest metrics of their runs. */
import { type Kysely, sql } from "kysely";
import { latestPointOf } from "./latest-metrics-repo.js";
import type { RunMetricOp } from "./experiments-repo.js";
import type { ModelVersionRow } from "./models-repo.js";
import type { Database } from "./schema.js";

export interface VersionFilter {
  modelNames: string[];
  /** Only models in these projects (or without a project, when `includeUnscoped`); undefined: every model. */
  visibleProjectIds?: string[];
  includeUnscoped: boolean;
  alias?: string;
  tags: Record<string, string>;
  framework?: string;
  runParams: [string, string][];
  runMetrics: { key: string; op: RunMetricOp; value: number }[];
  orderByMetric?: string;
  descending: boolean;
  offset: number;
  limit: number;
}

export type FoundVersion = ModelVersionRow & { sortMetric: number | null };

/** Matching versions, sorted by the metric (versions without it last) or newest first, a page at `offset`. */
export async function searchVersions(db: Kysely<Database>, orgId: string, f: VersionFilter): Promise<FoundVersion[]> {
  let q = db
    .selectFrom("modelVersions as v")
    .innerJoin("registeredModels as m", "m.id", "v.modelId")
    .selectAll("v")
    .select("m.name as model")
    .where("v.orgId", "=", orgId);
  if (f.modelNames.length > 0) q = q.where("m.name", "in", f.modelNames);
  if (f.visibleProjectIds) {
    const ids = f.visibleProjectIds;
    q = q.where((eb) => eb.or([...(ids.length > 0 ? [eb("m.projectId", "in", ids)] : []), ...(f.includeUnscoped ? [eb("m.projectId", "is", null)] : [])]));
  }
  if (f.alias) {
    const alias = f.alias;
    q = q.where((eb) =>
      eb.exists(eb.selectFrom("modelAliases as a").select("a.alias").whereRef("a.modelId", "=", "v.modelId").whereRef("a.version", "=", "v.version").where("a.alias", "=", alias)),
    );
  }
  if (Object.keys(f.tags).length > 0) q = q.where(sql<boolean>`v.tags @> ${JSON.stringify(f.tags)}::jsonb`);
  if (f.framework) q = q.where("v.framework", "=", f.framework);
  for (const [key, value] of f.runParams) {
    q = q.where(sql<boolean>`exists (select 1 from run_params x where x.run_id = v.run_id and x.key = ${key} and x.value = ${value})`);
  }
  for (const m of f.runMetrics) {
    q = q.where(sql<boolean>`exists (
      select 1 from (${latestPointOf(sql.ref("v.run_id"), m.key)}) latest
      where latest.value <> 'NaN'::float8 and latest.value ${sql.raw(m.op)} ${m.value}::float8)`);
  }
  if (f.orderByMetric) {
    // NaN sorts above every number in PostgreSQL: count it as missing, like a version without the metric.
    const metric = sql<number | null>`(select nullif(latest.value, 'NaN'::float8) from (${latestPointOf(sql.ref("v.run_id"), f.orderByMetric)}) latest)`;
    const rows = await q
      .select(metric.as("sortMetric"))
      .orderBy(sql.ref("sortMetric"), (ob) => (f.descending ? ob.desc() : ob.asc()).nullsLast())
      .orderBy("v.createdAt", "desc")
      .orderBy("v.id", "desc")
      .offset(f.offset)
      .limit(f.limit)
      .execute();
    return rows.map((r) => ({ ...r, sortMetric: r.sortMetric === null ? null : Number(r.sortMetric) }));
  }
  const rows = await q.orderBy("v.createdAt", "desc").orderBy("v.id", "desc").offset(f.offset).limit(f.limit).execute();
  return rows.map((r) => ({ ...r, sortMetric: null }));
}
