/** What the model registry's services take and give. */
import type { AliasMoveRow, AliasRow } from "../../db/model-aliases-repo.js";
import type { ModelFileRow, ModelRow, ModelVersionRow } from "../../db/models-repo.js";
import type { ArtefactSource } from "../upload-commit.js";

export type { AliasMoveRow, AliasRow, ModelFileRow };

export type ModelView = ModelRow & { project: string; aliases: AliasRow[] };

export type VersionView = ModelVersionRow & { files: ModelFileRow[]; aliases: string[]; sortMetric: number | null };

export type VersionSelector = { version: number } | { alias: string };

export interface NewModelVersion {
  model: string;
  source: { kind: "run"; runId: string; prefix: string } | { kind: "uploads"; files: ArtefactSource[] };
  /** The run that made it (with uploads); "" for none. */
  runId: string;
  framework: string;
  signature: string;
  description: string;
  tags: Record<string, string>;
  requestId: string;
  createModel: boolean;
  project: string;
  /** The user registering it. */
  createdBy: string;
}
