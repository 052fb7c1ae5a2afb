/**
 * One organisation with a principal for every way of holding access: each
 * organisation role, a project grant only, a role through a group only, keys
 * narrowed to read-only, one project and SCIM, a key of another organisation,
 * and the instance administrator's TRAINTRACK_ADMIN_KEY. Two projects, each
 * with a run that has metrics and an artefact, a pipeline with a run and a step, a registered model with a
 * version (from that run's artefact) and an alias, and a dataset with a file.
 */
import { type Client } from "@connectrpc/connect";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { PipelineService } from "../../gen/traintrack/v1/pipeline_pb.js";
import { Role as RoleValue } from "../../gen/traintrack/v1/role_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import type { Role } from "../../src/services/identity/index.js";
import { bytesOf, upload } from "./data.js";
import type { TestServer } from "./server.js";
import { uniqueSuffix } from "./services.js";

export const PROJECTS = ["alpha", "beta"] as const;
export type ProjectName = (typeof PROJECTS)[number];

/** A TRAINTRACK_ADMIN_KEY for the servers of these suites. */
export const ADMIN_KEY = "tt_instance_admin_0123456789abcdefghijklmnop";

/** Who calls, and what the documented rules say it holds. */
export interface Caller {
  name: string;
  key: string;
  userId: string;
  orgId: string;
  orgRole?: Role;
  projectRoles: Partial<Record<ProjectName, Role>>;
  keyScope: "all" | "read_only" | "project" | "scim";
  keyProject?: ProjectName;
  instanceAdmin: boolean;
  /** A key of another organisation: our resources must not exist for it. */
  foreign: boolean;
}

export interface Fixture {
  server: TestServer;
  orgId: string;
  callers: Caller[];
  /** A run in each project, with metrics and the artefact "model.bin". */
  runs: Record<ProjectName, string>;
  /** A model in each project, with version 1 (file "model.bin", from the project's run) and the alias "champion". */
  models: Record<ProjectName, string>;
  /** The project of every run, grant and model the tests know. */
  projectOfRun: Map<string, ProjectName>;
  projectOfGrant: Map<string, ProjectName | undefined>;
  projectOfModel: Map<string, ProjectName | undefined>;
  /** A pipeline in each project, with a run and its step "s0" (running). */
  pipelines: Record<ProjectName, { name: string; runId: string; stepId: string }>;
  projectOfPipeline: Map<string, ProjectName>;
  /** Pipeline run ids and step ids, by the project of their pipeline. */
  projectOfPipelineRun: Map<string, ProjectName>;
  projectOfStep: Map<string, ProjectName>;
  /** The dataset "ds" version "1" with "f.txt", and a complete upload not yet committed. */
  dataset: string;
  uploadId: string;
  /** A group without grants, for membership changes. */
  plainGroupId: string;
  /** Every id of ours that a foreign key must never see. */
  ourIds: Set<string>;
  /** Clients with the setup key (the first organisation's owner, also instance administrator). */
  users: Client<typeof UserService>;
  keys: Client<typeof ApiKeyService>;
  access: Client<typeof AccessService>;
  uploads: Client<typeof UploadService>;
  modelClient: Client<typeof ModelService>;
  pipelineClient: Client<typeof PipelineService>;
  /** A user (with no access) to be the target of changes. */
  newUser(): Promise<string>;
}

const ROLE: Record<Role, RoleValue> = { viewer: RoleValue.VIEWER, editor: RoleValue.EDITOR, maintainer: RoleValue.MAINTAINER, owner: RoleValue.OWNER };

export async function setUpOrganisation(server: TestServer): Promise<Fixture> {
  const users = server.client(UserService);
  const keys = server.client(ApiKeyService);
  const access = server.client(AccessService);
  const uploads = server.client(UploadService);
  const experiments = server.client(ExperimentService);
  const who = await access.whoAmI({});
  const orgId = who.organization?.id ?? "";
  const ourIds = new Set<string>([orgId]);

  async function newUser(name = `u-${uniqueSuffix()}`, role?: Role): Promise<string> {
    const user = (await users.createUser({ userName: name, role: role ? ROLE[role] : RoleValue.UNSPECIFIED })).user;
    ourIds.add(user?.id ?? "");
    return user?.id ?? "";
  }
  async function keyOf(userId: string, scope = ApiKeyScope.ALL, project = ""): Promise<string> {
    const created = await keys.createApiKey({ name: "matrix", userId, scope, project });
    ourIds.add(created.key?.id ?? "");
    return created.secret;
  }

  for (const name of PROJECTS) await server.client(ProjectService).createProject({ name });
  const runs = {} as Record<ProjectName, string>;
  const projectOfRun = new Map<string, ProjectName>();
  for (const project of PROJECTS) {
    await experiments.createExperiment({ project, name: "exp" });
    const runId = (await experiments.createRun({ project, experiment: "exp", name: "r" })).run?.runId ?? "";
    await experiments.logMetrics({ runId, batchId: "b0", points: [{ key: "loss", value: 1, step: 1n }] });
    const artefact = await upload(uploads, "model.bin", bytesOf(1000, 7));
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: artefact.uploadId, path: "model.bin" }] });
    runs[project] = runId;
    projectOfRun.set(runId, project);
    ourIds.add(runId).add(artefact.uploadId);
  }
  const modelClient = server.client(ModelService);
  const models = {} as Record<ProjectName, string>;
  const projectOfModel = new Map<string, ProjectName | undefined>();
  for (const project of PROJECTS) {
    const model = `m-${project}-${uniqueSuffix()}`;
    await modelClient.createModelVersion({ model, createModel: true, project, source: { case: "runArtefacts", value: { runId: runs[project], pathPrefix: "" } } });
    await modelClient.setModelAlias({ model, alias: "champion", version: 1n });
    models[project] = model;
    projectOfModel.set(model, project);
    ourIds.add(model);
  }
  const pipelineClient = server.client(PipelineService);
  const pipelines = {} as Record<ProjectName, { name: string; runId: string; stepId: string }>;
  const projectOfPipeline = new Map<string, ProjectName>();
  const projectOfPipelineRun = new Map<string, ProjectName>();
  const projectOfStep = new Map<string, ProjectName>();
  for (const project of PROJECTS) {
    const name = `pl-${project}-${uniqueSuffix()}`;
    const runId = (await pipelineClient.startPipelineRun({ pipeline: name, createPipeline: true, project })).run?.id ?? "";
    const stepId = (await pipelineClient.startStep({ pipelineRunId: runId, name: "s0" })).step?.id ?? "";
    pipelines[project] = { name, runId, stepId };
    projectOfPipeline.set(name, project);
    projectOfPipelineRun.set(runId, project);
    projectOfStep.set(stepId, project);
    ourIds.add(name).add(runId).add(stepId);
  }
  const file = await upload(uploads, "f.txt", bytesOf(100, 8));
  const dataset = `ds-${uniqueSuffix()}`;
  await server.client(DatasetService).createDataset({ name: dataset, version: "1", artefacts: [{ uploadId: file.uploadId, path: "f.txt" }] });
  const spare = await upload(uploads, "spare.bin", bytesOf(100, 9));
  ourIds.add(file.uploadId).add(spare.uploadId).add(dataset);

  const base = { orgId, projectRoles: {}, keyScope: "all" as const, instanceAdmin: false, foreign: false };
  const callers: Caller[] = [];
  for (const role of ["viewer", "editor", "maintainer", "owner"] as const) {
    const userId = await newUser(`${role}-${uniqueSuffix()}`, role);
    callers.push({ ...base, name: role, key: await keyOf(userId), userId, orgRole: role });
  }
  const owner = callers.at(-1) as Caller;

  const projectEditor = await newUser();
  const projectGrant = (await access.grantRole({ role: RoleValue.EDITOR, userId: projectEditor, project: "alpha" })).grant;
  const projectOfGrant = new Map<string, ProjectName | undefined>([[projectGrant?.id ?? "", "alpha"]]);
  callers.push({ ...base, name: "alpha editor (project grant)", key: await keyOf(projectEditor), userId: projectEditor, projectRoles: { alpha: "editor" } });

  const grouped = await newUser();
  const group = (await users.createGroup({ displayName: `editors-${uniqueSuffix()}`, memberIds: [grouped] })).group?.id ?? "";
  await access.grantRole({ role: RoleValue.EDITOR, groupId: group });
  callers.push({ ...base, name: "editor through a group", key: await keyOf(grouped), userId: grouped, orgRole: "editor" });
  const plainGroupId = (await users.createGroup({ displayName: `plain-${uniqueSuffix()}` })).group?.id ?? "";
  ourIds.add(group).add(plainGroupId);

  const narrowed = { ...base, userId: owner.userId, orgRole: "owner" as const };
  callers.push({ ...narrowed, name: "owner's read-only key", key: await keyOf(owner.userId, ApiKeyScope.READ_ONLY), keyScope: "read_only" });
  callers.push({ ...narrowed, name: "owner's alpha key", key: await keyOf(owner.userId, ApiKeyScope.PROJECT, "alpha"), keyScope: "project", keyProject: "alpha" });
  callers.push({ ...narrowed, name: "owner's SCIM key", key: await keyOf(owner.userId, ApiKeyScope.SCIM), keyScope: "scim" });

  const foreignKey = await server.newOrganization("foreign");
  const foreign = (await server.client(AccessService, "grpc", foreignKey).whoAmI({})) ;
  callers.push({
    ...base,
    name: "owner of another organisation",
    key: foreignKey,
    userId: foreign.user?.id ?? "",
    orgId: foreign.organization?.id ?? "",
    orgRole: "owner",
    foreign: true,
  });
  callers.push({ ...base, name: "TRAINTRACK_ADMIN_KEY", key: ADMIN_KEY, userId: "", orgId: "", instanceAdmin: true });

  return {
    server,
    orgId,
    callers,
    runs,
    models,
    projectOfRun,
    projectOfGrant,
    projectOfModel,
    pipelines,
    projectOfPipeline,
    projectOfPipelineRun,
    projectOfStep,
    dataset,
    uploadId: spare.uploadId,
    plainGroupId,
    ourIds,
    users,
    keys,
    access,
    uploads,
    modelClient,
    pipelineClient,
    newUser: () => newUser(),
  };
}
