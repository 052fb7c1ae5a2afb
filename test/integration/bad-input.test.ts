import { createHash } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { type CreateDatasetRequestSchema, DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { type NewUploadSchema, type Upload, type UploadRequestSchema, UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";

// Every malformed, foreign or ill-timed request gets the exact documented code,
// a message saying what to fix, and leaves no trace: no version, no blob, no
// staged bytes, and uploads it named keep their state.

const KiB = 1024;
const MiB = 1024 * KiB;
const SEGMENT = 5 * MiB; // the floor S3 multipart needs
// Small limits make over-size input cheap to send.
const LIMITS = {
  TRAINTRACK_MAX_CHUNK_BYTES: String(KiB),
  TRAINTRACK_MAX_REQUEST_BYTES: String(64 * KiB),
  TRAINTRACK_MAX_ARTEFACT_BYTES: String(SEGMENT + MiB),
  TRAINTRACK_SEGMENT_BYTES: String(SEGMENT),
};

type UploadMessage = MessageInitShape<typeof UploadRequestSchema>;
type CreateRequest = MessageInitShape<typeof CreateDatasetRequestSchema>;
type Uploads = Client<typeof UploadService>;
type Datasets = Client<typeof DatasetService>;

const newUpload = (value: MessageInitShape<typeof NewUploadSchema>): UploadMessage => ({
  payload: { case: "header", value: { start: { case: "newUpload", value } } },
});
const resumeAt = (uploadId: string, offset: bigint): UploadMessage => ({
  payload: { case: "header", value: { start: { case: "resume", value: { uploadId, offset } } } },
});
const chunk = (data: string | Uint8Array): UploadMessage => ({
  payload: { case: "chunk", value: typeof data === "string" ? Buffer.from(data) : data },
});
/** `data` cut into chunks within the server's limit. */
const chunks = (data: Uint8Array) => Array.from({ length: Math.ceil(data.length / KiB) }, (_, i) => chunk(data.subarray(i * KiB, (i + 1) * KiB)));
const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const stream = async function* (messages: UploadMessage[]) { yield* messages; };
const drain = async (messages: AsyncIterable<unknown>) => { for await (const _ of messages); };

let counter = 0;
/** A name no other case uses, so that each case's rows, datasets and blobs are its own. */
const unique = (prefix: string) => `${prefix}-${++counter}`;

/** Expects `call` to fail with exactly `code` and a message containing `hint`. */
async function expectCode(call: Promise<unknown>, code: Code, hint: string | RegExp): Promise<ConnectError> {
  const error = await call.then(() => undefined, (e: unknown) => ConnectError.from(e));
  if (!error) throw new Error(`expected ${Code[code]}, but the call succeeded`);
  expect(Code[error.code], error.rawMessage).toBe(Code[code]);
  expect(error.rawMessage).toMatch(hint);
  return error;
}

describe.each(backends())("bad input ($name)", (backend) => {
  describe.skipIf(!backend.available)("is refused with the documented code and leaves nothing behind", () => {
    let s: TestServer;
    let uploads: Uploads;
    let datasets: Datasets;

    // One server per backend: PGlite takes seconds to start.
    beforeAll(async () => {
      s = await startTestServer(backend.name, { env: LIMITS });
      uploads = s.client(UploadService);
      datasets = s.client(DatasetService);
    });
    afterAll(async () => s?.close());

    /** Uploads `content` whole, in chunks within the limit, and returns the COMPLETE upload. */
    async function uploadBytes(content: string, client: Uploads = uploads): Promise<Upload> {
      const data = Buffer.from(content);
      const header = newUpload({ fileName: `${unique("file")}.txt`, mediaType: "text/plain", size: BigInt(data.length), sha256: sha256(content) });
      const { upload } = await client.upload(stream([header, ...chunks(data)]));
      if (upload?.state !== UploadState.COMPLETE) throw new Error(`upload of ${content} did not complete`);
      return upload;
    }

    async function keys(prefix: string): Promise<string[]> {
      const out: string[] = [];
      for await (const object of s.app.store.list(prefix)) out.push(object.key);
      return out;
    }

    /** What an upload holds in storage: its object, whole or still in parts. */
    async function staged(uploadId: string): Promise<string[]> {
      const { objectKey } = await s.app.db.selectFrom("uploads").select("objectKey").where("id", "=", uploadId).executeTakeFirstOrThrow();
      const started: string[] = [];
      for await (const o of s.app.store.listStarted("objects/")) if (o.key === objectKey) started.push(`${o.key} (parts)`);
      return [...(await keys(objectKey ?? "")).filter((k) => k === objectKey), ...started];
    }

    const blobRows = async () => (await s.app.db.selectFrom("blobs").select(["sha256", "physicalKey"]).orderBy("sha256").execute()).map((b) => `${b.sha256} ${b.physicalKey}`);

    /** The id of the upload a failed stream created: the error carries none, so it is found by its unique file name. */
    async function idOf(fileName: string): Promise<string> {
      const row = await s.app.db.selectFrom("uploads").select("id").where("fileName", "=", fileName).executeTakeFirst();
      if (!row) throw new Error(`no upload named ${fileName} was created`);
      return row.id;
    }

    async function uploadCount(): Promise<number> {
      const { n } = await s.app.db.selectFrom("uploads").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
      return Number(n);
    }

    const datasetList = async () =>
      (await datasets.listDatasets({ pageSize: 1000 })).datasets.map((d) => `${d.name}@${d.latestVersion}×${d.versionCount}`);

    /** Asserts that the upload a failed stream created is DISCARDED and nothing is left of its object. */
    async function expectDiscarded(fileName: string): Promise<void> {
      const id = await idOf(fileName);
      const { upload } = await uploads.getUpload({ uploadId: id });
      expect(upload?.state).toBe(UploadState.DISCARDED);
      expect(upload?.discardReason).not.toBe("");
      expect(await staged(id)).toEqual([]);
    }

    /** CreateDataset must fail with `code` and change nothing: same dataset list and blobs, uploads still COMPLETE. */
    async function expectCreateRefused(req: CreateRequest, code: Code, hint: string | RegExp, complete: Upload[] = []) {
      const before = await datasetList();
      const blobsBefore = await blobRows();
      await expectCode(datasets.createDataset(req), code, hint);
      expect(await datasetList()).toEqual(before);
      expect(await blobRows()).toEqual(blobsBefore);
      for (const u of complete) {
        expect((await uploads.getUpload({ uploadId: u.uploadId })).upload?.state).toBe(UploadState.COMPLETE);
      }
    }

    /** An Upload stream that must be refused before any upload is created. */
    async function expectUploadNeverCreated(messages: UploadMessage[], code: Code, hint: string | RegExp): Promise<void> {
      const before = await uploadCount();
      await expectCode(uploads.upload(stream(messages)), code, hint);
      expect(await uploadCount()).toBe(before);
    }

    it("unknown upload ids, well-formed or garbage, are NOT_FOUND in GetUpload, AbortUpload, resume and CreateDataset", async () => {
      const good = await uploadBytes(unique("unknown-ids"));
      for (const id of [`up_${"0".repeat(26)}`, "no-such-upload", "../../etc/passwd"]) {
        const hint = `upload "${id}" not found`;
        await expectCode(uploads.getUpload({ uploadId: id }), Code.NotFound, hint);
        await expectCode(uploads.abortUpload({ uploadId: id }), Code.NotFound, hint);
        await expectCode(uploads.upload(stream([resumeAt(id, 0n), chunk("abc")])), Code.NotFound, hint);
        const artefacts = [{ uploadId: good.uploadId }, { uploadId: id }];
        await expectCreateRefused({ name: unique("unknown"), version: "1", artefacts }, Code.NotFound, hint, [good]);
      }
    });

    it("another organisation's upload is NOT_FOUND everywhere and its bytes stay untouched", async () => {
      const otherKey = await s.newOrganization(unique("org"));
      const theirUploads = s.client(UploadService, "grpc", otherKey);
      const theirDatasets = s.client(DatasetService, "grpc", otherKey);
      const content = unique("their private bytes");
      const theirs = await uploadBytes(content, theirUploads);
      const id = theirs.uploadId;
      const storedObjects = async () => staged(id);
      const storedBefore = await storedObjects();
      expect(storedBefore).toHaveLength(1);

      const hint = `upload "${id}" not found`;
      await expectCode(uploads.getUpload({ uploadId: id }), Code.NotFound, hint);
      await expectCode(uploads.abortUpload({ uploadId: id }), Code.NotFound, hint);
      await expectCode(uploads.upload(stream([resumeAt(id, theirs.bytesReceived), chunk("x")])), Code.NotFound, hint);
      await expectCreateRefused({ name: unique("stolen"), version: "1", artefacts: [{ uploadId: id }] }, Code.NotFound, hint);

      const { upload } = await theirUploads.getUpload({ uploadId: id });
      expect(upload).toMatchObject({ state: UploadState.COMPLETE, bytesReceived: theirs.bytesReceived, sha256: sha256(content) });
      expect(await storedObjects()).toEqual(storedBefore);
      const name = unique("theirs");
      const { dataset } = await theirDatasets.createDataset({ name, version: "1", artefacts: [{ uploadId: id }] });
      expect(dataset?.artefacts.map((a) => a.sha256)).toEqual([sha256(content)]);
      await expectCode(datasets.getDataset({ name }), Code.NotFound, `dataset "${name}" not found`);
    });

    it("dataset names that are not plain names, and over-long text, are INVALID_ARGUMENT", async () => {
      const good = await uploadBytes(unique("names"));
      const artefacts = [{ uploadId: good.uploadId }];
      const plain = "may only hold letters, digits";
      const names: [string, string][] = [
        ["..", plain], ["../etc", plain], ["/etc/passwd", plain], ["a/b", plain], ["a\\b", plain],
        ["a\u0000b", plain], ["a\nb", plain], ["bell\u0007", plain], ["", "name is required"],
        ["x".repeat(129), "name is 129 bytes long; the limit is 128"],
      ];
      for (const [name, hint] of names) {
        await expectCreateRefused({ name, version: "1", artefacts }, Code.InvalidArgument, hint, [good]);
        if (name) await expectCode(datasets.getDataset({ name }), Code.InvalidArgument, hint);
      }
      const long = { name: unique("long"), version: "1", artefacts };
      const tooLong = "description is 4097 bytes long; the limit is 4096";
      await expectCreateRefused({ ...long, description: "d".repeat(4097) }, Code.InvalidArgument, tooLong, [good]);
      await expectCreateRefused({ ...long, metadata: { "../k": "v" } }, Code.InvalidArgument, "metadata key", [good]);
    });

    it("artefact paths that escape, are absolute, hold control characters or are too long are INVALID_ARGUMENT", async () => {
      const good = await uploadBytes(unique("paths"));
      const element = `".." element`;
      const control = "contains a NUL or control character";
      const paths: [string, string][] = [
        ["..", element], ["a/../b", element], ["./a", element], ["a//b", element], ["a/", element],
        ["/etc/passwd", "is absolute"], ["a\u0000b", control], ["a\nb", control], ["a\u0007b", control],
        ["a\\b", `contains a "/" or "\\"`],
        ["x".repeat(1025), "1025 bytes long; the limit is 1024"],
        ["é".repeat(513), "1026 bytes long; the limit is 1024"], // counted in bytes, not characters
        [`a/${"x".repeat(256)}`, "256 bytes long; the limit is 255"],
      ];
      for (const [path, hint] of paths) {
        const req = { name: unique("paths"), version: "1", artefacts: [{ uploadId: good.uploadId, path }] };
        await expectCreateRefused(req, Code.InvalidArgument, hint, [good]);
      }
    });

    it("Upload file names with '/', '..', NUL, control characters or over 255 bytes are INVALID_ARGUMENT and create no upload", async () => {
      const control = "contains a NUL or control character";
      const fileNames: [string, string][] = [
        ["a/b.txt", `contains a "/"`], ["..", `".." element`], [".", `".." element`], ["a\\b.txt", `contains a "/" or "\\"`],
        ["a\u0000b", control], ["a\nb", control], ["a\u0007b", control],
        ["x".repeat(256), "file_name is 256 bytes long; the limit is 255"], ["", "file_name is required"],
      ];
      for (const [fileName, hint] of fileNames) {
        await expectUploadNeverCreated([newUpload({ fileName, size: 3n }), chunk("abc")], Code.InvalidArgument, hint);
      }
      const longType = newUpload({ fileName: "ok.txt", mediaType: "t".repeat(128), size: 3n });
      await expectUploadNeverCreated([longType, chunk("abc")], Code.InvalidArgument, "media_type is 128 bytes long; the limit is 127");
    });

    it("C1 control characters (U+0080 to U+009F) are refused like C0 ones in paths and file names", async () => {
      const good = await uploadBytes(unique("c1"));
      const req = { name: unique("c1"), version: "1", artefacts: [{ uploadId: good.uploadId, path: "a\u009b31mb.csv" }] };
      await expectCreateRefused(req, Code.InvalidArgument, "control character", [good]);
      await expectUploadNeverCreated([newUpload({ fileName: "a\u0085b.txt", size: 3n }), chunk("abc")], Code.InvalidArgument, "control character");
    });

    it("an empty or over-size chunk is INVALID_ARGUMENT and discards the upload with its staged bytes", async () => {
      const cases: [UploadMessage, string][] = [
        [chunk(""), "an empty chunk arrived"],
        [chunk(Buffer.alloc(KiB + 1, 2)), `a chunk of ${KiB + 1} bytes exceeds the server's limit of ${KiB}; send smaller chunks`],
      ];
      for (const [bad, hint] of cases) {
        const fileName = `${unique("chunk")}.bin`;
        const messages = [newUpload({ fileName, size: BigInt(3 * KiB) }), chunk(Buffer.alloc(KiB, 1)), bad, chunk("never read")];
        await expectCode(uploads.upload(stream(messages)), Code.InvalidArgument, hint);
        await expectDiscarded(fileName);
      }
    });

    it("a message over the request limit or a declared size over the artefact limit is RESOURCE_EXHAUSTED and stores nothing", async () => {
      const limit = SEGMENT + MiB;
      const overLimit = [newUpload({ fileName: "big.bin", size: BigInt(limit + 1) }), chunk("a")];
      const overHint = `declared size ${limit + 1} exceeds the server's artefact limit of ${limit} bytes`;
      await expectUploadNeverCreated(overLimit, Code.ResourceExhausted, overHint);

      // Connect itself refuses a message over readMaxBytes before the handler reads it.
      const tooBig = /larger than configured readMaxBytes/;
      await expectCreateRefused({ name: unique("huge"), version: "1", description: "d".repeat(100 * KiB) }, Code.ResourceExhausted, tooBig);
      const fileName = `${unique("huge")}.bin`;
      const hugeChunk = [newUpload({ fileName, size: BigInt(200 * KiB) }), chunk(Buffer.alloc(100 * KiB))];
      await expectCode(uploads.upload(stream(hugeChunk)), Code.ResourceExhausted, tooBig);
      // The header was accepted, so the upload exists; like a broken stream it keeps nothing it did not make durable.
      const { upload } = await uploads.getUpload({ uploadId: await idOf(fileName) });
      expect(upload?.state === UploadState.IN_PROGRESS || upload?.state === UploadState.DISCARDED).toBe(true);
      expect(upload?.bytesReceived).toBe(0n);
      expect(await staged(upload?.uploadId ?? "")).toEqual([]);
    });

    it("a stream that ends before its declared size is INVALID_ARGUMENT but stays IN_PROGRESS, resumable at its durable bytes", async () => {
      const data = Buffer.alloc(SEGMENT + 10, 0);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
      const fileName = `${unique("early")}.bin`;
      const header = newUpload({ fileName, size: BigInt(data.length), sha256: sha256(data) });
      const sent = SEGMENT + 4; // one whole segment is durable, four bytes of the next are not
      const error = await expectCode(uploads.upload(stream([header, ...chunks(data.subarray(0, sent))])), Code.InvalidArgument,
        `stream ended after ${sent} of the declared ${data.length} bytes; ${SEGMENT} are durably staged`);
      const id = await idOf(fileName);
      expect(error.rawMessage).toContain(`resume upload "${id}" at offset ${SEGMENT}`);
      const { upload: broken } = await uploads.getUpload({ uploadId: id });
      expect(broken).toMatchObject({ state: UploadState.IN_PROGRESS, bytesReceived: BigInt(SEGMENT), size: BigInt(data.length) });
      expect(await staged(id)).toHaveLength(1);

      const req = { name: unique("early"), version: "1", artefacts: [{ uploadId: id }] };
      await expectCreateRefused(req, Code.FailedPrecondition, `upload "${id}" is still in progress: finish its Upload stream`);
      const wrongOffset = stream([resumeAt(id, BigInt(sent)), ...chunks(data.subarray(sent))]);
      await expectCode(uploads.upload(wrongOffset), Code.FailedPrecondition, `resume at offset ${SEGMENT}, not ${sent}`);
      const { upload } = await uploads.upload(stream([resumeAt(id, BigInt(SEGMENT)), ...chunks(data.subarray(SEGMENT))]));
      expect(upload).toMatchObject({ state: UploadState.COMPLETE, bytesReceived: BigInt(data.length), sha256: sha256(data) });
    });

    it("a second header, a chunk before the header, a header without a start or an empty stream is INVALID_ARGUMENT", async () => {
      const fileName = `${unique("twice")}.txt`;
      const twice = [newUpload({ fileName, size: 6n }), chunk("abc"), newUpload({ fileName: "again.txt", size: 3n }), chunk("def")];
      await expectCode(uploads.upload(stream(twice)), Code.InvalidArgument, "a second header arrived mid-stream");
      await expectDiscarded(fileName);
      await expectUploadNeverCreated([chunk("abc")], Code.InvalidArgument, "the first message of an Upload stream must be a header");
      const noStart: UploadMessage = { payload: { case: "header", value: {} } };
      await expectUploadNeverCreated([noStart, chunk("abc")], Code.InvalidArgument, "the header must set new_upload or resume");
      await expectUploadNeverCreated([], Code.InvalidArgument, "the Upload stream is empty: send a header message first");
    });

    it("a sha256 or size that does not match the bytes is INVALID_ARGUMENT and keeps nothing staged", async () => {
      const cases: [MessageInitShape<typeof NewUploadSchema>, UploadMessage[], string][] = [
        [{ size: 3n, sha256: sha256("xyz") }, [chunk("abc")], `sha256 mismatch: declared ${sha256("xyz")}`],
        [{ sha256: sha256("xyz") }, [chunk("abc")], "sha256 mismatch"],
        [{ size: 3n }, [chunk("abcde")], "stream carries more than the declared 3 bytes"],
        // The first three bytes fill a segment and become durable before the extra ones arrive.
        [{ size: 3n }, [chunk("abc"), chunk("de")], "stream carries more than the declared 3 bytes"],
      ];
      for (const [declared, body, hint] of cases) {
        const fileName = `${unique("mismatch")}.txt`;
        await expectCode(uploads.upload(stream([newUpload({ fileName, ...declared }), ...body])), Code.InvalidArgument, hint);
        await expectDiscarded(fileName);
      }
      for (const sha of ["abc", "z".repeat(64), "a".repeat(65), `${sha256("abc")} `]) {
        const header = newUpload({ fileName: "x.txt", size: 3n, sha256: sha });
        await expectUploadNeverCreated([header, chunk("abc")], Code.InvalidArgument, "sha256 must be 64 hex digits");
      }
      await expectUploadNeverCreated([newUpload({ fileName: "x.txt", size: -1n }), chunk("abc")], Code.InvalidArgument, "size must not be negative");
    });

    it("CreateDataset naming one upload twice, or one path twice, is INVALID_ARGUMENT", async () => {
      const a = await uploadBytes(unique("dup-a"));
      const b = await uploadBytes(unique("dup-b"));
      const create = (artefacts: CreateRequest["artefacts"]) => ({ name: unique("dup"), version: "1", artefacts });
      const twice = create([{ uploadId: a.uploadId }, { uploadId: a.uploadId, path: "copy.txt" }]);
      await expectCreateRefused(twice, Code.InvalidArgument, `upload "${a.uploadId}" is named twice`, [a]);
      const samePath = create([{ uploadId: a.uploadId, path: "same.txt" }, { uploadId: b.uploadId, path: "same.txt" }]);
      await expectCreateRefused(samePath, Code.InvalidArgument, `path "same.txt" is used by two artefacts`, [a, b]);
      const defaultPath = create([{ uploadId: a.uploadId }, { uploadId: b.uploadId, path: a.fileName }]);
      await expectCreateRefused(defaultPath, Code.InvalidArgument, `path "${a.fileName}" is used by two artefacts`, [a, b]);
    });

    it("CreateDataset with an upload in progress, already committed or aborted is FAILED_PRECONDITION naming it", async () => {
      const good = await uploadBytes(unique("good"));
      const fileName = `${unique("unfinished")}.txt`;
      await expectCode(uploads.upload(stream([newUpload({ fileName, size: 10n }), chunk("abc")])), Code.InvalidArgument, "stream ended");
      const inProgress = await idOf(fileName);
      const committed = await uploadBytes(unique("committed"));
      await datasets.createDataset({ name: unique("first-home"), version: "1", artefacts: [{ uploadId: committed.uploadId }] });
      await expectCode(uploads.abortUpload({ uploadId: committed.uploadId }), Code.FailedPrecondition, "is committed to a dataset version");
      const aborted = await uploadBytes(unique("aborted"));
      expect((await uploads.abortUpload({ uploadId: aborted.uploadId })).upload?.state).toBe(UploadState.DISCARDED);
      expect(await staged(aborted.uploadId)).toEqual([]);
      const resumeAborted = stream([resumeAt(aborted.uploadId, 0n), chunk("x")]);
      await expectCode(uploads.upload(resumeAborted), Code.FailedPrecondition, "only an upload in progress can be resumed");

      const cases: [string, string][] = [
        [inProgress, "is still in progress: finish its Upload stream before CreateDataset"],
        [committed.uploadId, "is already committed"],
        [aborted.uploadId, "is discarded (aborted by the client)"],
      ];
      for (const [id, hint] of cases) {
        const req = { name: unique("precondition"), version: "1", artefacts: [{ uploadId: good.uploadId }, { uploadId: id, path: "bad.txt" }] };
        await expectCreateRefused(req, Code.FailedPrecondition, `upload "${id}" ${hint}`, [good]);
      }
    });

    it("CreateDataset derived from a version that does not exist is NOT_FOUND", async () => {
      const parent = await uploadBytes(unique("parent"));
      const parentName = unique("parent");
      await datasets.createDataset({ name: parentName, version: "1", artefacts: [{ uploadId: parent.uploadId }] });
      const good = await uploadBytes(unique("child"));
      for (const ref of [{ name: "no-such-parent", version: "1.0.0" }, { name: parentName, version: "2" }]) {
        const req = { name: unique("child"), version: "1", artefacts: [{ uploadId: good.uploadId }], derivedFrom: [ref] };
        await expectCreateRefused(req, Code.NotFound, `derived_from: dataset "${ref.name}" version "${ref.version}" not found`, [good]);
      }
    });

    it("version strings that are empty, too long, or hold spaces or '/' are INVALID_ARGUMENT", async () => {
      const good = await uploadBytes(unique("versions"));
      const plain = `may only hold letters, digits, ".", "_", "+" and "-"`;
      const versions: [string, string][] = [
        ["", "version is required"], ["v".repeat(65), "version is 65 bytes long; the limit is 64"],
        ["1 0", plain], ["1/0", plain], ["../1", plain], [".1", plain], ["1\n", plain],
      ];
      for (const [version, hint] of versions) {
        const req = { name: unique("versions"), version, artefacts: [{ uploadId: good.uploadId }] };
        await expectCreateRefused(req, Code.InvalidArgument, hint, [good]);
      }
    });

    it("the same name and version with other content is ALREADY_EXISTS; an identical retry returns the first version", async () => {
      const a = await uploadBytes(unique("immutable"));
      const b = await uploadBytes(unique("immutable-other"));
      const req = { name: unique("immutable"), version: "1.0.0", description: "first", artefacts: [{ uploadId: a.uploadId, path: "data.csv" }] };
      const { dataset: first } = await datasets.createDataset(req);
      const { dataset: retried } = await datasets.createDataset(req);
      expect(retried).toEqual(first);

      const exists = `dataset "${req.name}" version "1.0.0" already exists with other content`;
      await expectCreateRefused({ ...req, artefacts: [{ uploadId: b.uploadId, path: "data.csv" }] }, Code.AlreadyExists, exists, [b]);
      await expectCreateRefused({ ...req, description: "second" }, Code.AlreadyExists, exists);
      const { versions } = await datasets.listDatasetVersions({ name: req.name });
      expect(versions.map((v) => v.version)).toEqual(["1.0.0"]);
      expect((await datasets.getDataset({ name: req.name })).dataset?.artefacts).toEqual(first?.artefacts);
    });

    it("every DatasetService and UploadService method is UNAUTHENTICATED without a valid key; health needs none", async () => {
      const name = unique("auth");
      const stored = await uploadBytes(unique("auth"));
      await datasets.createDataset({ name, version: "1", artefacts: [{ uploadId: stored.uploadId, path: "a.txt" }] });
      const spare = await uploadBytes(unique("auth-spare"));
      const ref = { name, version: "1" };
      type Call = (u: Uploads, d: Datasets, opts: CallOptions) => Promise<unknown>;
      const calls: Record<string, Call> = {
        upload: (u, _, o) => u.upload(stream([newUpload({ fileName: "auth.txt", size: 3n }), chunk("abc")]), o),
        createUpload: (u, _, o) => u.createUpload({ upload: { fileName: "auth.txt", size: 3n } }, o),
        getUpload: (u, _, o) => u.getUpload({ uploadId: spare.uploadId }, o),
        abortUpload: (u, _, o) => u.abortUpload({ uploadId: spare.uploadId }, o),
        createDataset: (_, d, o) => d.createDataset({ name: unique("auth"), version: "1", artefacts: [{ uploadId: spare.uploadId }] }, o),
        getDataset: (_, d, o) => d.getDataset(ref, o),
        listDatasets: (_, d, o) => d.listDatasets({}, o),
        listDatasetVersions: (_, d, o) => d.listDatasetVersions({ name }, o),
        getLineage: (_, d, o) => d.getLineage({ dataset: ref }, o),
        listArtefacts: (_, d, o) => d.listArtefacts({ dataset: ref }, o),
        downloadArtefact: (_, d, o) => drain(d.downloadArtefact({ dataset: ref, path: "a.txt" }, o)),
      };
      // A method added later must be added here too.
      expect(Object.keys(calls).sort()).toEqual([...UploadService.methods, ...DatasetService.methods].map((m) => m.localName).sort());

      const anonymous = { u: createClient(UploadService, s.transports.grpc), d: createClient(DatasetService, s.transports.grpc) };
      const wrong = { u: s.client(UploadService, "grpc", "tt_never_issued"), d: s.client(DatasetService, "grpc", "tt_never_issued") };
      const missing = `missing API key: send the header "authorization: Bearer <key>"`;
      // Malformed: another scheme, no key, a key with trailing words, a key without "Bearer".
      const malformed = ["Basic dXNlcjpwYXNz", "Bearer", `Bearer ${s.apiKey} extra`, s.apiKey];
      const callers = [
        { ...anonymous, headers: {}, hint: missing },
        { ...wrong, headers: {}, hint: "the API key is not valid" },
        ...malformed.map((authorization) => ({ ...anonymous, headers: { authorization }, hint: missing })),
      ];
      const before = await uploadCount();
      for (const { u, d, headers, hint } of callers) {
        for (const call of Object.values(calls)) await expectCode(call(u, d, { headers }), Code.Unauthenticated, hint);
      }
      expect(await uploadCount()).toBe(before);
      expect((await uploads.getUpload({ uploadId: spare.uploadId })).upload?.state).toBe(UploadState.COMPLETE);

      const health = createClient(Health, s.transports.grpc);
      for (const service of ["", "traintrack.v1.DatasetService", "traintrack.v1.UploadService"]) {
        expect((await health.check({ service })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      }
    });

    it("page sizes outside 0..1000 and download offsets that are negative or past the end are INVALID_ARGUMENT", async () => {
      const stored = await uploadBytes(unique("offsets"));
      const name = unique("offsets");
      await datasets.createDataset({ name, version: "1", artefacts: [{ uploadId: stored.uploadId, path: "data.txt" }] });
      for (const pageSize of [-1, 1001]) {
        await expectCode(datasets.listDatasets({ pageSize }), Code.InvalidArgument, "page_size must be between 0 and 1000");
        await expectCode(datasets.listDatasetVersions({ name, pageSize }), Code.InvalidArgument, "page_size must be between 0 and 1000");
      }
      const dataset = { name, version: "1" };
      const size = stored.bytesReceived;
      const download = (offset: bigint) => datasets.downloadArtefact({ dataset, path: "data.txt", offset });
      await expectCode(drain(download(-1n)), Code.InvalidArgument, "offset must not be negative");
      await expectCode(drain(download(size + 1n)), Code.InvalidArgument, `offset ${size + 1n} is past the end of "data.txt" (${size} bytes)`);
      // The boundary is valid: the description, then no bytes.
      const tail: (string | undefined)[] = [];
      for await (const m of download(size)) tail.push(m.payload.case);
      expect(tail).toEqual(["artefact"]);
    });
  });
});
