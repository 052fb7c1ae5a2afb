import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../../gen/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
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
export const servedServices = [UploadService, DatasetService, ProjectService, ExperimentService, RunArtefactService, Health, ReflectionV1, ReflectionV1alpha] as const;

export interface RouteDeps {
  uploads: Uploads;
  datasets: Datasets;
  experiments: Experiments;
  runs: RunService;
  runArtefacts: RunArtefacts;
  metrics: MetricsService;
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
    router.service(ProjectService, projectHandlers(deps.experiments));
    router.service(ExperimentService, experimentHandlers(deps));
    router.service(RunArtefactService, runArtefactHandlers(deps.runArtefacts));
    deps.health.register(router);
    registerReflection(router, servedServices);
    answerMalformedBodiesAsInvalidArgument(router);
  };
}
