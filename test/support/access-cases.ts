/**
 * A valid request for every method that needs a key, for the access matrix
 * (access-matrix.test.ts): each builds what the caller may send and, where
 * that changes something, a fresh target for it (a user, a group, a key).
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { ApiKeyScope } from "../../gen/traintrack/v1/api_key_pb.js";
import { MetricThreshold_Op, RunStatus } from "../../gen/traintrack/v1/experiment_pb.js";
import { PipelineRunStatus, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import type { Caller, Fixture, ProjectName } from "./access-fixtures.js";
import { bytesOf, upload, uploadMessages } from "./data.js";
import { type TestServer, withKey } from "./server.js";

export interface Ctx {
  fx: Fixture;
  c: Caller;
  project: ProjectName;
  tag: string;
}

/**
 * A valid request for a method (for a client stream: its messages). `ours`: it
 * names a resource of ours, which a foreign key must find NOT_FOUND, or, for
 * idempotent calls that answer an unknown id with "nothing done", get that answer.
 */
export interface Case {
  build: (x: Ctx) => unknown;
  ours?: true | ((response: unknown) => boolean);
  /** The response echoes what the caller sent (its own audit events name our ids it tried): checks it holds only the caller's own. */
  ownOnly?: (response: unknown, c: Caller) => boolean;
}

const point = (tag: string) => ({ runId: "", batchId: tag, points: [{ key: "loss", value: 2, step: 2n }] });
const metricsOf = (x: Ctx) => ({ ...point(x.tag), runId: x.fx.runs[x.project] });
const run = (x: Ctx) => ({ runId: x.fx.runs[x.project] });
const model = (x: Ctx) => x.fx.models[x.project];
const pipe = (x: Ctx) => x.fx.pipelines[x.project];
const exp = (x: Ctx) => ({ project: x.project, name: "exp" });

export const CASES: Record<string, Case> = {
  "traintrack.v1.UploadService/upload": { build: (x) => uploadMessages(`s-${x.tag}.bin`, bytesOf(10, 1)) },
  "traintrack.v1.UploadService/createUpload": { build: (x) => ({ upload: { fileName: `c-${x.tag}.bin`, size: 10n } }) },
  "traintrack.v1.UploadService/getUpload": { build: (x) => ({ uploadId: x.fx.uploadId }), ours: true },
  "traintrack.v1.UploadService/abortUpload": {
    build: async (x) => ({ uploadId: (await x.fx.uploads.createUpload({ upload: { fileName: "a.bin", size: 10n } })).upload?.uploadId }),
    ours: true,
  },
  "traintrack.v1.DatasetService/createDataset": { build: (x) => ({ name: `new-${x.tag}`, version: "1" }) },
  "traintrack.v1.DatasetService/getDataset": { build: (x) => ({ name: x.fx.dataset, version: "1" }), ours: true },
  "traintrack.v1.DatasetService/listArtefacts": { build: (x) => ({ dataset: { name: x.fx.dataset, version: "1" } }), ours: true },
  "traintrack.v1.DatasetService/listDatasets": { build: () => ({}) },
  "traintrack.v1.DatasetService/listDatasetVersions": { build: (x) => ({ name: x.fx.dataset }), ours: true },
  "traintrack.v1.DatasetService/getLineage": { build: (x) => ({ dataset: { name: x.fx.dataset, version: "1" } }), ours: true },
  "traintrack.v1.DatasetService/downloadArtefact": { build: (x) => ({ dataset: { name: x.fx.dataset, version: "1" }, path: "f.txt" }), ours: true },
  "traintrack.v1.ProjectService/createProject": { build: (x) => ({ name: `p-${x.tag}` }) },
  "traintrack.v1.ProjectService/getProject": { build: (x) => ({ name: x.project }), ours: true },
  "traintrack.v1.ProjectService/listProjects": { build: () => ({}) },
  "traintrack.v1.ExperimentService/createExperiment": { build: (x) => ({ project: x.project, name: `e-${x.tag}` }) },
  "traintrack.v1.ExperimentService/getExperiment": { build: exp, ours: true },
  "traintrack.v1.ExperimentService/listExperiments": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.ExperimentService/createRun": { build: (x) => ({ project: x.project, experiment: "exp", name: `r-${x.tag}` }) },
  "traintrack.v1.ExperimentService/getRun": { build: run, ours: true },
  "traintrack.v1.ExperimentService/listRuns": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.ExperimentService/searchRuns": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.ExperimentService/updateRunStatus": { build: (x) => ({ ...run(x), status: RunStatus.FINISHED }), ours: true },
  "traintrack.v1.ExperimentService/setRunTags": { build: (x) => ({ ...run(x), tags: { [`t-${x.tag}`]: "1" } }), ours: true },
  "traintrack.v1.ExperimentService/logParams": { build: (x) => ({ ...run(x), params: { [`p-${x.tag}`]: "1" } }), ours: true },
  "traintrack.v1.ExperimentService/useDatasets": { build: (x) => ({ ...run(x), datasets: [{ name: x.fx.dataset, version: "1" }] }), ours: true },
  "traintrack.v1.ExperimentService/logMetrics": { build: metricsOf, ours: true },
  "traintrack.v1.ExperimentService/streamMetrics": { build: (x) => [metricsOf(x), { ...metricsOf(x), batchId: `${x.tag}-2` }], ours: true },
  "traintrack.v1.ExperimentService/getMetricHistory": { build: (x) => ({ key: "loss", runIds: [x.fx.runs[x.project]] }), ours: true },
  "traintrack.v1.RunArtefactService/logRunArtefacts": {
    build: async (x) => ({ ...run(x), artefacts: [{ uploadId: (await upload(x.fx.uploads, "m.bin", bytesOf(10, 2))).uploadId, path: `m-${x.tag}.bin` }] }),
    ours: true,
  },
  "traintrack.v1.RunArtefactService/listRunArtefacts": { build: run, ours: true },
  "traintrack.v1.RunArtefactService/downloadRunArtefact": { build: (x) => ({ ...run(x), path: "model.bin" }), ours: true },
  "traintrack.v1.OrganizationService/createOrganization": { build: (x) => ({ name: `org-${x.tag}` }) },
  // The administrator names our organisation; members ask for their own.
  "traintrack.v1.OrganizationService/getOrganization": { build: (x) => ({ id: x.c.instanceAdmin ? x.fx.orgId : "" }) },
  "traintrack.v1.OrganizationService/listOrganizations": { build: () => ({}) },
  "traintrack.v1.UserService/createUser": { build: (x) => ({ userName: `n-${x.tag}` }) },
  "traintrack.v1.UserService/getUser": { build: (x) => ({ id: x.fx.callers[0]?.userId }), ours: true },
  "traintrack.v1.UserService/listUsers": { build: () => ({}) },
  "traintrack.v1.UserService/updateUser": { build: async (x) => ({ id: await x.fx.newUser(), displayName: "Renamed" }), ours: true },
  "traintrack.v1.UserService/deactivateUser": { build: async (x) => ({ id: await x.fx.newUser() }), ours: true },
  "traintrack.v1.UserService/createServiceAccount": { build: (x) => ({ name: `sa-${x.tag}` }) },
  "traintrack.v1.UserService/createGroup": { build: (x) => ({ displayName: `g-${x.tag}` }) },
  "traintrack.v1.UserService/listGroups": { build: () => ({}) },
  "traintrack.v1.UserService/addGroupMembers": { build: async (x) => ({ groupId: x.fx.plainGroupId, userIds: [await x.fx.newUser()] }), ours: true },
  "traintrack.v1.UserService/removeGroupMembers": { build: async (x) => ({ groupId: x.fx.plainGroupId, userIds: [await x.fx.newUser()] }), ours: true },
  "traintrack.v1.UserService/deleteGroup": {
    build: async (x) => ({ groupId: (await x.fx.users.createGroup({ displayName: `d-${x.tag}` })).group?.id }),
    ours: true,
  },
  "traintrack.v1.AccessService/grantRole": { build: async (x) => ({ role: Role.VIEWER, userId: await x.fx.newUser(), project: x.project }), ours: true },
  "traintrack.v1.AccessService/revokeRole": {
    build: async (x) => {
      const grant = (await x.fx.access.grantRole({ role: Role.VIEWER, userId: await x.fx.newUser(), project: x.project })).grant;
      x.fx.projectOfGrant.set(grant?.id ?? "", x.project);
      return { grantId: grant?.id };
    },
    ours: (response) => (response as { revoked: boolean }).revoked === false,
  },
  "traintrack.v1.AccessService/listGrants": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.AccessService/whoAmI": { build: () => ({}) },
  "traintrack.v1.AccessService/testPermissions": { build: () => ({ methods: ["traintrack.v1.DatasetService/CreateDataset"] }) },
  // A project key may only make keys of its project.
  "traintrack.v1.ApiKeyService/createApiKey": {
    build: (x) => (x.c.keyScope === "project" ? { name: x.tag, scope: ApiKeyScope.PROJECT, project: x.c.keyProject } : { name: x.tag }),
  },
  "traintrack.v1.ApiKeyService/listApiKeys": { build: () => ({}) },
  // Everyone revokes a key of their own (the administrator's key has no user: it names the first user's).
  "traintrack.v1.ApiKeyService/revokeApiKey": {
    build: async (x) => ({ id: (await x.fx.keys.createApiKey({ name: "doomed", userId: x.c.foreign || !x.c.userId ? x.fx.callers[0]?.userId : x.c.userId })).key?.id }),
    ours: true,
  },
  "traintrack.v1.AuditService/listAuditEvents": {
    build: () => ({ pageSize: 1000 }),
    ownOnly: (response, c) => (response as { events: { userId: string }[] }).events.every((e) => e.userId === c.userId),
  },
  "traintrack.v1.ModelService/createRegisteredModel": { build: (x) => ({ name: `new-${x.tag}`, project: x.project }) },
  "traintrack.v1.ModelService/getRegisteredModel": { build: (x) => ({ name: model(x) }), ours: true },
  "traintrack.v1.ModelService/listRegisteredModels": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.ModelService/updateRegisteredModel": { build: (x) => ({ name: model(x), setTags: { [`t-${x.tag}`]: "1" } }), ours: true },
  "traintrack.v1.ModelService/createModelVersion": {
    build: (x) => ({ model: model(x), source: { case: "runArtefacts", value: { runId: x.fx.runs[x.project], pathPrefix: "" } } }),
    ours: true,
  },
  "traintrack.v1.ModelService/getModelVersion": { build: (x) => ({ model: model(x), selector: { case: "alias", value: "champion" } }), ours: true },
  "traintrack.v1.ModelService/listModelVersions": { build: (x) => ({ model: model(x) }), ours: true },
  "traintrack.v1.ModelService/listModelFiles": { build: (x) => ({ model: model(x), version: 1n }), ours: true },
  "traintrack.v1.ModelService/searchModelVersions": { build: () => ({ runMetrics: [{ key: "loss", op: MetricThreshold_Op.GREATER_OR_EQUAL, value: 0 }] }) },
  "traintrack.v1.ModelService/updateModelVersion": { build: (x) => ({ model: model(x), version: 1n, setTags: { [`t-${x.tag}`]: "1" } }), ours: true },
  "traintrack.v1.ModelService/setModelAlias": { build: (x) => ({ model: model(x), alias: `a${x.tag}`, version: 1n, reason: "matrix" }), ours: true },
  "traintrack.v1.ModelService/deleteModelAlias": {
    build: async (x) => {
      await x.fx.modelClient.setModelAlias({ model: model(x), alias: `d${x.tag}`, version: 1n });
      return { model: model(x), alias: `d${x.tag}` };
    },
    ours: true,
  },
  "traintrack.v1.ModelService/getModelAliasHistory": { build: (x) => ({ model: model(x), alias: "champion" }), ours: true },
  "traintrack.v1.ModelService/downloadModelFile": { build: (x) => ({ model: model(x), selector: { case: "version", value: 1n }, path: "model.bin" }), ours: true },
  "traintrack.v1.LineageService/getLineageGraph": { build: (x) => ({ start: { case: "model", value: { model: model(x), version: 1n } } }), ours: true },
  "traintrack.v1.PipelineService/createPipeline": { build: (x) => ({ name: `new-${x.tag}`, project: x.project }) },
  "traintrack.v1.PipelineService/getPipeline": { build: (x) => ({ name: pipe(x).name }), ours: true },
  "traintrack.v1.PipelineService/listPipelines": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.PipelineService/startPipelineRun": { build: (x) => ({ pipeline: pipe(x).name, requestId: x.tag }), ours: true },
  "traintrack.v1.PipelineService/finishPipelineRun": {
    build: async (x) => {
      const id = (await x.fx.pipelineClient.startPipelineRun({ pipeline: pipe(x).name })).run?.id ?? "";
      x.fx.projectOfPipelineRun.set(id, x.project);
      x.fx.ourIds.add(id);
      return { pipelineRunId: id, status: PipelineRunStatus.SUCCEEDED };
    },
    ours: true,
  },
  "traintrack.v1.PipelineService/getPipelineRun": { build: (x) => ({ pipelineRunId: pipe(x).runId }), ours: true },
  "traintrack.v1.PipelineService/listPipelineRuns": { build: (x) => ({ pipeline: pipe(x).name }), ours: true },
  "traintrack.v1.PipelineService/startStep": { build: (x) => ({ pipelineRunId: pipe(x).runId, name: `s-${x.tag}`, upstream: ["s0"] }), ours: true },
  "traintrack.v1.PipelineService/finishStep": {
    build: async (x) => {
      const id = (await x.fx.pipelineClient.startStep({ pipelineRunId: pipe(x).runId, name: `f-${x.tag}` })).step?.id ?? "";
      x.fx.projectOfStep.set(id, x.project);
      x.fx.ourIds.add(id);
      return { stepId: id, status: StepStatus.SUCCEEDED };
    },
    ours: true,
  },
  "traintrack.v1.PipelineService/recordSteps": {
    build: (x) => ({ pipelineRunId: pipe(x).runId, steps: [{ name: `r-${x.tag}`, upstream: ["s0"], status: StepStatus.SUCCEEDED }] }),
    ours: true,
  },
  "traintrack.v1.PipelineService/recordStepIO": {
    build: (x) => ({ stepId: pipe(x).stepId, outputs: [{ ref: { case: "external", value: { namespace: "s3://m", name: x.tag, facets: "" } } }] }),
    ours: true,
  },
  "traintrack.v1.PipelineService/getPipelineGraph": { build: (x) => ({ pipelineRunId: pipe(x).runId }), ours: true },
};

/** Calls `method` with `input` as `key`, draining streams; the response, or the error. */
export async function call(server: TestServer, service: DescService, method: DescMethod, input: unknown, key: string): Promise<{ response?: unknown; error?: ConnectError }> {
  const client = createClient(service, withKey(server.transports.grpc, key)) as unknown as Record<string, (i: unknown) => unknown>;
  const invoke = client[method.localName] as (i: unknown) => unknown;
  try {
    if (method.methodKind === "client_streaming") {
      return { response: await invoke((async function* () { yield* input as Iterable<unknown> | AsyncIterable<unknown>; })()) };
    }
    if (method.methodKind === "server_streaming") {
      const messages: unknown[] = [];
      for await (const m of invoke(input) as AsyncIterable<unknown>) messages.push(m);
      return { response: messages };
    }
    return { response: await invoke(input) };
  } catch (e) {
    return { error: ConnectError.from(e) };
  }
}

/** The message a rule looks at: a client stream's first (the matrix sends one run's messages), or the request. */
export const sampleOf = (method: DescMethod, input: unknown) => (Array.isArray(input) ? input[0] : method.methodKind === "client_streaming" ? undefined : input);
