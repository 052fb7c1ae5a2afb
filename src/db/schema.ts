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

export type Role = "viewer" | "editor" | "maintainer" | "owner";
export type KeyScope = "all" | "read_only" | "project" | "scim";

export interface ApiKeysTable {
  id: string;
  orgId: string;
  /** The user or service account whose access the key carries (at most). */
  userId: string;
  name: string;
  /** sha256 of the key; the key itself is shown once and never stored. */
  keyHash: string;
  scope: ColumnType<KeyScope, KeyScope | undefined, never>;
  /** With scope "project": the only project the key reaches. */
  projectId: ColumnType<string | null, string | null | undefined, never>;
  /** The secret's first characters, to recognise a key in a list ("" for keys from before). */
  prefix: ColumnType<string, string | undefined, never>;
  expiresAt: ColumnType<Date | null, Date | null | undefined, never>;
  lastUsedAt: ColumnType<Date | null, Date | null | undefined, Date>;
  createdAt: CreatedAt;
  revokedAt: Date | null;
}

export interface UsersTable {
  id: string;
  orgId: string;
  userName: string;
  displayName: ColumnType<string, string | undefined, string>;
  email: ColumnType<string, string | undefined, string>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  serviceAccount: ColumnType<boolean, boolean | undefined, never>;
  /** May create and list organisations (the first start's admin). */
  instanceAdmin: ColumnType<boolean, boolean | undefined, never>;
  /** The identity provider's id (SCIM externalId); "" when none. */
  externalId: ColumnType<string, string | undefined, string>;
  /** What SCIM said of the user beyond the columns (name, emails…), returned as it came. */
  scimAttributes: ColumnType<Record<string, unknown>, string | undefined, string>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
  /** Deleted through SCIM: kept for the keys and audit events that name it, found by nothing. */
  deletedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface GroupsTable {
  id: string;
  orgId: string;
  displayName: string;
  externalId: ColumnType<string, string | undefined, string>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface GroupMembersTable {
  groupId: string;
  userId: string;
  orgId: string;
}

export interface GrantsTable {
  id: string;
  orgId: string;
  role: Role;
  /** Exactly one of userId and groupId. */
  userId: string | null;
  groupId: string | null;
  /** null: the whole organisation. */
  projectId: string | null;
  createdAt: CreatedAt;
}

export interface RegisteredModelsTable {
  id: string;
  orgId: string;
  name: string;
  /** The project whose grants govern the model; null: the organisation's. */
  projectId: string | null;
  description: ColumnType<string, string | undefined, string>;
  tags: ColumnType<Record<string, string>, string | undefined, string>;
  latestVersion: ColumnType<number, number | undefined, number>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
}

export interface ModelVersionsTable {
  id: string;
  orgId: string;
  modelId: string;
  version: number;
  runId: string | null;
  /** Its files are a run's artefacts (registered, not uploaded). */
  fromRunArtefacts: boolean;
  framework: string;
  signature: string;
  description: ColumnType<string, string, string>;
  tags: ColumnType<Record<string, string>, string, string>;
  requestId: string | null;
  /** Digest of what the version is made of, to tell a retry from a different request. */
  fingerprint: string;
  fileCount: number;
  totalSize: number;
  createdBy: string;
  createdAt: CreatedAt;
}

export interface ModelFilesTable {
  versionId: string;
  orgId: string;
  path: string;
  sha256: string;
  size: number;
  mediaType: string;
}

export interface ModelAliasesTable {
  modelId: string;
  alias: string;
  orgId: string;
  version: number;
  protected: boolean;
  updatedAt: Date;
}

export interface ModelAliasMovesTable {
  id: string;
  orgId: string;
  modelId: string;
  seq: Generated<number>;
  alias: string;
  /** null: the alias did not exist before. */
  fromVersion: number | null;
  /** null: the alias was deleted. */
  toVersion: number | null;
  userId: string;
  keyId: string;
  reason: string;
  at: Date;
}

export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "skipped" | "cached";
export type PipelineRunStatus = "running" | "succeeded" | "failed" | "aborted";

export interface PipelinesTable {
  id: string;
  orgId: string;
  name: string;
  projectId: string | null;
  description: ColumnType<string, string | undefined, string>;
  namespace: ColumnType<string, string | undefined, string>;
  createdAt: CreatedAt;
}

export interface PipelineRunsTable {
  id: string;
  orgId: string;
  pipelineId: string;
  seq: Generated<number>;
  status: PipelineRunStatus;
  startTime: Date;
  endTime: Date | null;
  trigger: ColumnType<string, string | undefined, string>;
  params: ColumnType<Record<string, string>, string | undefined, string>;
  facets: ColumnType<Record<string, unknown>, string | undefined, string>;
  requestId: string | null;
  externalId: string | null;
}

export interface PipelineStepsTable {
  id: string;
  orgId: string;
  pipelineId: string;
  pipelineRunId: string;
  name: string;
  instance: number;
  status: StepStatus;
  startTime: Date | null;
  endTime: Date | null;
  runId: string | null;
  cacheKey: ColumnType<string, string | undefined, string>;
  cachedFrom: string | null;
  message: ColumnType<string, string | undefined, string>;
  facets: ColumnType<Record<string, unknown>, string | undefined, string>;
  externalId: string | null;
}

export interface StepUpstreamTable {
  pipelineRunId: string;
  step: string;
  upstream: string;
  orgId: string;
}

export interface ExternalDatasetsTable {
  id: string;
  orgId: string;
  namespace: string;
  name: string;
  facets: ColumnType<Record<string, unknown>, string | undefined, string>;
  createdAt: CreatedAt;
}

export interface StepIoTable {
  stepId: string;
  orgId: string;
  pipelineRunId: string;
  step: string;
  direction: "in" | "out";
  refKey: string;
  datasetVersionId: string | null;
  modelVersionId: string | null;
  runId: string | null;
  path: string | null;
  externalId: string | null;
}

/** A web UI sign-in: the browser's cookie is the token whose hash is here; it acts with the key `keyId`. */
export interface BrowserSessionsTable {
  id: string;
  tokenHash: string;
  orgId: string;
  keyId: string;
  /** Sent back in x-csrf-token with every call the cookie authenticates. */
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  /** The absolute end (created + TRAINTRACK_SESSION_MAX_MS); idleness may end it sooner. */
  expiresAt: Date;
}

export interface AuditEventsTable {
  id: string;
  /** null for the instance administrator's TRAINTRACK_ADMIN_KEY, which has no organisation. */
  orgId: string | null;
  at: Date;
  userId: string;
  keyId: string;
  method: string;
  resource: string;
  source: string;
  outcome: string;
  requestId: string;
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
  /**
   * Where the upload's bytes are written: one object, at a key no other upload
   * shares. Null for uploads staged by earlier versions (separate segment objects).
   */
  objectKey: ColumnType<string | null, string | null | undefined, string | null>;
  /** The provider's handle of the object while it is written in parts (an S3 multipart upload id). */
  partsHandle: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set by earlier versions only: a small upload written to its content-addressed blob, under a lease, when it completed. */
  storedAsBlob: ColumnType<boolean, boolean | undefined, boolean>;
  /** True once whatever the upload left in object storage and nothing needs (a duplicate object, parts, old segments) is gone. */
  stagingPurged: ColumnType<boolean, boolean | undefined, boolean>;
  createdAt: CreatedAt;
  updatedAt: UpdatedAt;
  expiresAt: Date;
}

/** A durable segment of a staged upload, in order; `seq` counts from 0. */
export interface UploadSegmentsTable {
  uploadId: string;
  seq: number;
  size: number;
  /** The object the segment is a part of (part number seq + 1); a separate object for segments staged by earlier versions. */
  objectKey: string;
  /** The part's etag, checked when the parts are completed; null for segments staged by earlier versions. */
  etag: ColumnType<string | null, string | null | undefined, string | null>;
  /** SHA-256 state after the segment's last byte (hash-wasm's save()). */
  hashState: Uint8Array;
  createdAt: CreatedAt;
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
 * One row per distinct content of an organisation: (sha256, size) and the
 * physical key of the one object that holds those bytes. A commit inserts the
 * row, pointing at its upload's object, in the transaction that references it;
 * the janitor deletes only rows that are unreferenced and unleased (leases are
 * left from earlier versions), marking them "deleting" first (claimed by one
 * pass) so a commit never reuses an object that is about to disappear.
 */
export interface BlobsTable {
  orgId: string;
  sha256: string;
  size: number;
  physicalKey: string;
  state: BlobState;
  leaseUntil: Date;
  /** The janitor pass that marked a "deleting" row, and when; only that pass deletes it, until its claim ages out. */
  claimedBy: ColumnType<string | null, string | null | undefined, string | null>;
  claimedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
  createdAt: CreatedAt;
}

export interface ProjectsTable {
  id: string;
  orgId: string;
  name: string;
  description: string;
  createdAt: CreatedAt;
}

export interface ExperimentsTable {
  id: string;
  orgId: string;
  projectId: string;
  name: string;
  description: string;
  createdAt: CreatedAt;
}

export type RunStatus = "running" | "finished" | "failed" | "killed";

export interface RunsTable {
  id: string;
  orgId: string;
  projectId: string;
  experimentId: string;
  /** Creation order: lists go newest first by it. */
  seq: Generated<number>;
  name: string;
  status: RunStatus;
  runGroup: string | null;
  rank: number | null;
  host: string;
  /** Client idempotency key of CreateRun, unique per experiment. */
  requestId: string | null;
  startTime: Date;
  endTime: Date | null;
}

/** run_tags and run_params: one value per (run, key). */
export interface RunEntriesTable {
  runId: string;
  orgId: string;
  key: string;
  value: string;
}

export interface RunInputsTable {
  runId: string;
  orgId: string;
  versionId: string;
}

/** What a run produced: one content per (run, path), its bytes in the blob of its sha256. */
export interface RunArtefactsTable {
  runId: string;
  orgId: string;
  path: string;
  sha256: string;
  size: number;
  mediaType: string;
  uploadId: string;
  createdAt: CreatedAt;
}

export interface MetricBatchesTable {
  runId: string;
  batchId: string;
  orgId: string;
  seq: Generated<number>;
  pointCount: number;
  createdAt: CreatedAt;
}

/** Written in bulk by metrics-repo.ts with raw SQL; typed here for reads. */
export interface MetricPointsTable {
  orgId: string;
  runId: string;
  key: string;
  step: number;
  value: number;
  ts: Date;
  rank: number | null;
  host: string;
  /** (batchSeq, ord): arrival order, a unique tie-break for pages. */
  batchSeq: number;
  ord: number;
}

/** Per-series rollups kept by metrics-repo.ts writeBatch; bucket = step >> the level's shift. */
export interface MetricRollupsTable {
  orgId: string;
  runId: string;
  key: string;
  level: number;
  bucket: number;
  count: number;
  firstStep: number;
  lastStep: number;
  minValue: number;
  minStep: number;
  minTs: Date;
  maxValue: number;
  maxStep: number;
  maxTs: Date;
}

export interface Database {
  organizations: OrganizationsTable;
  apiKeys: ApiKeysTable;
  users: UsersTable;
  groups: GroupsTable;
  groupMembers: GroupMembersTable;
  grants: GrantsTable;
  auditEvents: AuditEventsTable;
  browserSessions: BrowserSessionsTable;
  registeredModels: RegisteredModelsTable;
  modelVersions: ModelVersionsTable;
  modelFiles: ModelFilesTable;
  modelAliases: ModelAliasesTable;
  modelAliasMoves: ModelAliasMovesTable;
  pipelines: PipelinesTable;
  pipelineRuns: PipelineRunsTable;
  pipelineSteps: PipelineStepsTable;
  stepUpstream: StepUpstreamTable;
  externalDatasets: ExternalDatasetsTable;
  stepIo: StepIoTable;
  uploads: UploadsTable;
  uploadSegments: UploadSegmentsTable;
  datasets: DatasetsTable;
  datasetVersions: DatasetVersionsTable;
  artefacts: ArtefactsTable;
  lineageEdges: LineageEdgesTable;
  blobs: BlobsTable;
  projects: ProjectsTable;
  experiments: ExperimentsTable;
  runs: RunsTable;
  runTags: RunEntriesTable;
  runParams: RunEntriesTable;
  runInputs: RunInputsTable;
  runArtefacts: RunArtefactsTable;
  metricBatches: MetricBatchesTable;
  metricPoints: MetricPointsTable;
  metricRollups: MetricRollupsTable;
}

export type UploadRow = Selectable<UploadsTable>;
export type NewUploadRow = Insertable<UploadsTable>;
export type DatasetVersionRow = Selectable<DatasetVersionsTable>;
export type ArtefactRow = Selectable<ArtefactsTable>;
export type ProjectRow = Selectable<ProjectsTable>;
export type ExperimentRow = Selectable<ExperimentsTable>;
export type RunRow = Selectable<RunsTable>;
export type RunArtefactRow = Selectable<RunArtefactsTable>;
