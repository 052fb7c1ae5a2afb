import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../../gen/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { AuditService } from "../../gen/traintrack/v1/audit_pb.js";
import { OrganizationService } from "../../gen/traintrack/v1/organization_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { LineageService } from "../../gen/traintrack/v1/lineage_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { PipelineService } from "../../gen/traintrack/v1/pipeline_pb.js";
import type { PipelineService as Pipelines } from "../services/pipelines/index.js";
import { pipelineHandlers } from "./pipeline-handlers.js";
import type { createLineageGraph } from "../services/lineage-graph.js";
import type { ModelService as Models } from "../services/models/index.js";
import { lineageHandlers } from "./lineage-handlers.js";
import { modelHandlers } from "./model-handlers.js";
import type {
  AuditLog,
  GrantService,
  KeyService,
  OrganizationService as Organizations,
  ScopeResolver,
  UserDirectory,
} from "../services/identity/index.js";
import { accessHandlers } from "./access-handlers.js";
import { apiKeyHandlers } from "./api-key-handlers.js";
import { auditHandlers } from "./audit-handlers.js";
import { organizationHandlers } from "./organization-handlers.js";
import { userHandlers } from "./user-handlers.js";
import type { DatasetService as Datasets } from "../services/datasets.js";
import type { ExperimentService as Experiments } from "../services/experiments.js";
import type { MetricsService } from "../services/metrics.js";
import type { RunArtefactService as RunArtefacts } from "../services/run-artefacts.js";
import type { RunService } from "../services/runs.js";
import type { UploadService as Uploads } from "../services/uploads.js";
import { datasetHandlers } from "./dataset-handlers.js";
import { experimentHandlers } from "./experiment-handlers.js";
import type { HealthServer } from "./health.js";
import { answerMalformedBodiesAsInvalidArgument } from "./malformed-bodies.js";
import { projectHandlers } from "./project-handlers.js";
import { registerReflection } from "./reflection.js";
import { runArtefactHandlers } from "./run-artefact-handlers.js";
import { uploadHandlers } from "./upload-handlers.js";

/** Every service this server answers, for reflection and health. */
export const servedServices = [
  UploadService,
  DatasetService,
  ProjectService,
  ExperimentService,
  RunArtefactService,
  OrganizationService,
  UserService,
  AccessService,
  ApiKeyService,
  AuditService,
  ModelService,
  LineageService,
  PipelineService,
  Health,
  ReflectionV1,
  ReflectionV1alpha,
] as const;

export interface RouteDeps {
  uploads: Uploads;
  datasets: Datasets;
  experiments: Experiments;
  runs: RunService;
  runArtefacts: RunArtefacts;
  metrics: MetricsService;
  models: Models;
  pipelines: Pipelines;
  lineage: ReturnType<typeof createLineageGraph>;
  identity: {
    organizations: Organizations;
    users: UserDirectory;
    grants: GrantService;
    keys: KeyService;
    audit: AuditLog;
    scopes: ScopeResolver;
  };
  now: () => Date;
  health: HealthServer;
  maxChunkBytes: number;
  countUploadBytes: (bytes: number) => void;
  /** Aborts when shutdown ends the streams still open. */
  shutdown: AbortSignal;
}

export function routes(deps: RouteDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(UploadService, uploadHandlers(deps.uploads, { maxChunkBytes: deps.maxChunkBytes, countBytes: deps.countUploadBytes, shutdown: deps.shutdown }));
    router.service(DatasetService, datasetHandlers(deps.datasets));
    router.service(ProjectService, projectHandlers(deps.experiments, deps.identity.scopes));
    router.service(ExperimentService, experimentHandlers(deps));
    router.service(RunArtefactService, runArtefactHandlers(deps.runArtefacts));
    const { identity } = deps;
    router.service(OrganizationService, organizationHandlers(identity.organizations));
    router.service(UserService, userHandlers(identity.users));
    router.service(AccessService, accessHandlers({ ...identity, services: servedServices }));
    router.service(ApiKeyService, apiKeyHandlers(identity.keys, deps.now));
    router.service(AuditService, auditHandlers(identity.audit));
    router.service(ModelService, modelHandlers(deps.models));
    router.service(LineageService, lineageHandlers(deps.lineage));
    router.service(PipelineService, pipelineHandlers(deps.pipelines));
    deps.health.register(router);
    registerReflection(router, servedServices);
    answerMalformedBodiesAsInvalidArgument(router);
  };
}
