/** The runs named in ?runs=id,id,… : one GetRun each (the API has no batch read), in the URL's order. */
import { createQueryOptions, useTransport } from "@connectrpc/connect-query";
import { ExperimentService, type Run } from "@gen/traintrack/v1/experiment_pb.js";
import { useQueries } from "@tanstack/react-query";
import { navigate, useLocation } from "../../router.js";

/** GetMetricHistory takes at most 100 runs per call. */
export const MAX_RUNS = 100;

export function useRunIds(): string[] {
  const raw = useLocation().query.get("runs") ?? "";
  return [...new Set(raw.split(",").map((s) => s.trim()).filter(Boolean))].slice(0, MAX_RUNS);
}

/** The compare URL without one run. */
export function removeRun(ids: string[], runId: string): void {
  const query = new URLSearchParams(window.location.search);
  query.set("runs", ids.filter((id) => id !== runId).join(","));
  navigate(`/compare?${query.toString().replaceAll("%2C", ",")}`);
}

export function useRuns(ids: string[]): { runs: Run[]; error: unknown; pending: boolean } {
  const transport = useTransport();
  const results = useQueries({
    queries: ids.map((runId) => createQueryOptions(ExperimentService.method.getRun, { runId }, { transport })),
  });
  const runs = results.flatMap((r) => (r.data?.run ? [r.data.run] : []));
  return { runs, error: results.find((r) => r.error)?.error ?? null, pending: results.some((r) => r.isPending) };
}
