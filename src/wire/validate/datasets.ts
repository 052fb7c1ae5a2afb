/** Validation of DatasetService requests: proto in, domain input out, InvalidInputError otherwise. */
import type { ArtefactSource, CreateDatasetRequest, DatasetVersionRef } from "../../../gen/traintrack/v1/dataset_pb.js";
import type { VersionKey } from "../../db/datasets-repo.js";
import type { CreateDatasetInput } from "../../services/dataset-commit.js";
import type { ArtefactSource as Source } from "../../services/upload-commit.js";
import { InvalidInputError } from "../../services/errors.js";
import * as f from "./fields.js";

const MAX_METADATA_ENTRIES = 256;
const MAX_PARENTS = 1000;

export function createDataset(req: CreateDatasetRequest): CreateDatasetInput {
  const entries = Object.entries(req.metadata);
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw new InvalidInputError("metadata", `metadata has ${entries.length} entries; the limit is ${MAX_METADATA_ENTRIES}`);
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of entries) {
    metadata[f.datasetName("metadata key", key)] = f.text(`metadata["${key}"]`, value, 4096);
  }
  if (req.derivedFrom.length > MAX_PARENTS) throw new InvalidInputError("derived_from", `at most ${MAX_PARENTS} parents`);
  return {
    name: f.datasetName("name", req.name),
    version: f.versionString("version", req.version),
    description: f.text("description", req.description, 4096),
    metadata,
    artefacts: artefactSources(req.artefacts),
    derivedFrom: req.derivedFrom.map((ref, i) => versionRef(`derived_from[${i}]`, ref)),
  };
}

/** Uploads named as artefacts (of a dataset version or a run), with their paths. */
export function artefactSources(sources: ArtefactSource[]): Source[] {
  return sources.map((a, i) => ({
    uploadId: f.id(`artefacts[${i}].upload_id`, a.uploadId),
    path: f.artefactPath(`artefacts[${i}].path`, a.path),
  }));
}

/** A reference to one version: both name and version required. */
export function versionRef(field: string, ref: DatasetVersionRef | undefined): VersionKey {
  if (!ref) throw new InvalidInputError(field, `${field} is required`);
  return { name: f.datasetName(`${field}.name`, ref.name), version: f.versionString(`${field}.version`, ref.version) };
}

/** A dataset and optionally a version (empty: the latest). */
export function datasetOrLatest(name: string, version: string): VersionKey {
  return { name: f.datasetName("name", name), version: version ? f.versionString("version", version) : "" };
}
