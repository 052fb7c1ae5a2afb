/**
 * Every run of an experiment that matches the filter, loaded page after page
 * in the background: the first page paints at once, the others follow while
 * the user reads, so sorting (which SearchRuns does not do: it answers newest
 * first) covers every run once the last page is in.
 */
import { useInfiniteQuery } from "@connectrpc/connect-query";
import { ExperimentService, type Run } from "@gen/traintrack/v1/experiment_pb.js";
import { useEffect, useMemo } from "react";
import type { RunConditions } from "./run-filter.js";

/** Runs per SearchRuns call (the server's maximum is 1000, and it cuts pages of large runs shorter). */
export const RUNS_PAGE_SIZE = 1000;

export interface ExperimentRuns {
  runs: Run[];
  /** True once the last page is in. */
  complete: boolean;
  error: unknown;
  isPending: boolean;
}

export function useExperimentRuns(project: string, experiment: string, conditions: RunConditions | undefined): ExperimentRuns {
  const query = useInfiniteQuery(
    ExperimentService.method.searchRuns,
    conditions
      ? {
          project,
          experiments: [experiment],
          statuses: conditions.statuses,
          tags: conditions.tags,
          params: conditions.params,
          metrics: conditions.metrics,
          pageSize: RUNS_PAGE_SIZE,
          pageToken: "",
        }
      : { project, experiments: [experiment], pageSize: RUNS_PAGE_SIZE, pageToken: "" },
    {
      pageParamKey: "pageToken",
      getNextPageParam: (last) => last.nextPageToken || undefined,
      enabled: conditions !== undefined,
    },
  );
  const { hasNextPage, isFetchingNextPage, fetchNextPage, error } = query;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !error) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, error]);

  const pages = query.data?.pages;
  const runs = useMemo(() => (pages ? pages.flatMap((p) => p.runs) : []), [pages]);
  return { runs, complete: query.isSuccess && !hasNextPage, error: query.error, isPending: conditions !== undefined && query.isPending };
}
