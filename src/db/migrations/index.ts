import type { Migration, MigrationProvider } from "kysely/migration";
import * as createDatasets from "./20261123T1800Z-create-datasets.js";
import * as createExperiments from "./20261123T1900Z-create-experiments.js";
import * as metricRollups from "./20261123T2000Z-metric-rollups.js";
import * as createRunArtefacts from "./20261123T2100Z-create-run-artefacts.js";
import * as coarserRollups from "./20261123T2200Z-coarser-rollups.js";
import * as blobClaims from "./20261124T0900Z-blob-claims.js";
import * as createUploadSegments from "./20261129T2000Z-create-upload-segments.js";
import * as physicalKeys from "./20261130T0900Z-physical-keys.js";
import * as teams from "./20261201T0900Z-teams.js";
import * as modelRegistry from "./20261202T0900Z-model-registry.js";
import * as pipelines from "./20261203T0900Z-pipelines.js";
import * as browserSessions from "./20261204T0900Z-browser-sessions.js";

/** Migrations are listed in code (not read from a folder) so bundling and tsx agree on what exists. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      "20261123T1800Z-create-datasets": createDatasets,
      "20261123T1900Z-create-experiments": createExperiments,
      "20261123T2000Z-metric-rollups": metricRollups,
      "20261123T2100Z-create-run-artefacts": createRunArtefacts,
      "20261123T2200Z-coarser-rollups": coarserRollups,
      "20261124T0900Z-blob-claims": blobClaims,
      "20261129T2000Z-create-upload-segments": createUploadSegments,
      "20261130T0900Z-physical-keys": physicalKeys,
      "20261201T0900Z-teams": teams,
      "20261202T0900Z-model-registry": modelRegistry,
      "20261203T0900Z-pipelines": pipelines,
      "20261204T0900Z-browser-sessions": browserSessions,
    };
  },
};
