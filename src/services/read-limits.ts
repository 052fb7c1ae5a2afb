/**
 * How much one read may return. Every list or read that could grow with what
 * clients stored is bounded here, so that one request can neither build a
 * response of gigabytes nor a query with more bind parameters than
 * PostgreSQL takes (65,535). The proto comments and README's "Limits" list
 * state the same figures.
 */

/**
 * Points one GetMetricHistory response may hold: run ids × max_points, or the
 * raw page size. A point is about 30 bytes plus its key on the wire, so a
 * response stays in the tens of megabytes.
 */
export const MAX_HISTORY_POINTS_PER_RESPONSE = 1_000_000;

/** Experiment names one SearchRuns may filter on; all are resolved by one query. */
export const MAX_EXPERIMENTS_PER_SEARCH = 10_000;

/** Keys of Run.latest_metrics per run: the first ones by key; Run.latest_metrics_truncated says when there are more. */
export const MAX_LATEST_METRICS_PER_RUN = 100;

/**
 * What one run may hold, because every run a call returns carries all of it:
 * with values of up to 6,000 bytes, a run stays within about 20 MB. A write
 * past a limit is refused whole (RESOURCE_EXHAUSTED).
 */
export const MAX_TAGS_PER_RUN = 1000;
export const MAX_PARAMS_PER_RUN = 2000;
export const MAX_INPUTS_PER_RUN = 1000;

/** Parents listed per version by ListDatasetVersions; GetDataset lists all of them (at most MAX_PARENTS_PER_VERSION). */
export const MAX_PARENTS_LISTED_PER_VERSION = 100;

/** Parents a version may have (CreateDataset's derived_from). */
export const MAX_PARENTS_PER_VERSION = 1000;

/** GetLineage: versions in the graph (default and cap of max_nodes), edges, and generations each way. */
export const DEFAULT_LINEAGE_NODES = 1000;
export const MAX_LINEAGE_NODES = 10_000;
export const MAX_LINEAGE_EDGES = 50_000;
export const MAX_LINEAGE_DEPTH = 100;

/** Artefacts GetDataset and CreateDataset return with a version; the rest are read with ListArtefacts. */
export const ARTEFACTS_IN_VERSION = 1000;

/** ListArtefacts page size: default and cap. */
export const DEFAULT_ARTEFACT_PAGE = 1000;
export const MAX_ARTEFACT_PAGE = 10_000;

/**
 * Estimated bytes of one page of runs or dataset versions. Each item can be
 * large (a run's tags and params hold up to 6,000 bytes a value, a version's
 * metadata up to 256 × 4 KiB), so a page of page_size items is cut short
 * once it holds this much, and its next_page_token continues after the last
 * item it holds. A page always holds at least one item.
 */
export const MAX_LIST_PAGE_BYTES = 4 * 1024 * 1024;

/** How many of `items`, in order, fit in `budget` bytes by `sizeOf` (at least one, when there is one). */
export function countWithinBytes<T>(items: readonly T[], sizeOf: (item: T) => number, budget = MAX_LIST_PAGE_BYTES): number {
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    used += sizeOf(items[i] as T);
    if (used > budget && i > 0) return i;
  }
  return items.length;
}

/** Bytes of a string map's keys and values (UTF-16 length; an estimate within 3× of UTF-8). */
export function entriesBytes(map: Record<string, string>): number {
  let n = 0;
  for (const key in map) n += key.length + (map[key]?.length ?? 0) + 4;
  return n;
}
