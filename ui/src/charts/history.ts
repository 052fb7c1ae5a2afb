/**
 * What a chart asks the server for: one key's history for its runs,
 * downsampled on the server to about two points per pixel of the chart
 * (each bucket keeps its minimum and maximum, so spikes and the global
 * extremes stay visible), over the whole run or a zoomed step range.
 */
import { ExperimentService } from "@gen/traintrack/v1/experiment_pb.js";
import { useQuery } from "@connectrpc/connect-query";

export interface StepRange {
  min: number;
  max: number;
}

/** The server takes 2 to 100,000 points per series, and run ids × max_points ≤ 1,000,000. */
export function maxPointsFor(width: number, runs: number): number {
  const wanted = Math.max(2, Math.round(2 * width));
  return Math.min(wanted, 100_000, Math.floor(1_000_000 / Math.max(1, runs)));
}

/** Live charts (a running run) refresh this often, and only while on screen. */
export const LIVE_INTERVAL_MS = 5_000;

export function useMetricHistory(key: string, runIds: string[], width: number, range: StepRange | undefined, live: boolean) {
  const maxPoints = maxPointsFor(width, runIds.length);
  const input = {
    key,
    runIds,
    maxPoints,
    ...(range ? { minStep: BigInt(range.min), maxStep: BigInt(range.max) } : {}),
  };
  return useQuery(ExperimentService.method.getMetricHistory, input, {
    enabled: width > 0 && runIds.length > 0,
    refetchInterval: live ? LIVE_INTERVAL_MS : false,
    // A finished run's history does not change: keep it while the page lives.
    staleTime: live ? 0 : Infinity,
  });
}
