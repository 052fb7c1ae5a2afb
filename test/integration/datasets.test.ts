/**
 * What users rely on from the dataset API, on both backends and over every
 * protocol the port serves: upload, commit, read back byte for byte, resume a
 * broken upload, list, lineage, retries, and isolation between organisations.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import { breakUpload, bytesOf, download, resumeUpload, sha256, upload, uploadMessages } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const MiB = 1024 * 1024;

async function codeOf(promise: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe.each(backends())("datasets on $name", (backend) => {
  let server: TestServer;
  const uploads = () => server.client(UploadService);
  const datasets = () => server.client(DatasetService);

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("commits uploads as a version that reads back byte for byte over gRPC, gRPC-Web and Connect (HTTP/1.1 and HTTP/2)", async () => {
      // 12 MiB spans two 8 MiB segments, so the commit composes several staged objects.
      const big = bytesOf(12 * MiB + 123, 1);
      const csv = Buffer.from("id,label\n1,yes\n2,no\n");
      const bigUpload = await upload(uploads(), "features.bin", big);
      const csvUpload = await upload(uploads(), "churn.csv", csv);
      expect(bigUpload.state).toBe(UploadState.COMPLETE);
      expect(bigUpload.sha256).toBe(sha256(big));
      expect(bigUpload.bytesReceived).toBe(BigInt(big.length));

      const created = await datasets().createDataset({
        name: "churn",
        version: "1.0.0",
        description: "export from CRM",
        metadata: { source: "crm", rows: "2" },
        artefacts: [{ uploadId: bigUpload.uploadId, path: "train/features.bin" }, { uploadId: csvUpload.uploadId }],
      });
      expect(created.dataset?.artefactCount).toBe(2);
      expect(created.dataset?.totalSize).toBe(BigInt(big.length + csv.length));
      expect(created.dataset?.artefacts.map((a) => a.path)).toEqual(["churn.csv", "train/features.bin"]);

      for (const transport of ["connectH1", "connectH2", "grpc", "grpcWeb"] as const) {
        const client = server.client(DatasetService, transport);
        const got = await client.getDataset({ name: "churn", version: "1.0.0" });
        expect(got.dataset?.metadata).toEqual({ source: "crm", rows: "2" });
        expect(got.dataset?.description).toBe("export from CRM");
        const file = await download(client, "churn", "1.0.0", "train/features.bin");
        expect(file.sha256).toBe(sha256(big));
        expect(file.bytes.equals(big)).toBe(true);
        expect((await download(client, "churn", "1.0.0", "churn.csv")).bytes.toString()).toBe(csv.toString());
      }

      const tail = await download(datasets(), "churn", "1.0.0", "train/features.bin", BigInt(big.length - 100));
      expect(tail.bytes.equals(big.subarray(big.length - 100))).toBe(true);
      expect((await uploads().getUpload({ uploadId: bigUpload.uploadId })).upload?.state).toBe(UploadState.COMMITTED);
    });

    it("resumes a broken upload from the last durable offset and hashes the whole artefact", async () => {
      const data = bytesOf(20 * MiB, 2);
      // Send 17 MiB of the declared 20 (two whole segments and a bit), then drop the connection.
      const uploadId = await breakUpload(uploads(), server.app.db, "big.bin", data, 17 * MiB, 16 * MiB);

      const state = (await uploads().getUpload({ uploadId })).upload;
      expect(state?.state).toBe(UploadState.IN_PROGRESS);
      expect(state?.bytesReceived).toBe(BigInt(16 * MiB));

      const done = await resumeUpload(uploads(), uploadId, BigInt(16 * MiB), data);
      expect(done.state).toBe(UploadState.COMPLETE);
      expect(done.sha256).toBe(sha256(data));
    });

    it("CreateUpload names an upload before its first byte, so even a first stream that breaks resumes", async () => {
      for (const size of [100, 10 * MiB]) {
        const data = bytesOf(size, 4);
        const { upload: created } = await uploads().createUpload({ upload: { fileName: "named.bin", size: BigInt(size), sha256: sha256(data) } });
        expect(created?.state).toBe(UploadState.IN_PROGRESS);
        expect(created?.bytesReceived).toBe(0n);
        const done = await resumeUpload(uploads(), created?.uploadId ?? "", 0n, data);
        expect(done).toMatchObject({ state: UploadState.COMPLETE, sha256: sha256(data), bytesReceived: BigInt(size) });
      }
      expect(await codeOf(uploads().createUpload({ upload: { fileName: "../x" } }))).toBe(Code.InvalidArgument);
      expect(await codeOf(uploads().createUpload({}))).toBe(Code.InvalidArgument);
    });

    it("a stream that ends before its declared size stays resumable, but only at the durable offset", async () => {
      const data = bytesOf(1000, 3);
      async function* endsEarly() {
        const messages = uploadMessages("partial.bin", data);
        yield (await messages.next()).value!;
        yield { payload: { case: "chunk" as const, value: data.subarray(0, 10) } };
      }
      const error = ConnectError.from(await uploads().upload(endsEarly()).catch((e: unknown) => e));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain("resume upload");
      const uploadId = /upload "(up_[a-z0-9]+)"/.exec(error.rawMessage)?.[1] ?? "";
      expect((await uploads().getUpload({ uploadId })).upload?.state).toBe(UploadState.IN_PROGRESS);

      const refused = ConnectError.from(await resumeUpload(uploads(), uploadId, 5n, data).catch((e: unknown) => e));
      expect(refused.code).toBe(Code.FailedPrecondition);
      expect(refused.rawMessage).toContain("resume at offset 0");
      expect((await resumeUpload(uploads(), uploadId, 0n, data)).sha256).toBe(sha256(data));
    });

    it("serves the latest version, lists with a prefix and pages, and lists versions newest first", async () => {
      for (const [name, version] of [["iris", "1"], ["iris", "2"], ["iris-small", "1"], ["mnist", "1"]] as const) {
        const u = await upload(uploads(), "x.txt", Buffer.from(`${name}@${version}`));
        await datasets().createDataset({ name, version, description: `${name} ${version}`, artefacts: [{ uploadId: u.uploadId }] });
      }
      expect((await datasets().getDataset({ name: "iris" })).dataset?.version).toBe("2");

      const first = await datasets().listDatasets({ namePrefix: "iris", pageSize: 1 });
      expect(first.datasets.map((d) => [d.name, d.latestVersion, d.versionCount])).toEqual([["iris", "2", 2]]);
      const second = await datasets().listDatasets({ namePrefix: "iris", pageSize: 1, pageToken: first.nextPageToken });
      expect(second.datasets.map((d) => d.name)).toEqual(["iris-small"]);
      expect(second.nextPageToken).toBe("");

      const versions = await datasets().listDatasetVersions({ name: "iris" });
      expect(versions.versions.map((v) => v.version)).toEqual(["2", "1"]);
      expect(await codeOf(datasets().listDatasetVersions({ name: "nope" }))).toBe(Code.NotFound);
    });

    it("records lineage and returns ancestors and descendants as a graph", async () => {
      const make = async (version: string, parents: string[]) => {
        const u = await upload(uploads(), "d.txt", Buffer.from(version));
        await datasets().createDataset({
          name: "lineage",
          version,
          artefacts: [{ uploadId: u.uploadId }],
          derivedFrom: parents.map((p) => ({ name: "lineage", version: p })),
        });
      };
      await make("a", []);
      await make("b", ["a"]);
      await make("c", ["a"]);
      await make("d", ["b"]);
      const graph = await datasets().getLineage({ dataset: { name: "lineage", version: "b" } });
      expect(graph.nodes.map((n) => n.dataset?.version).sort()).toEqual(["a", "b", "d"]);
      expect(graph.edges.map((e) => `${e.parent?.version}->${e.child?.version}`).sort()).toEqual(["a->b", "b->d"]);
      expect((await datasets().getDataset({ name: "lineage", version: "d" })).dataset?.derivedFrom).toEqual([
        expect.objectContaining({ name: "lineage", version: "b" }),
      ]);
    });

    it("a retried CreateDataset returns the same version; other content under the same version is ALREADY_EXISTS", async () => {
      const u = await upload(uploads(), "r.txt", Buffer.from("retry me"));
      const request = { name: "retried", version: "1.0.0", description: "d", artefacts: [{ uploadId: u.uploadId }] };
      const first = await datasets().createDataset(request);
      const again = await datasets().createDataset(request);
      expect(again.dataset?.createdAt).toEqual(first.dataset?.createdAt);
      expect((await datasets().listDatasetVersions({ name: "retried" })).versions).toHaveLength(1);
      expect(await codeOf(datasets().createDataset({ ...request, description: "other" }))).toBe(Code.AlreadyExists);
    });

    it("commits a version of metadata alone, with no artefacts", async () => {
      const { dataset } = await datasets().createDataset({ name: "empty", version: "1", metadata: { note: "schema only" } });
      expect(dataset).toMatchObject({ artefactCount: 0, totalSize: 0n, metadata: { note: "schema only" } });
      expect((await datasets().getDataset({ name: "empty" })).dataset?.artefacts).toEqual([]);
    });

    it("stores identical bytes once", async () => {
      const same = Buffer.from("the same bytes in two datasets");
      const objects: string[] = [];
      for (const name of ["dedup-a", "dedup-b"]) {
        const u = await upload(uploads(), "same.txt", same);
        await datasets().createDataset({ name, version: "1", artefacts: [{ uploadId: u.uploadId }] });
        const row = await server.app.db.selectFrom("uploads").select("objectKey").where("id", "=", u.uploadId).executeTakeFirstOrThrow();
        objects.push(row.objectKey ?? "");
      }
      const blobs = await server.app.db.selectFrom("blobs").select("physicalKey").where("sha256", "=", sha256(same)).execute();
      // The first upload's object became the blob; the second, a duplicate, was deleted after its commit.
      expect(blobs.map((b) => b.physicalKey)).toEqual([objects[0]]);
      expect([await server.app.store.stat(objects[0] ?? ""), await server.app.store.stat(objects[1] ?? "")].map((o) => o?.size)).toEqual([same.length, undefined]);
    });

    it("AbortUpload discards the staged bytes", async () => {
      const u = await upload(uploads(), "gone.txt", Buffer.from("abort me"));
      const aborted = await uploads().abortUpload({ uploadId: u.uploadId });
      expect(aborted.upload?.state).toBe(UploadState.DISCARDED);
      const staged = [];
      for await (const object of server.app.store.list(`objects/`)) if (object.key.includes(u.uploadId)) staged.push(object);
      expect(staged).toEqual([]);
      expect(await codeOf(datasets().createDataset({ name: "gone", version: "1", artefacts: [{ uploadId: u.uploadId }] }))).toBe(
        Code.FailedPrecondition,
      );
    });

    it("one organisation never sees another's uploads or datasets", async () => {
      const u = await upload(uploads(), "secret.txt", Buffer.from("org one only"));
      await datasets().createDataset({ name: "secret", version: "1", artefacts: [{ uploadId: u.uploadId }] });
      const otherKey = await server.newOrganization();
      const theirDatasets = server.client(DatasetService, "grpc", otherKey);
      const theirUploads = server.client(UploadService, "grpc", otherKey);
      expect((await theirDatasets.listDatasets({})).datasets).toEqual([]);
      expect(await codeOf(theirDatasets.getDataset({ name: "secret", version: "1" }))).toBe(Code.NotFound);
      expect(await codeOf(theirDatasets.listArtefacts({ dataset: { name: "secret", version: "1" } }))).toBe(Code.NotFound);
      expect(await codeOf(download(theirDatasets, "secret", "1", "secret.txt"))).toBe(Code.NotFound);
      expect(await codeOf(theirUploads.getUpload({ uploadId: u.uploadId }))).toBe(Code.NotFound);
      // The same name is free in their organisation.
      const theirs = await upload(theirUploads, "secret.txt", Buffer.from("org two"));
      await theirDatasets.createDataset({ name: "secret", version: "1", artefacts: [{ uploadId: theirs.uploadId }] });
      expect((await download(datasets(), "secret", "1", "secret.txt")).bytes.toString()).toBe("org one only");
      // Each organisation lists its own version's artefacts, never the other's.
      const listed = await theirDatasets.listArtefacts({ dataset: { name: "secret", version: "1" } });
      expect(listed.artefacts.map((a) => a.sha256)).toEqual([theirs.sha256]);
    });
  });
});
