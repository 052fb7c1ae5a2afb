/** Validation of DatasetService requests: proto in, domain input out, InvalidInputError otherwise. */
import type {
  ArtefactSource,
  CreateDatasetRequest,
  DatasetVersionRef,
  GetLineageRequest,
  ListArtefactsRequest,
} from "../../../gen/traintrack/v1/dataset_pb.js";
import type { VersionKey } from "../../db/datasets-repo.js";
import type { CreateDatasetInput } from "../../services/dataset-commit.js";
import type { ArtefactSource as Source } from "../../services/upload-commit.js";
import { InvalidInputError } from "../../services/errors.js";
import {
  DEFAULT_ARTEFACT_PAGE,
  DEFAULT_LINEAGE_NODES,
  MAX_ARTEFACT_PAGE,
  MAX_LINEAGE_DEPTH,
  MAX_LINEAGE_NODES,
  MAX_PARENTS_PER_VERSION as MAX_PARENTS,
} from "../../services/read-limits.js";
import * as f from "./fields.js";

const MAX_METADATA_ENTRIES = 256;

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

/** ListArtefacts: one version (both name and version: pages of "the latest" could span two versions), a prefix, a page. */
export function listArtefacts(req: ListArtefactsRequest): { dataset: VersionKey; prefix: string; pageSize: number; pageToken: string } {
  const prefix = f.text("path_prefix", req.pathPrefix, 1024);
  f.noControl("path_prefix", prefix);
  return {
    dataset: versionRef("dataset", req.dataset),
    prefix,
    pageSize: f.pageSize("page_size", req.pageSize, DEFAULT_ARTEFACT_PAGE, MAX_ARTEFACT_PAGE),
    pageToken: f.pageToken("page_token", req.pageToken),
  };
}

/** GetLineage's depth (0: all, up to 100) and max_nodes (0: the default). */
export function lineageBounds(req: GetLineageRequest): { depth: number; maxNodes: number } {
  if (req.maxNodes < 0 || req.maxNodes > MAX_LINEAGE_NODES) {
    throw new InvalidInputError(
      "max_nodes",
      `max_nodes must be between 0 (the default, ${DEFAULT_LINEAGE_NODES}) and ${MAX_LINEAGE_NODES}; for a larger graph, ask again from the versions at the edge of a truncated one`,
    );
  }
  return {
    depth: f.pageSize("depth", req.depth, 0, MAX_LINEAGE_DEPTH),
    maxNodes: req.maxNodes === 0 ? DEFAULT_LINEAGE_NODES : req.maxNodes,
  };
}
