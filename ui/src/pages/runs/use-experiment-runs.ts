/**
 * Every run of an experiment that matches the filter, loaded page after page
 * in the background: a small first page paints at once, large pages follow
 * while the user reads, so sorting (which SearchRuns does not do: it answers
 * newest first) covers every run once the last page is in. A page token only
 * says where the previous page ended, so pages of different sizes chain.
 */
import { useInfiniteQuery, useQuery } from "@connectrpc/connect-query";
import { ExperimentService, MetricThreshold_Op, type Run, RunStatus } from "@gen/traintrack/v1/experiment_pb.js";
import { useEffect, useMemo } from "react";
import type { RunConditions, StatusName, ThresholdOp } from "./run-filter.js";

const STATUS: Record<StatusName, RunStatus> = {
  running: RunStatus.RUNNING,
  finished: RunStatus.FINISHED,
  failed: RunStatus.FAILED,
  killed: RunStatus.KILLED,
};

const OP: Record<ThresholdOp, MetricThreshold_Op> = {
  "<": MetricThreshold_Op.LESS,
  "<=": MetricThreshold_Op.LESS_OR_EQUAL,
  ">": MetricThreshold_Op.GREATER,
  ">=": MetricThreshold_Op.GREATER_OR_EQUAL,
};

/** The filter's conditions as SearchRuns fields. */
function searchFields(c: RunConditions) {
  return { statuses: c.statuses.map((s) => STATUS[s]), tags: c.tags, params: c.params, metrics: c.metrics.map((m) => ({ key: m.key, op: OP[m.op], value: m.value })) };
}

/** The first page: what fills the screen, fast. */
export const FIRST_PAGE_SIZE = 100;
/** Every later page (the server's maximum is 1000, and it cuts pages of large runs shorter). */
export const RUNS_PAGE_SIZE = 1000;
/** Runs one table holds at most (the newest): a tab's memory stays bounded; a filter narrows the rest in. */
export const MAX_LOADED_RUNS = 50_000;

export interface ExperimentRuns {
  runs: Run[];
  /** True once the last page is in, or MAX_LOADED_RUNS are. */
  complete: boolean;
  /** More runs match than MAX_LOADED_RUNS: only the newest are shown. */
  truncated: boolean;
  error: unknown;
  isPending: boolean;
}

export function useExperimentRuns(project: string, experiment: string, conditions: RunConditions | undefined): ExperimentRuns {
  const search = { project, experiments: [experiment], ...(conditions ? searchFields(conditions) : {}) };
  const first = useQuery(ExperimentService.method.searchRuns, { ...search, pageSize: FIRST_PAGE_SIZE, pageToken: "" }, { enabled: conditions !== undefined });
  const after = first.data?.nextPageToken ?? "";
  const rest = useInfiniteQuery(
    ExperimentService.method.searchRuns,
    { ...search, pageSize: RUNS_PAGE_SIZE, pageToken: after },
    {
      pageParamKey: "pageToken",
      getNextPageParam: (last) => last.nextPageToken || undefined,
      enabled: conditions !== undefined && after !== "",
    },
  );
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = rest;
  const error = first.error ?? rest.error;
  const loaded = (first.data?.runs.length ?? 0) + (rest.data?.pages.reduce((n, p) => n + p.runs.length, 0) ?? 0);
  const full = loaded >= MAX_LOADED_RUNS;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !error && !full) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, error, full]);

  const head = first.data?.runs;
  const pages = rest.data?.pages;
  const runs = useMemo(() => [...(head ?? []), ...(pages ? pages.flatMap((p) => p.runs) : [])], [head, pages]);
  const truncated = full && hasNextPage;
  const complete = first.isSuccess && (after === "" || (rest.isSuccess && (!hasNextPage || full)));
  return { runs, complete, truncated, error, isPending: conditions !== undefined && first.isPending };
}
