import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../../gen/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import type { DatasetService as Datasets } from "../services/datasets.js";
import type { UploadService as Uploads } from "../services/uploads.js";
import { datasetHandlers } from "./dataset-handlers.js";
import type { HealthServer } from "./health.js";
import { registerReflection } from "./reflection.js";
import { uploadHandlers } from "./upload-handlers.js";

/** Every service this server answers, for reflection and health. */
export const servedServices = [UploadService, DatasetService, Health, ReflectionV1, ReflectionV1alpha] as const;

export interface RouteDeps {
  uploads: Uploads;
  datasets: Datasets;
  health: HealthServer;
  maxChunkBytes: number;
}

export function routes(deps: RouteDeps): (router: ConnectRouter) => void {
  return (router) => {
    router.service(UploadService, uploadHandlers(deps.uploads, deps));
    router.service(DatasetService, datasetHandlers(deps.datasets));
    deps.health.register(router);
    registerReflection(router, servedServices);
  };
}
