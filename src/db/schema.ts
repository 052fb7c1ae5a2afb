/**
 * Table types, one interface per table, read and written in camelCase through
 * Kysely's CamelCasePlugin (the SQL is snake_case). Every row carries its
 * organisation: every query filters on it.
 */
import type { ColumnType, Generated, Insertable, Selectable } from "kysely";

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

export interface OrganizationsTable {
  id: string;
  name: string;
  createdAt: CreatedAt;
}

export interface ApiKeysTable {
  id: string;
  orgId: string;
  name: string;
  /** sha256 of the key; the key itself is shown once and never stored. */
  keyHash: string;
  createdAt: CreatedAt;
  revokedAt: Date | null;
}

export type UploadState = "in_progress" | "complete" | "committed" | "discarded";

export interface UploadsTable {
  id: string;
  orgId: string;
  fileName: string;
  mediaType: string;
  declaredSize: number | null;
  declaredSha256: string | null;
  state: UploadState;
  /** Sum of the durable segments: where a broken stream resumes. */
  bytesReceived: number;
  segmentCount: number;
  sha256: string | null;
  discardReason: string | null;
  /** Fences concurrent streams: only the holder of an unexpired lease writes. */
  writerToken: string | null;
  writerLeaseUntil: Date | null;
  /** Small uploads skip staging: their bytes were written to their blob, under a lease, when they completed. */
  storedAsBlob: ColumnType<boolean, boolean | undefined, boolean>;
  /** True once the staged segments have been deleted from object storage. */
  stagingPurged: ColumnType<boolean, boolean | undefined, boolean>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
  expiresAt: Date;
}

export interface DatasetsTable {
  id: string;
  orgId: string;
  name: string;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface DatasetVersionsTable {
  id: string;
  orgId: string;
  datasetId: string;
  /** Commit order: "latest" means the highest. */
  seq: Generated<number>;
  version: string;
  description: string;
  metadata: ColumnType<Record<string, string>, string, string>;
  /** Digest of everything the version was created from; tells a retry from a conflict. */
  fingerprint: string;
  totalSize: number;
  artefactCount: number;
  createdAt: CreatedAt;
}

export interface ArtefactsTable {
  versionId: string;
  orgId: string;
  path: string;
  sha256: string;
  size: number;
  mediaType: string;
  uploadId: string;
}

export interface LineageEdgesTable {
  orgId: string;
  parentId: string;
  childId: string;
}

export type BlobState = "live" | "deleting";

/**
 * One row per permanent, content-addressed object. A commit leases the row
 * before copying bytes in; the janitor deletes only rows that are unreferenced
 * and unleased, marking them "deleting" first so a commit never reuses an
 * object that is about to disappear.
 */
export interface BlobsTable {
  orgId: string;
  sha256: string;
  size: number;
  state: BlobState;
  leaseUntil: Date;
  createdAt: CreatedAt;
}

export interface Database {
  organizations: OrganizationsTable;
  apiKeys: ApiKeysTable;
  uploads: UploadsTable;
  datasets: DatasetsTable;
  datasetVersions: DatasetVersionsTable;
  artefacts: ArtefactsTable;
  lineageEdges: LineageEdgesTable;
  blobs: BlobsTable;
}

export type UploadRow = Selectable<UploadsTable>;
export type NewUploadRow = Insertable<UploadsTable>;
export type DatasetVersionRow = Selectable<DatasetVersionsTable>;
export type ArtefactRow = Selectable<ArtefactsTable>;
