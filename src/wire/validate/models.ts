/** Validation of ModelService requests. */
import type { CreateModelVersionRequest, SearchModelVersionsRequest } from "../../../gen/traintrack/v1/model_pb.js";
import { InvalidInputError } from "../../services/errors.js";
import type { NewModelVersion, VersionSelector } from "../../services/models/index.js";
import { artefactSources } from "./datasets.js";
import { entries, key, thresholds } from "./experiments.js";
import * as f from "./fields.js";

// Lower-case, starting with a letter: never mistaken for a version number ("3"), and the same however it is typed.
const ALIAS = /^[a-z][a-z0-9_-]{0,63}$/;
const MAX_SIGNATURE_BYTES = 64 * 1024;
const MAX_DESCRIPTION_BYTES = 64 * 1024;
const MAX_TAGS = 100;
const MAX_MODELS_PER_SEARCH = 1000;

export const modelName = (field: string, value: string) => f.datasetName(field, value);

export function alias(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required, e.g. "production"`);
  if (!ALIAS.test(value)) {
    throw new InvalidInputError(
      field,
      `${field} ${JSON.stringify(value.slice(0, 80))} must be 1 to 64 lower-case letters, digits, "_" and "-", starting with a letter (so that it is never read as a version number)`,
    );
  }
  return value;
}

/** A version number: 1 or more. */
export function version(field: string, value: bigint): number {
  if (value < 1n) throw new InvalidInputError(field, `${field} must be 1 or more`);
  return f.count(field, value, 2 ** 31 - 1);
}

export function selector(sel: { case: "version"; value: bigint } | { case: "alias"; value: string } | { case: undefined; value?: undefined }): VersionSelector {
  if (sel.case === "version") return { version: version("version", sel.value) };
  if (sel.case === "alias") return { alias: alias("alias", sel.value) };
  throw new InvalidInputError("version", "give a version number or an alias");
}

export function tags(field: string, map: Record<string, string>): Record<string, string> {
  const list = entries(field, map);
  if (list.length > MAX_TAGS) throw new InvalidInputError(field, `${field} has ${list.length} entries; the limit is ${MAX_TAGS}`);
  return Object.fromEntries(list);
}

export function description(field: string, value: string): string {
  return f.text(field, value, MAX_DESCRIPTION_BYTES);
}

export function removeTags(field: string, keys: string[]): string[] {
  if (keys.length > MAX_TAGS) throw new InvalidInputError(field, `at most ${MAX_TAGS} tags are removed at once`);
  return keys.map((k, i) => key(`${field}[${i}]`, k));
}

/** Free-form JSON text describing inputs and outputs; empty for none. */
export function signature(field: string, value: string): string {
  if (!value) return "";
  f.text(field, value, MAX_SIGNATURE_BYTES);
  try {
    JSON.parse(value);
  } catch {
    throw new InvalidInputError(field, `${field} must be JSON text, e.g. {"inputs": [...], "outputs": [...]}`);
  }
  return value;
}

/**
 * A path prefix names a directory: "model" takes model/…, as "model/" does. Cut
 * anywhere else, it would take models-old/… as "s-old/…" and model/w.bin as
 * "/w.bin", an absolute path.
 */
const directory = (prefix: string) => (prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`);

export function createVersion(req: CreateModelVersionRequest, createdBy: string): NewModelVersion {
  let source: NewModelVersion["source"];
  if (req.source.case === "runArtefacts") {
    source = { kind: "run", runId: f.id("run_artefacts.run_id", req.source.value.runId), prefix: directory(f.text("run_artefacts.path_prefix", req.source.value.pathPrefix, 1024)) };
    if (req.runId && req.runId !== req.source.value.runId) throw new InvalidInputError("run_id", "run_id differs from run_artefacts.run_id; leave it empty");
  } else if (req.source.case === "uploads") {
    if (req.source.value.files.length === 0) throw new InvalidInputError("uploads.files", "uploads.files is empty; name at least one upload");
    source = { kind: "uploads", files: artefactSources(req.source.value.files) };
  } else {
    throw new InvalidInputError("source", "give the files: run_artefacts (a run and a path prefix) or uploads");
  }
  return {
    model: modelName("model", req.model),
    source,
    runId: req.runId ? f.id("run_id", req.runId) : "",
    framework: f.text("framework", req.framework, 64),
    signature: signature("signature", req.signature),
    description: description("description", req.description),
    tags: tags("tags", req.tags),
    requestId: req.requestId ? f.id("request_id", req.requestId) : "",
    createModel: req.createModel,
    project: req.project ? f.datasetName("project", req.project) : "",
    createdBy,
  };
}

export function search(req: SearchModelVersionsRequest) {
  if (req.models.length > MAX_MODELS_PER_SEARCH) throw new InvalidInputError("models", `at most ${MAX_MODELS_PER_SEARCH} models per search`);
  return {
    modelNames: [...new Set(req.models.map((m, i) => modelName(`models[${i}]`, m)))],
    alias: req.alias ? alias("alias", req.alias) : undefined,
    tags: tags("tags", req.tags),
    framework: req.framework ? f.text("framework", req.framework, 64) : undefined,
    runParams: entries("run_params", req.runParams),
    runMetrics: thresholds("run_metrics", req.runMetrics),
    orderByMetric: req.orderByMetric ? key("order_by_metric", req.orderByMetric) : undefined,
    descending: req.descending,
    pageSize: f.pageSize("page_size", req.pageSize),
    pageToken: f.pageToken("page_token", req.pageToken),
  };
}
