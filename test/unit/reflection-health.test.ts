import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health/v1/health_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { createHealth } from "../../src/wire/health.js";
import { registerReflection } from "../../src/wire/reflection.js";

const served = [UploadService, DatasetService, Health, v1.ServerReflection, v1alpha.ServerReflection];

function startServer() {
  const health = createHealth(served.map((s) => s.typeName));
  const transport = createRouterTransport((router) => {
    registerReflection(router, served);
    health.register(router);
  });
  return {
    health,
    reflection: createClient(v1.ServerReflection, transport),
    reflectionAlpha: createClient(v1alpha.ServerReflection, transport),
    healthClient: createClient(Health, transport),
  };
}

type Request = MessageInitShape<typeof v1.ServerReflectionRequestSchema>;

/** Sends all requests on one stream and collects the answers. */
async function ask(client: ReturnType<typeof startServer>["reflection"], ...reqs: Request[]) {
  async function* requests() {
    for (const r of reqs) yield create(v1.ServerReflectionRequestSchema, r);
  }
  const answers = [];
  for await (const res of client.serverReflectionInfo(requests())) answers.push(res.messageResponse);
  return answers;
}

async function askOne(client: ReturnType<typeof startServer>["reflection"], req: Request) {
  const [answer] = await ask(client, req);
  return answer;
}

function decodedFiles(answer: Awaited<ReturnType<typeof askOne>>) {
  if (answer?.case !== "fileDescriptorResponse") throw new Error(`expected files, got ${answer?.case}`);
  return answer.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

describe("server reflection", () => {
  it("lists the app's services together with health and reflection", async () => {
    const answer = await askOne(startServer().reflection, { messageRequest: { case: "listServices", value: "" } });
    expect(answer?.case).toBe("listServicesResponse");
    const names = answer?.case === "listServicesResponse" ? answer.value.service.map((s) => s.name) : [];
    expect(names).toEqual(expect.arrayContaining(["traintrack.v1.UploadService", "grpc.health.v1.Health"]));
    expect(names).toContain("grpc.reflection.v1.ServerReflection");
  });

  it("answers a service name with its file and every import, each once", async () => {
    const { reflection } = startServer();
    const files = decodedFiles(
      await askOne(reflection, { messageRequest: { case: "fileContainingSymbol", value: "traintrack.v1.UploadService" } }),
    );
    const names = files.map((f) => f.name);
    expect(names[0]).toBe("traintrack/v1/upload.proto");
    expect(names).toContain("google/protobuf/timestamp.proto");
    expect(new Set(names).size).toBe(names.length);
    expect(files.find((f) => f.name === "traintrack/v1/upload.proto")?.package).toBe("traintrack.v1");
    expect(files.find((f) => f.name === "google/protobuf/timestamp.proto")?.package).toBe("google.protobuf");
    expect(files[0]?.dependency).toEqual(["google/protobuf/timestamp.proto"]);
  });

  it.each([
    "traintrack.v1.UploadRequest",
    "traintrack.v1.UploadService.Upload",
    "traintrack.v1.UploadState",
    "traintrack.v1.UploadRequest.chunk",
  ])("resolves the symbol %s to upload.proto", async (symbol) => {
    const files = decodedFiles(
      await askOne(startServer().reflection, { messageRequest: { case: "fileContainingSymbol", value: symbol } }),
    );
    expect(files[0]?.name).toBe("traintrack/v1/upload.proto");
  });

  it("resolves files by name, including imports of imports", async () => {
    const files = decodedFiles(
      await askOne(startServer().reflection, {
        messageRequest: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" },
      }),
    );
    expect(files.map((f) => f.name)).toEqual(["google/protobuf/timestamp.proto"]);
  });

  it("answers a miss with NOT_FOUND inside the stream and keeps the stream usable", async () => {
    const [miss, hit] = await ask(
      startServer().reflection,
      { messageRequest: { case: "fileContainingSymbol", value: "traintrack.v1.NoSuchThing" } },
      { messageRequest: { case: "fileContainingSymbol", value: "traintrack.v1.DatasetService" } },
    );
    expect(miss?.case).toBe("errorResponse");
    expect(miss?.case === "errorResponse" && miss.value.errorCode).toBe(Code.NotFound);
    expect(decodedFiles(hit)[0]?.name).toBe("traintrack/v1/dataset.proto");
  });

  it("answers extension queries as a server without extensions does", async () => {
    const [numbers, unknownType, extension] = await ask(
      startServer().reflection,
      { messageRequest: { case: "allExtensionNumbersOfType", value: "traintrack.v1.UploadRequest" } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "traintrack.v1.Nope" } },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "traintrack.v1.UploadRequest", extensionNumber: 100 },
        },
      },
    );
    expect(numbers?.case === "allExtensionNumbersResponse" && numbers.value.extensionNumber).toEqual([]);
    expect(unknownType?.case === "errorResponse" && unknownType.value.errorCode).toBe(Code.NotFound);
    expect(extension?.case === "errorResponse" && extension.value.errorCode).toBe(Code.NotFound);
  });

  it("answers v1alpha clients the same as v1 clients", async () => {
    const { reflectionAlpha } = startServer();
    const requests = async function* () {
      yield create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
      yield create(v1alpha.ServerReflectionRequestSchema, {
        messageRequest: { case: "fileContainingSymbol", value: "traintrack.v1.UploadService.Upload" },
      });
      yield create(v1alpha.ServerReflectionRequestSchema, {
        messageRequest: { case: "fileContainingSymbol", value: "nope.Nope" },
      });
    };
    const answers = [];
    for await (const res of reflectionAlpha.serverReflectionInfo(requests())) {
      expect(res.$typeName).toBe("grpc.reflection.v1alpha.ServerReflectionResponse");
      answers.push(res.messageResponse);
    }
    const [list, files, miss] = answers;
    expect(list?.case === "listServicesResponse" && list.value.service.map((s) => s.name)).toContain(
      "traintrack.v1.UploadService",
    );
    expect(files?.case === "fileDescriptorResponse" && files.value.fileDescriptorProto.length).toBe(2);
    expect(miss?.case === "errorResponse" && miss.value.errorCode).toBe(Code.NotFound);
  });
});

describe("health", () => {
  it("reports SERVING for the server and its services, NotFound for unknown names", async () => {
    const { healthClient } = startServer();
    expect((await healthClient.check({ service: "" })).status).toBe(Status.SERVING);
    expect((await healthClient.check({ service: "traintrack.v1.UploadService" })).status).toBe(Status.SERVING);
    const err = await healthClient.check({ service: "traintrack.v1.Nope" }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.NotFound);
  });

  it("reports NOT_SERVING everywhere once shutdown begins", async () => {
    const { health, healthClient } = startServer();
    health.setServing(false);
    expect((await healthClient.check({ service: "" })).status).toBe(Status.NOT_SERVING);
    expect((await healthClient.check({ service: "traintrack.v1.DatasetService" })).status).toBe(Status.NOT_SERVING);
    const { statuses } = await healthClient.list({});
    expect(statuses["traintrack.v1.UploadService"]?.status).toBe(Status.NOT_SERVING);
  });

  it("lists every known service with its status", async () => {
    const { statuses } = await startServer().healthClient.list({});
    expect(Object.keys(statuses).sort()).toEqual(["", ...served.map((s) => s.typeName)].sort());
    expect(statuses[""]?.status).toBe(Status.SERVING);
  });

  it("watch sends the current status, then each change", async () => {
    const { health, healthClient } = startServer();
    const abort = new AbortController();
    const seen: Status[] = [];
    const watching = (async () => {
      for await (const res of healthClient.watch({ service: "traintrack.v1.UploadService" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) health.setServing(false);
        if (seen.length === 2) abort.abort();
      }
    })();
    await expect(watching).rejects.toMatchObject({ code: Code.Canceled });
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
  });

  it("watch of an unknown service reports SERVICE_UNKNOWN instead of failing", async () => {
    const abort = new AbortController();
    const stream = startServer().healthClient.watch({ service: "later.v1.Service" }, { signal: abort.signal });
    for await (const res of stream) {
      expect(res.status).toBe(Status.SERVICE_UNKNOWN);
      break;
    }
    abort.abort();
  });
});
