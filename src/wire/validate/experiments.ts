/** Validation of ProjectService and ExperimentService requests (metrics: ./metrics.ts). */
import type {
  CreateRunRequest,
  ListRunsRequest,
  MetricThreshold,
  SearchRunsRequest,
  SetRunTagsRequest,
  UseDatasetsRequest,
} from "../../../gen/traintrack/v1/experiment_pb.js";
import { MetricThreshold_Op, RunStatus } from "../../../gen/traintrack/v1/experiment_pb.js";
import type { VersionKey } from "../../db/datasets-repo.js";
import type { RunMetricOp } from "../../db/experiments-repo.js";
import type { RunStatus as Status } from "../../db/schema.js";
import { InvalidInputError } from "../../services/errors.js";
import { MAX_EXPERIMENTS_PER_SEARCH } from "../../services/read-limits.js";
import type { NewRun, RunSearch } from "../../services/runs.js";
import { versionRef } from "./datasets.js";
import * as f from "./fields.js";

const MAX_ENTRIES = 1000;
const MAX_VALUE_BYTES = 6000;
const MAX_THRESHOLDS = 20;
// As MLflow: what users already name their keys with, and nothing a shell, URL or terminal trips on.
const KEY = /^[A-Za-z0-9_\-./ ]+$/;

/** A tag, param or metric key: 1 to 250 bytes of letters, digits, "_", "-", ".", "/" and " ". */
export function key(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > 250) throw new InvalidInputError(field, `${field} is ${bytes} bytes long; the limit is 250`);
  if (!KEY.test(value)) {
    throw new InvalidInputError(field, `${field} ${JSON.stringify(value.slice(0, 80))} may only hold letters, digits, "_", "-", ".", "/" and spaces`);
  }
  return value;
}

/** Tags or params: at most 1000 entries, keys as `key`, values at most 6000 bytes. */
export function entries(field: string, map: Record<string, string>): [string, string][] {
  const list = Object.entries(map);
  if (list.length > MAX_ENTRIES) throw new InvalidInputError(field, `${field} has ${list.length} entries; the limit is ${MAX_ENTRIES}`);
  return list.map(([k, v]) => [key(`${field} key`, k), f.text(`${field}["${k}"]`, v, MAX_VALUE_BYTES)]);
}

const STATUSES: Partial<Record<RunStatus, Status>> = {
  [RunStatus.RUNNING]: "running",
  [RunStatus.FINISHED]: "finished",
  [RunStatus.FAILED]: "failed",
  [RunStatus.KILLED]: "killed",
};

export function status(field: string, value: RunStatus): Status {
  const found = STATUSES[value];
  if (!found) throw new InvalidInputError(field, `${field} must be RUNNING, FINISHED, FAILED or KILLED`);
  return found;
}

export function host(field: string, value: string): string {
  f.noControl(field, value);
  return f.text(field, value, 255);
}

export function rank(field: string, value: number | undefined): number | null {
  if (value === undefined) return null;
  if (value < 0) throw new InvalidInputError(field, `${field} must not be negative`);
  return value;
}

export function createRun(req: CreateRunRequest): NewRun {
  const name = f.text("name", req.name, 250);
  f.noControl("name", name);
  const requestId = f.text("request_id", req.requestId, 128);
  f.noControl("request_id", requestId);
  return {
    project: f.datasetName("project", req.project),
    experiment: f.datasetName("experiment", req.experiment),
    name,
    tags: entries("tags", req.tags),
    params: entries("params", req.params),
    group: req.group ? key("group", req.group) : "",
    rank: rank("rank", req.rank),
    host: host("host", req.host),
    requestId,
  };
}

export function setTags(req: SetRunTagsRequest): { set: [string, string][]; remove: string[] } {
  const set = entries("tags", req.tags);
  if (req.remove.length > MAX_ENTRIES) throw new InvalidInputError("remove", `remove has ${req.remove.length} keys; the limit is ${MAX_ENTRIES}`);
  const remove = req.remove.map((k, i) => key(`remove[${i}]`, k));
  const both = remove.find((k) => k in req.tags);
  if (both !== undefined) throw new InvalidInputError("remove", `tag "${both}" is both set and removed; do one`);
  return { set, remove };
}

const OPS: Partial<Record<MetricThreshold_Op, RunMetricOp>> = {
  [MetricThreshold_Op.LESS]: "<",
  [MetricThreshold_Op.LESS_OR_EQUAL]: "<=",
  [MetricThreshold_Op.GREATER]: ">",
  [MetricThreshold_Op.GREATER_OR_EQUAL]: ">=",
};

/** Latest-metric thresholds (SearchRuns, SearchModelVersions): at most 20, no NaN. */
export function thresholds(field: string, list: MetricThreshold[]): { key: string; op: RunMetricOp; value: number }[] {
  if (list.length > MAX_THRESHOLDS) throw new InvalidInputError(field, `at most ${MAX_THRESHOLDS} metric thresholds`);
  return list.map((m, i) => {
    const op = OPS[m.op];
    if (!op) throw new InvalidInputError(`${field}[${i}].op`, `${field}[${i}].op must be LESS, LESS_OR_EQUAL, GREATER or GREATER_OR_EQUAL`);
    if (Number.isNaN(m.value)) throw new InvalidInputError(`${field}[${i}].value`, `${field}[${i}].value must be a number, not NaN`);
    return { key: key(`${field}[${i}].key`, m.key), op, value: m.value };
  });
}

export function searchRuns(req: SearchRunsRequest): RunSearch {
  if (req.experiments.length > MAX_EXPERIMENTS_PER_SEARCH) {
    throw new InvalidInputError(
      "experiments",
      `experiments names ${req.experiments.length} experiments; the limit is ${MAX_EXPERIMENTS_PER_SEARCH}: search the whole project (no experiments), or split the names over several calls`,
    );
  }
  return {
    project: f.datasetName("project", req.project),
    experiments: [...new Set(req.experiments.map((e, i) => f.datasetName(`experiments[${i}]`, e)))],
    // Four values at most, whatever the request repeats.
    statuses: [...new Set(req.statuses.map((s, i) => status(`statuses[${i}]`, s)))],
    group: "",
    tags: entries("tags", req.tags),
    params: entries("params", req.params),
    metrics: thresholds("metrics", req.metrics),
    pageSize: f.pageSize("page_size", req.pageSize),
    pageToken: f.pageToken("page_token", req.pageToken),
  };
}

export function listRuns(req: ListRunsRequest): RunSearch {
  return {
    project: f.datasetName("project", req.project),
    experiments: req.experiment ? [f.datasetName("experiment", req.experiment)] : [],
    statuses: [],
    group: req.group ? key("group", req.group) : "",
    tags: [],
    params: [],
    metrics: [],
    pageSize: f.pageSize("page_size", req.pageSize),
    pageToken: f.pageToken("page_token", req.pageToken),
  };
}

/** Dataset versions a run read: 1 to 1000, each with name and version. */
export function useDatasets(req: UseDatasetsRequest): VersionKey[] {
  if (req.datasets.length > MAX_ENTRIES) throw new InvalidInputError("datasets", `datasets has ${req.datasets.length} entries; the limit is ${MAX_ENTRIES}`);
  if (req.datasets.length === 0) throw new InvalidInputError("datasets", "datasets needs at least one version");
  return req.datasets.map((d, i) => versionRef(`datasets[${i}]`, d));
}
