/**
 * What users rely on from run artefacts, on both backends: uploads become a
 * run's artefacts all or none, a path keeps one content (so retries are
 * safe), downloads return the bytes uploaded, the janitor never reclaims
 * them, and another organisation sees none of it.
 */
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExperimentService, RunStatus } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, sha256, upload, uploadMessages } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

type RunArtefacts = Client<typeof RunArtefactService>;

async function expectCode(call: Promise<unknown>, code: Code, hint: string | RegExp): Promise<void> {
  const error = await call.then(() => undefined, (e: unknown) => ConnectError.from(e));
  if (!error) throw new Error(`expected ${Code[code]}, but the call succeeded`);
  expect(Code[error.code], error.rawMessage).toBe(Code[code]);
  expect(error.rawMessage).toMatch(hint);
}

/** A run artefact's description and bytes, downloaded whole from `offset`. */
async function download(client: RunArtefacts, runId: string, path: string, offset = 0n) {
  const parts: Buffer[] = [];
  let description: { sha256: string; size: bigint } | undefined;
  for await (const message of client.downloadRunArtefact({ runId, path, offset })) {
    if (message.payload.case === "artefact") description = message.payload.value;
    else if (message.payload.case === "chunk") parts.push(Buffer.from(message.payload.value));
  }
  return { sha256: description?.sha256, size: description?.size, bytes: Buffer.concat(parts) };
}

/** Every artefact path of a run, read page by page. */
async function allPaths(client: RunArtefacts, runId: string, pageSize = 0, pathPrefix = ""): Promise<string[]> {
  const paths: string[] = [];
  let pageToken = "";
  do {
    const page = await client.listRunArtefacts({ runId, pathPrefix, pageSize, pageToken });
    paths.push(...page.artefacts.map((a) => a.path));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return paths;
}

describe.each(backends())("run artefacts on $name", (backend) => {
  let server: TestServer;
  let counter = 0;
  const artefacts = (key?: string) => server.client(RunArtefactService, "grpc", key);
  const uploads = (key?: string) => server.client(UploadService, "grpc", key);
  const newRun = async (key?: string) =>
    (await server.client(ExperimentService, "grpc", key).createRun({ project: `p${++counter}`, experiment: "e" })).run?.runId ?? "";

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    // Uploads over 1 MiB are staged in segments and composed at commit; smaller ones go straight to their blob.
    it("commits uploads to a run and streams them back, large and small, from any offset", async () => {
      const runId = await newRun();
      const model = bytesOf(3 * 1024 * 1024 + 123, 1);
      const plot = Buffer.from("<svg/>");
      const [m, p] = [await upload(uploads(), "weights.bin", model), await upload(uploads(), "loss.svg", plot)];
      const res = await artefacts().logRunArtefacts({
        runId,
        artefacts: [
          { uploadId: m.uploadId, path: "model/weights.bin" },
          { uploadId: p.uploadId }, // no path: the upload's file name
        ],
      });
      expect(res.added).toBe(2);
      expect(res.artefacts.map((a) => [a.path, a.size, a.sha256])).toEqual([
        ["model/weights.bin", BigInt(model.length), sha256(model)],
        ["loss.svg", BigInt(plot.length), sha256(plot)],
      ]);
      expect(await allPaths(artefacts(), runId)).toEqual(["loss.svg", "model/weights.bin"]);

      const whole = await download(artefacts(), runId, "model/weights.bin");
      expect(whole.sha256).toBe(sha256(model));
      expect(whole.bytes.equals(model)).toBe(true);
      const tail = await download(artefacts(), runId, "model/weights.bin", 2_000_000n);
      expect(tail.bytes.equals(model.subarray(2_000_000))).toBe(true);
      expect((await download(artefacts(), runId, "loss.svg")).bytes.toString()).toBe("<svg/>");
      expect((await download(artefacts(), runId, "loss.svg", BigInt(plot.length))).bytes.length).toBe(0);
      await expectCode(download(artefacts(), runId, "loss.svg", 7n), Code.InvalidArgument, /offset 7 is past the end/);
      await expectCode(download(artefacts(), runId, "nope.bin"), Code.NotFound, `run "${runId}" has no artefact "nope.bin"`);

      // Over Connect JSON on HTTP/1.1 too, as curl would.
      const overH1 = server.client(RunArtefactService, "connectH1");
      expect((await overH1.listRunArtefacts({ runId, pathPrefix: "model/" })).artefacts.map((a) => a.path)).toEqual(["model/weights.bin"]);
    });

    it("a retry is a no-op; a path keeps one content for the life of the run", async () => {
      const runId = await newRun();
      const first = await upload(uploads(), "ckpt.pt", Buffer.from("epoch 1"));
      const request = { runId, artefacts: [{ uploadId: first.uploadId, path: "ckpt/latest.pt" }] };
      expect((await artefacts().logRunArtefacts(request)).added).toBe(1);
      const retried = await artefacts().logRunArtefacts(request);
      expect(retried.added).toBe(0);
      expect(retried.artefacts[0]?.sha256).toBe(sha256(Buffer.from("epoch 1")));

      // The same bytes uploaded again under the same path: nothing to do.
      const same = await upload(uploads(), "ckpt.pt", Buffer.from("epoch 1"));
      expect((await artefacts().logRunArtefacts({ runId, artefacts: [{ uploadId: same.uploadId, path: "ckpt/latest.pt" }] })).added).toBe(0);

      // Other bytes under that path are refused, and nothing of the call is kept.
      const other = await upload(uploads(), "ckpt.pt", Buffer.from("epoch 2"));
      const extra = await upload(uploads(), "notes.txt", Buffer.from("n"));
      await expectCode(
        artefacts().logRunArtefacts({
          runId,
          artefacts: [
            { uploadId: extra.uploadId, path: "notes.txt" },
            { uploadId: other.uploadId, path: "ckpt/latest.pt" },
          ],
        }),
        Code.AlreadyExists,
        /already has an artefact "ckpt\/latest.pt" with other content.*another path/,
      );
      expect(await allPaths(artefacts(), runId)).toEqual(["ckpt/latest.pt"]);
      expect((await download(artefacts(), runId, "ckpt/latest.pt")).bytes.toString()).toBe("epoch 1");
      // The refused uploads are still usable elsewhere.
      const kept = await artefacts().logRunArtefacts({
        runId,
        artefacts: [
          { uploadId: other.uploadId, path: "ckpt/epoch-2.pt" },
          { uploadId: extra.uploadId, path: "notes.txt" },
        ],
      });
      expect(kept.added).toBe(2);
    });

    it("concurrent identical calls both succeed and the run holds each artefact once", async () => {
      const runId = await newRun();
      const files = await Promise.all([0, 1, 2].map((i) => upload(uploads(), `f${i}.bin`, bytesOf(1000 + i, i))));
      const request = { runId, artefacts: files.map((f) => ({ uploadId: f.uploadId })) };
      const results = await Promise.all([artefacts().logRunArtefacts(request), artefacts().logRunArtefacts(request)]);
      expect(results.map((r) => r.artefacts.map((a) => a.path))).toEqual([
        ["f0.bin", "f1.bin", "f2.bin"],
        ["f0.bin", "f1.bin", "f2.bin"],
      ]);
      expect(results.reduce((sum, r) => sum + r.added, 0)).toBe(3);
      expect(await allPaths(artefacts(), runId)).toEqual(["f0.bin", "f1.bin", "f2.bin"]);
    });

    it("all or none: a bad upload in the request commits nothing", async () => {
      const runId = await newRun();
      const good = await upload(uploads(), "good.bin", Buffer.from("good"));
      const inProgress = (await uploads().createUpload({ upload: { fileName: "big.bin", size: 10n, mediaType: "application/octet-stream" } })).upload
        ?.uploadId;
      const log = (list: { uploadId: string; path?: string }[]) => artefacts().logRunArtefacts({ runId, artefacts: list });
      await expectCode(log([{ uploadId: good.uploadId }, { uploadId: inProgress ?? "" }]), Code.FailedPrecondition, "finish its Upload stream before LogRunArtefacts");
      await expectCode(log([{ uploadId: good.uploadId }, { uploadId: "up_doesnotexist000000000000" }]), Code.NotFound, "not found");
      await expectCode(log([{ uploadId: good.uploadId }, { uploadId: good.uploadId, path: "x" }]), Code.InvalidArgument, "named twice");
      await expectCode(log([]), Code.InvalidArgument, "name at least one upload");
      await expectCode(log([{ uploadId: good.uploadId, path: "../up.bin" }]), Code.InvalidArgument, /artefacts\[0\]\.path/);
      await expectCode(log([{ uploadId: good.uploadId, path: "/abs" }]), Code.InvalidArgument, "is absolute");
      await expectCode(
        artefacts().logRunArtefacts({ runId: "run_doesnotexist0000000000", artefacts: [{ uploadId: good.uploadId }] }),
        Code.NotFound,
        'run "run_doesnotexist0000000000" not found',
      );
      await expectCode(artefacts().listRunArtefacts({ runId, pageToken: "garbage" }), Code.InvalidArgument, "page_token");
      expect(await allPaths(artefacts(), runId)).toEqual([]);
      // The good upload was left complete: it commits on its own.
      expect((await log([{ uploadId: good.uploadId }])).added).toBe(1);
    });

    it("an ended run still takes artefacts; pages and prefixes list them by path", async () => {
      const runId = await newRun();
      await server.client(ExperimentService).updateRunStatus({ runId, status: RunStatus.FINISHED });
      const files = await Promise.all(Array.from({ length: 7 }, (_, i) => upload(uploads(), `e${i}.txt`, Buffer.from(`epoch ${i}`))));
      await artefacts().logRunArtefacts({ runId, artefacts: files.map((f, i) => ({ uploadId: f.uploadId, path: `${i % 2 ? "plots" : "ckpt"}/${f.uploadId}` })) });
      const paths = await allPaths(artefacts(), runId, 2);
      expect(paths).toHaveLength(7);
      expect(paths).toEqual([...paths].sort());
      expect(await allPaths(artefacts(), runId, 2, "plots/")).toEqual(paths.filter((p) => p.startsWith("plots/")));
    });

    it("the janitor never reclaims a run's artefacts", async () => {
      const runId = await newRun();
      const big = bytesOf(2 * 1024 * 1024 + 5, 9);
      const small = Buffer.from("tiny");
      const [b, s] = [await upload(uploads(), "big.bin", big), await upload(uploads(), "small.txt", small)];
      await artefacts().logRunArtefacts({ runId, artefacts: [{ uploadId: b.uploadId }, { uploadId: s.uploadId }] });
      await server.app.janitor.runOnce(new Date(Date.now() + 30 * 24 * 3600 * 1000));
      expect((await download(artefacts(), runId, "big.bin")).bytes.equals(big)).toBe(true);
      expect((await download(artefacts(), runId, "small.txt")).bytes.equals(small)).toBe(true);
    });

    it("another organisation sees none of a run's artefacts and cannot use its uploads", async () => {
      const runId = await newRun();
      const mine = await upload(uploads(), "secret.bin", Buffer.from("secret"));
      await artefacts().logRunArtefacts({ runId, artefacts: [{ uploadId: mine.uploadId }] });
      const otherKey = await server.newOrganization(`other-${++counter}`);
      const notFound = `run "${runId}" not found`;
      await expectCode(artefacts(otherKey).listRunArtefacts({ runId }), Code.NotFound, notFound);
      await expectCode(download(artefacts(otherKey), runId, "secret.bin"), Code.NotFound, notFound);
      const theirs = await upload(uploads(otherKey), "x.bin", Buffer.from("x"));
      await expectCode(artefacts(otherKey).logRunArtefacts({ runId, artefacts: [{ uploadId: theirs.uploadId }] }), Code.NotFound, notFound);
      const theirRun = await newRun(otherKey);
      await expectCode(
        artefacts(otherKey).logRunArtefacts({ runId: theirRun, artefacts: [{ uploadId: mine.uploadId }] }),
        Code.NotFound,
        `upload "${mine.uploadId}" not found`,
      );
      await expectCode(server.client(RunArtefactService, "grpc", "tt_wrong").listRunArtefacts({ runId }), Code.Unauthenticated, /key/i);
    });

    it("an upload streamed into a run's artefacts without a declared size commits like any other", async () => {
      const runId = await newRun();
      const data = bytesOf(1536 * 1024, 4);
      const res = await uploads().upload(uploadMessages("undeclared.bin", data, { declareSize: false, chunkBytes: 256 * 1024 }));
      await artefacts().logRunArtefacts({ runId, artefacts: [{ uploadId: res.upload?.uploadId ?? "" }] });
      expect((await download(artefacts(), runId, "undeclared.bin")).sha256).toBe(sha256(data));
    });
  });
});
