/** Validation of metric batches and history requests: the per-point checks of the write path. */
import type { GetMetricHistoryRequest, MetricPoint } from "../../../gen/traintrack/v1/experiment_pb.js";
import { InvalidInputError, LimitExceededError } from "../../services/errors.js";
import { MAX_HISTORY_POINTS_PER_RESPONSE } from "../../services/read-limits.js";
import type { HistoryQuery, MetricBatch } from "../../services/metrics.js";
import { key, host } from "./experiments.js";
import * as f from "./fields.js";

/** Points per batch; larger batches take too long in one transaction and one message. */
export const MAX_POINTS_PER_BATCH = 10_000;
const MAX_RUNS_PER_HISTORY = 100;
const MAX_STEP = BigInt(Number.MAX_SAFE_INTEGER);
// google.protobuf.Timestamp's range: 0001-01-01 to 9999-12-31.
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

/** A LogMetrics request or one StreamMetrics message. */
export function metricBatch(req: { runId: string; batchId: string; points: MetricPoint[] }): MetricBatch {
  const batchId = f.id("batch_id", req.batchId);
  if (req.points.length === 0) throw new InvalidInputError("points", "the batch has no points");
  if (req.points.length > MAX_POINTS_PER_BATCH) {
    throw new InvalidInputError("points", `the batch has ${req.points.length} points; the limit is ${MAX_POINTS_PER_BATCH}: split it into several batches`);
  }
  const n = req.points.length;
  const points: MetricBatch["points"] = {
    keys: new Array<string>(n),
    values: new Array<number>(n),
    steps: new Array<number>(n),
    tsMs: new Array<number | undefined>(n),
    ranks: new Array<number | null>(n),
    hosts: new Array<string>(n),
  };
  const checkedKeys = new Set<string>(); // a batch repeats a few keys many times: check each once
  for (let i = 0; i < n; i++) {
    const p = req.points[i] as MetricPoint;
    if (!checkedKeys.has(p.key)) checkedKeys.add(key(`points[${i}].key`, p.key));
    if (p.step > MAX_STEP || p.step < -MAX_STEP) throw new InvalidInputError(`points[${i}].step`, `points[${i}].step must be between -(2^53 - 1) and 2^53 - 1`);
    let tsMs: number | undefined;
    if (p.timestamp) {
      const { seconds, nanos } = p.timestamp;
      if (seconds < MIN_SECONDS || seconds > MAX_SECONDS || nanos < 0 || nanos > 999_999_999) {
        throw new InvalidInputError(`points[${i}].timestamp`, `points[${i}].timestamp must lie between years 1 and 9999`);
      }
      tsMs = Number(seconds) * 1000 + Math.floor(nanos / 1_000_000);
    }
    points.keys[i] = p.key;
    // NaN and ±Infinity are values like any other: stored and returned as sent.
    points.values[i] = p.value;
    points.steps[i] = Number(p.step);
    points.tsMs[i] = tsMs;
    points.ranks[i] = p.worker ? nonNegative(`points[${i}].worker.rank`, p.worker.rank) : null;
    points.hosts[i] = p.worker ? host(`points[${i}].worker.host`, p.worker.host) : "";
  }
  return { runId: f.id("run_id", req.runId), batchId, points };
}

function nonNegative(field: string, value: number): number {
  if (value < 0) throw new InvalidInputError(field, `${field} must not be negative`);
  return value;
}

export function history(req: GetMetricHistoryRequest): HistoryQuery {
  if (req.runIds.length === 0) throw new InvalidInputError("run_ids", "run_ids needs at least one run id");
  if (req.runIds.length > MAX_RUNS_PER_HISTORY) throw new InvalidInputError("run_ids", `at most ${MAX_RUNS_PER_HISTORY} run ids`);
  const runIds = req.runIds.map((id, i) => f.id(`run_ids[${i}]`, id));
  if (new Set(runIds).size !== runIds.length) throw new InvalidInputError("run_ids", "run_ids names a run twice");
  if (req.maxPoints !== 0 && (req.maxPoints < 2 || req.maxPoints > 100_000)) {
    throw new InvalidInputError("max_points", "max_points must be 0 (every point, paginated) or from 2 to 100000");
  }
  if (req.maxPoints !== 0 && (req.pageToken || req.pageSize)) {
    throw new InvalidInputError("max_points", "a downsampled history has no pages: send max_points without page_size and page_token");
  }
  const pageSize = f.pageSize("page_size", req.pageSize, 10_000, 100_000);
  // Checked before anything is read: what the request could make the response hold.
  const asked = req.maxPoints > 0 ? runIds.length * req.maxPoints : pageSize;
  if (asked > MAX_HISTORY_POINTS_PER_RESPONSE) {
    throw new LimitExceededError(
      `${runIds.length} runs × max_points ${req.maxPoints} could return ${asked} points; a response holds at most ${MAX_HISTORY_POINTS_PER_RESPONSE}: ` +
        `ask for at most ${Math.floor(MAX_HISTORY_POINTS_PER_RESPONSE / runIds.length)} max_points with these runs, or for fewer runs per call`,
    );
  }
  if (req.minStep !== undefined && req.maxStep !== undefined && req.minStep > req.maxStep) {
    throw new InvalidInputError("min_step", `min_step ${req.minStep} is above max_step ${req.maxStep}: send min_step <= max_step (both inclusive)`);
  }
  return {
    key: key("key", req.key),
    runIds,
    maxPoints: req.maxPoints,
    pageSize,
    pageToken: f.pageToken("page_token", req.pageToken),
    steps: { min: stepBound(req.minStep, -MAX_STEP), max: stepBound(req.maxStep, MAX_STEP) },
  };
}

// No stored step lies outside ±(2^53 - 1), so a bound beyond it is that bound: clamping loses nothing.
function stepBound(bound: bigint | undefined, unbounded: bigint): number {
  if (bound === undefined) return Number(unbounded);
  return Number(bound > MAX_STEP ? MAX_STEP : bound < -MAX_STEP ? -MAX_STEP : bound);
}
