/**
 * Which stored file a download URL names, and the RPC it stands in for: a
 * GET of a dataset's or a run's artefact, or of a model version's file, is
 * allowed exactly when the matching Download… RPC would be (the same policy
 * rule, applied to the same request message), and its bytes come from the
 * same service call.
 */
import { create, type DescMethod } from "@bufbuild/protobuf";
import { DatasetService, DownloadArtefactRequestSchema } from "../../../gen/traintrack/v1/dataset_pb.js";
import { DownloadModelFileRequestSchema, ModelService } from "../../../gen/traintrack/v1/model_pb.js";
import { DownloadRunArtefactRequestSchema, RunArtefactService } from "../../../gen/traintrack/v1/run_artefact_pb.js";
import type { ByteRange, OpenedArtefact } from "../../services/artefacts.js";
import type { DatasetService as Datasets } from "../../services/datasets.js";
import type { ModelService as Models } from "../../services/models/index.js";
import { InvalidInputError, NotFoundError } from "../../services/errors.js";
import type { RunArtefactService as RunArtefacts } from "../../services/run-artefacts.js";
import { ruleOf, type Rule } from "../policy.js";
import * as f from "../validate/fields.js";
import * as m from "../validate/models.js";

export const DOWNLOAD_PREFIXES = ["/api/v1/datasets/", "/api/v1/runs/", "/api/v1/models/"] as const;

/** One file a URL names: the rule and request message of its RPC, and how to open its bytes. */
export interface FileSource {
  rule: Rule<unknown, unknown>;
  /** The RPC's request, for the rule (scopes, audit) to read. */
  request: unknown;
  /** The RPC's name, for the audit log and errors. */
  method: string;
  open(orgId: string, range: ByteRange): Promise<OpenedArtefact>;
}

export interface SourceDeps {
  datasets: Pick<Datasets, "openArtefact">;
  runArtefacts: Pick<RunArtefacts, "open">;
  models: Pick<Models, "openFile">;
}

const USAGE =
  "download URLs are /api/v1/datasets/<name>/versions/<version>/artefacts/<path>, /api/v1/runs/<run id>/artefacts/<path> and " +
  "/api/v1/models/<name>/versions/<number>/files/<path> (or …/aliases/<alias>/files/<path>), each part percent-encoded";

/** The RPC a download stands for: its access rule and its full name. */
function rpcOf(method: DescMethod): Pick<FileSource, "rule" | "method"> {
  const name = `${method.parent.typeName}/${method.name}`;
  const rule = ruleOf(method.parent.typeName, method.localName) as Rule<unknown, unknown> | undefined;
  // policy.test.ts keeps every method in the table; refusing is the safe answer if one goes missing.
  if (!rule) throw new Error(`${name} has no access rule`);
  return { rule, method: name };
}

/** The URL's path (no query) split and decoded: 400 for a malformed escape. */
function segmentsOf(urlPath: string): string[] {
  try {
    return urlPath.split("/").slice(1).map(decodeURIComponent);
  } catch {
    throw new InvalidInputError("path", `the URL has a malformed percent-escape; ${USAGE}`);
  }
}

/**
 * The file `urlPath` names. The artefact path is the rest of the URL, its
 * elements decoded one by one and checked as the RPC checks `path`: "..",
 * ".", empty elements, backslashes and control characters are refused, so
 * no URL reaches outside the version or run it names.
 */
export function sourceOf(urlPath: string, deps: SourceDeps): FileSource {
  const parts = segmentsOf(urlPath);
  const [api, v1, kind] = parts;
  if (api !== "api" || v1 !== "v1") throw new NotFoundError(USAGE);
  if (kind === "datasets" && parts[4] === "versions" && parts[6] === "artefacts" && parts.length > 7) {
    const dataset = { name: f.datasetName("name", parts[3] ?? ""), version: f.versionString("version", parts[5] ?? "") };
    const path = artefactPathOf(parts.slice(7));
    return {
      ...rpcOf(DatasetService.method.downloadArtefact),
      request: create(DownloadArtefactRequestSchema, { dataset, path }),
      open: (orgId, range) => deps.datasets.openArtefact(orgId, dataset, path, range),
    };
  }
  if (kind === "runs" && parts[4] === "artefacts" && parts.length > 5) {
    const runId = f.id("run_id", parts[3] ?? "");
    // Run ids are opaque, but never hold a "/": one decoded from %2F is a mistake, or a probe.
    if (runId.includes("/")) throw new InvalidInputError("run_id", `run id ${JSON.stringify(runId)} holds a "/"; ${USAGE}`);
    const path = artefactPathOf(parts.slice(5));
    return {
      ...rpcOf(RunArtefactService.method.downloadRunArtefact),
      request: create(DownloadRunArtefactRequestSchema, { runId, path }),
      open: (orgId, range) => deps.runArtefacts.open(orgId, runId, path, range),
    };
  }
  if (kind === "models" && (parts[4] === "versions" || parts[4] === "aliases") && parts[6] === "files" && parts.length > 7) {
    const model = m.modelName("model", parts[3] ?? "");
    const chosen = parts[4] === "versions" ? ({ case: "version", value: versionNumber(parts[5] ?? "") } as const) : ({ case: "alias", value: parts[5] ?? "" } as const);
    const selector = m.selector(chosen);
    const path = artefactPathOf(parts.slice(7));
    return {
      ...rpcOf(ModelService.method.downloadModelFile),
      request: create(DownloadModelFileRequestSchema, { model, selector: chosen, path }),
      open: (orgId, range) => deps.models.openFile(orgId, model, selector, path, range),
    };
  }
  throw new NotFoundError(USAGE);
}

function versionNumber(text: string): bigint {
  if (!/^[0-9]{1,10}$/.test(text)) throw new InvalidInputError("version", `model version ${JSON.stringify(text.slice(0, 20))} is not a number; ${USAGE}`);
  return BigInt(text);
}

function artefactPathOf(elements: string[]): string {
  const path = elements.join("/");
  if (!path) throw new InvalidInputError("path", `the artefact's path is missing; ${USAGE}`);
  return f.artefactPath("path", path);
}
