/**
 * The one policy: for every method this server answers, what the caller must
 * hold, where, and whether the call goes into the audit log. The access
 * interceptor applies it to every call, streams included; a test walks every
 * method of every served service and fails when one has no entry here, and
 * the type below makes a missing method of a listed service a compile error.
 *
 * Datasets and uploads belong to the organisation; projects, experiments and
 * runs to a project, where project grants add to organisation grants.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { MessageShape } from "@bufbuild/protobuf";
import { Health } from "../../gen/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { AuditService } from "../../gen/traintrack/v1/audit_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import { LineageService } from "../../gen/traintrack/v1/lineage_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { OrganizationService } from "../../gen/traintrack/v1/organization_pb.js";
import { PipelineService, type StepIO } from "../../gen/traintrack/v1/pipeline_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import type { Role } from "../services/identity/index.js";

/** Where a role is needed. */
export type Scope =
  /** The organisation (the default). */
  | { kind: "organization" }
  /** A project named in the request; `creates`: the call creates it when absent, which needs the role on the organisation. */
  | { kind: "project"; name: string; creates?: boolean }
  /** The project of each of these runs. */
  | { kind: "runs"; ids: string[] }
  /** The scope of a grant, by id. */
  | { kind: "grant"; id: string }
  /** A model's project (or the organisation, for a model without one); `createsIn`: a call that creates the model when absent, in this project ("" for none). */
  | { kind: "model"; name: string; createsIn?: string }
  /** A pipeline's project, as for models. */
  | { kind: "pipeline"; name: string; createsIn?: string }
  /** The project of a pipeline run's pipeline, by the run's id, or by one of its steps' id. */
  | { kind: "pipelineRun"; id: string }
  | { kind: "step"; id: string }
  /** Anywhere: the organisation or any one project (uploads, which any run's artefacts need). */
  | { kind: "anywhere" };

export type Need =
  /** No key at all (health, reflection). */
  | "public"
  /** Any usable key, of any scope. */
  | "signed-in"
  /** Any key that may write for its own user (scope all or project, not read-only or SCIM). */
  | "self"
  | "instance-admin"
  | Role;

export interface Rule<I, O = unknown> {
  need: Need;
  /** Where `need` (a role) applies, from the request; the organisation when absent. */
  scope?: (req: I) => Scope;
  /** A stricter need for some requests (another user's keys need an owner). */
  stricter?: (req: I, caller: { userId: string; orgId: string }) => Need | undefined;
  /** Further roles the request needs elsewhere (e.g. reading the run whose artefacts become a model). */
  also?: (req: I) => { need: Role; scope: Scope }[];
  /** For client streams: the scope is checked on every message, not once. */
  perMessage?: boolean;
  /** Audited calls name their resource ("run/r_…"); calls without one are not audited (reads). */
  audit?: (req: I) => string;
  /** For calls that create what they act on: the resource, named by its new id, once the call succeeded. */
  created?: (res: O) => string;
}

type Rules<S extends DescService> = S extends GenService<infer M extends GenServiceMethods>
  ? { [K in keyof M]: Rule<MessageShape<M[K]["input"]>, MessageShape<M[K]["output"]>> }
  : never;

const org: Scope = { kind: "organization" };
/** The scope of calls that answer the same whichever project is asked about (uploads, the project list). */
export const anywhere = (): Scope => ({ kind: "anywhere" });
const project = (name: string, creates = false): Scope => ({ kind: "project", name, creates });
const run = (id: string): Scope => ({ kind: "runs", ids: [id] });
const read = <I>(scope?: (req: I) => Scope): Rule<I> => ({ need: "viewer", scope });
const write = <I>(audit: (req: I) => string, scope?: (req: I) => Scope): Rule<I> => ({ need: "editor", scope, audit });
const owner = <I>(audit: (req: I) => string): Rule<I> => ({ need: "owner", audit });
const open: Rule<unknown> = { need: "public" };
const othersNeedOwner = (userId: string, caller: { userId: string }): Need | undefined => (userId && userId !== caller.userId ? "owner" : undefined);

const datasets: Rules<typeof DatasetService> = {
  createDataset: write((r) => `dataset/${r.name}`),
  getDataset: read(),
  listArtefacts: read(),
  listDatasets: read(),
  listDatasetVersions: read(),
  getLineage: read(),
  downloadArtefact: read(),
};

const projects: Rules<typeof ProjectService> = {
  createProject: write((r) => `project/${r.name}`),
  getProject: read((r) => project(r.name)),
  // Everyone with a role somewhere may list; the list shows only the projects the caller may read.
  listProjects: { need: "viewer", scope: anywhere },
};

const experiments: Rules<typeof ExperimentService> = {
  createExperiment: write((r) => `project/${r.project}/experiment/${r.name}`, (r) => project(r.project, true)),
  getExperiment: read((r) => project(r.project)),
  listExperiments: read((r) => project(r.project)),
  createRun: write((r) => `project/${r.project}/experiment/${r.experiment}`, (r) => project(r.project, true)),
  getRun: read((r) => run(r.runId)),
  listRuns: read((r) => project(r.project)),
  searchRuns: read((r) => project(r.project)),
  updateRunStatus: write((r) => `run/${r.runId}`, (r) => run(r.runId)),
  setRunTags: write((r) => `run/${r.runId}`, (r) => run(r.runId)),
  logParams: write((r) => `run/${r.runId}`, (r) => run(r.runId)),
  useDatasets: write((r) => `run/${r.runId}`, (r) => run(r.runId)),
  logMetrics: write((r) => `run/${r.runId}`, (r) => run(r.runId)),
  streamMetrics: { need: "editor", scope: (r) => run(r.runId), perMessage: true, audit: (r) => `run/${r.runId}` },
  getMetricHistory: read((r) => ({ kind: "runs", ids: r.runIds })),
};

const runArtefacts: Rules<typeof RunArtefactService> = {
  logRunArtefacts: write((r) => `run/${r.runId}`, (r) => run(r.runId)),
  listRunArtefacts: read((r) => run(r.runId)),
  downloadRunArtefact: read((r) => run(r.runId)),
};

const uploads: Rules<typeof UploadService> = {
  upload: { need: "editor", scope: anywhere, audit: () => "upload/" },
  createUpload: { need: "editor", scope: anywhere, audit: () => "upload/" },
  getUpload: { need: "editor", scope: anywhere },
  abortUpload: { need: "editor", scope: anywhere, audit: (r) => `upload/${r.uploadId}` },
};

const organizations: Rules<typeof OrganizationService> = {
  createOrganization: { need: "instance-admin", audit: (r) => `organization/${r.name}`, created: (res) => `organization/${res.organization?.id}` },
  // Members read their own organisation; other organisations are the instance administrator's.
  getOrganization: { need: "signed-in", stricter: (r, caller) => (r.id && r.id !== caller.orgId ? "instance-admin" : undefined) },
  listOrganizations: { need: "instance-admin" },
};

const users: Rules<typeof UserService> = {
  createUser: { ...owner((r) => `user/${r.userName}`), created: (res) => `user/${res.user?.id}` },
  getUser: read(),
  listUsers: read(),
  updateUser: owner((r) => `user/${r.id}`),
  deactivateUser: owner((r) => `user/${r.id}`),
  createServiceAccount: { ...owner((r) => `user/${r.name}`), created: (res) => `user/${res.user?.id}` },
  createGroup: { ...owner((r) => `group/${r.displayName}`), created: (res) => `group/${res.group?.id}` },
  listGroups: read(),
  addGroupMembers: owner((r) => `group/${r.groupId}`),
  removeGroupMembers: owner((r) => `group/${r.groupId}`),
  deleteGroup: owner((r) => `group/${r.groupId}`),
};

// Grants are managed by maintainers of their scope; the service then checks nobody grants above their own role.
const grantScope = (r: { grantId: string; project: string }): Scope => (r.grantId ? { kind: "grant", id: r.grantId } : r.project ? project(r.project) : org);
const principalOfGrant = (r: { userId: string; groupId: string }) => (r.userId ? `user/${r.userId}` : `group/${r.groupId}`);
const access: Rules<typeof AccessService> = {
  grantRole: { need: "maintainer", scope: (r) => (r.project ? project(r.project, true) : org), audit: principalOfGrant },
  revokeRole: { need: "maintainer", scope: grantScope, audit: (r) => (r.grantId ? `grant/${r.grantId}` : principalOfGrant(r)) },
  listGrants: { need: "maintainer", scope: (r) => (r.project ? project(r.project) : org), stricter: (r, c) => (r.userId && r.userId === c.userId ? "signed-in" : undefined) },
  whoAmI: { need: "signed-in" },
  testPermissions: { need: "signed-in" },
};

const keys: Rules<typeof ApiKeyService> = {
  createApiKey: {
    need: "self",
    stricter: (r, caller) => (r.scope === ApiKeyScope.SCIM ? "owner" : othersNeedOwner(r.userId, caller)),
    audit: (r) => `user/${r.userId || "self"}`,
    created: (res) => `key/${res.key?.id}`,
  },
  listApiKeys: { need: "signed-in", stricter: (r, caller) => (r.allUsers ? "owner" : othersNeedOwner(r.userId, caller)) },
  // Whose key it is is only known once it is looked up: the handler lets non-owners revoke only their own.
  revokeApiKey: { need: "self", audit: (r) => `key/${r.id}` },
};

const model = (name: string): Scope => ({ kind: "model", name });
const models: Rules<typeof ModelService> = {
  createRegisteredModel: { ...write((r) => `model/${r.name}`, (r) => ({ kind: "model", name: r.name, createsIn: r.project })) },
  getRegisteredModel: read((r) => model(r.name)),
  // Everyone with a role somewhere may list and search; the answers hold only models the caller may read.
  listRegisteredModels: read((r) => (r.project ? project(r.project) : anywhere())),
  updateRegisteredModel: write((r) => `model/${r.name}`, (r) => model(r.name)),
  createModelVersion: {
    ...write((r) => `model/${r.model}`, (r) => ({ kind: "model", name: r.model, createsIn: r.createModel ? r.project : undefined })),
    // The run whose artefacts become the version, or that made it, must be one the caller may read.
    also: (r) => {
      const runId = r.source.case === "runArtefacts" ? r.source.value.runId : r.runId;
      return runId ? [{ need: "viewer", scope: run(runId) }] : [];
    },
  },
  getModelVersion: read((r) => model(r.model)),
  listModelVersions: read((r) => model(r.model)),
  listModelFiles: read((r) => model(r.model)),
  searchModelVersions: read(anywhere),
  updateModelVersion: write((r) => `model/${r.model}/version/${r.version}`, (r) => model(r.model)),
  // A protected alias needs a maintainer of the model: the service checks, as it alone knows which aliases are.
  setModelAlias: write((r) => `model/${r.model}/alias/${r.alias}`, (r) => model(r.model)),
  deleteModelAlias: write((r) => `model/${r.model}/alias/${r.alias}`, (r) => model(r.model)),
  getModelAliasHistory: read((r) => model(r.model)),
  downloadModelFile: read((r) => model(r.model)),
};

const pipeline = (name: string): Scope => ({ kind: "pipeline", name });
const pipelineRun = (id: string): Scope => ({ kind: "pipelineRun", id });
const trackingRun = (runId: string) => (runId ? [{ need: "viewer" as const, scope: run(runId) }] : []);
/** A step may name as input or output only the runs' artefacts and the models its caller may read: naming one shows that it exists, and links it. */
const namedInIo = (items: StepIO[]) => {
  const runIds = [...new Set(items.flatMap((x) => (x.ref.case === "runArtefact" && x.ref.value.runId ? [x.ref.value.runId] : [])))];
  const models = [...new Set(items.flatMap((x) => (x.ref.case === "model" && x.ref.value.model ? [x.ref.value.model] : [])))];
  return [...(runIds.length > 0 ? [{ need: "viewer" as const, scope: { kind: "runs", ids: runIds } as Scope }] : []), ...models.map((name) => ({ need: "viewer" as const, scope: model(name) }))];
};
const pipelines: Rules<typeof PipelineService> = {
  createPipeline: write((r) => `pipeline/${r.name}`, (r) => ({ kind: "pipeline", name: r.name, createsIn: r.project })),
  getPipeline: read((r) => pipeline(r.name)),
  listPipelines: read((r) => (r.project ? project(r.project) : anywhere())),
  startPipelineRun: write((r) => `pipeline/${r.pipeline}`, (r) => ({ kind: "pipeline", name: r.pipeline, createsIn: r.createPipeline ? r.project : undefined })),
  finishPipelineRun: write((r) => `pipeline-run/${r.pipelineRunId}`, (r) => pipelineRun(r.pipelineRunId)),
  getPipelineRun: read((r) => pipelineRun(r.pipelineRunId)),
  listPipelineRuns: read((r) => pipeline(r.pipeline)),
  startStep: {
    ...write((r) => `pipeline-run/${r.pipelineRunId}/step/${r.name}`, (r) => pipelineRun(r.pipelineRunId)),
    also: (r) => [...trackingRun(r.runId), ...namedInIo(r.inputs)],
  },
  finishStep: {
    ...write(
      (r) => (r.stepId ? `step/${r.stepId}` : `pipeline-run/${r.pipelineRunId}/step/${r.name}`),
      (r) => (r.stepId ? { kind: "step", id: r.stepId } : pipelineRun(r.pipelineRunId)),
    ),
    also: (r) => namedInIo(r.outputs),
  },
  recordSteps: {
    ...write((r) => `pipeline-run/${r.pipelineRunId}`, (r) => pipelineRun(r.pipelineRunId)),
    also: (r) => {
      const tracking = [...new Set(r.steps.flatMap((s) => (s.runId ? [s.runId] : [])))];
      return [...(tracking.length > 0 ? [{ need: "viewer" as const, scope: { kind: "runs", ids: tracking } as Scope }] : []), ...namedInIo(r.steps.flatMap((s) => [...s.inputs, ...s.outputs]))];
    },
  },
  recordStepIO: { ...write((r) => `step/${r.stepId}`, (r) => ({ kind: "step", id: r.stepId })), also: (r) => namedInIo([...r.inputs, ...r.outputs]) },
  getPipelineGraph: read((r) => pipelineRun(r.pipelineRunId)),
};

// The graph shows only nodes the caller may read (lineage-handlers.ts).
const lineage: Rules<typeof LineageService> = {
  getLineageGraph: read(anywhere),
};

const audit: Rules<typeof AuditService> = {
  listAuditEvents: { need: "owner" },
};

const ops = { check: open, watch: open, list: open };
const reflection = { serverReflectionInfo: open };

/** Service type name → method local name → rule. */
export const POLICY: Record<string, Record<string, Rule<never, never>>> = {
  [DatasetService.typeName]: datasets,
  [ProjectService.typeName]: projects,
  [ExperimentService.typeName]: experiments,
  [RunArtefactService.typeName]: runArtefacts,
  [UploadService.typeName]: uploads,
  [OrganizationService.typeName]: organizations,
  [UserService.typeName]: users,
  [AccessService.typeName]: access,
  [ApiKeyService.typeName]: keys,
  [AuditService.typeName]: audit,
  [ModelService.typeName]: models,
  [LineageService.typeName]: lineage,
  [PipelineService.typeName]: pipelines,
  [Health.typeName]: ops,
  [ReflectionV1.typeName]: reflection,
  [ReflectionV1alpha.typeName]: reflection,
};

/** The rule of a method, if it has one. */
export function ruleOf(service: string, method: string): Rule<never, never> | undefined {
  return POLICY[service]?.[method];
}
