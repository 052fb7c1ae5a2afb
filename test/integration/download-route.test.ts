/**
 * The web UI's download links, GET /api/v1/datasets/<name>/versions/<v>/
 * artefacts/<path>, /api/v1/runs/<id>/artefacts/<path> and
 * /api/v1/models/<name>/versions/<n>/files/<path>, on both backends: the whole file with its name, length and hash; single byte
 * ranges; the session cookie or a Bearer key; refused exactly where
 * DownloadArtefact is refused; no URL reaching outside the artefacts it names.
 */
import http from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { bytesOf, download, sha256, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path exactly as given (fetch would resolve "..", as a browser does, before sending). */
function request(baseUrl: string, rawPath: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: rawPath, method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function signIn(baseUrl: string, apiKey: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiKey }) });
  expect(res.status).toBe(200);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  expect(cookie).toMatch(/^tt_session=./);
  return cookie;
}

describe.each(backends())("download links on $name", (backend) => {
  let server: TestServer;
  const name = `dl-${uniqueSuffix()}`;
  const csv = Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i},row ${i},${(i * 7) % 13}\n`).join(""));
  const bin = bytesOf(300_000, 31);
  const emptyFile = Buffer.alloc(0);
  let cookie = "";
  let viewerKey = "";
  const runs: Record<"alpha" | "beta", string> = { alpha: "", beta: "" };
  const models: Record<"alpha" | "beta", string> = { alpha: "", beta: "" };
  const url = (path: string, version = "1.0") => `/api/v1/datasets/${name}/versions/${version}/artefacts/${path}`;

  beforeAll(async () => {
    if (!backend.available) return;
    server = await startTestServer(backend.name);
    const uploads = server.client(UploadService);
    const files = [
      { path: "train/data.csv", data: csv },
      { path: "weights.bin", data: bin },
      { path: "empty.txt", data: emptyFile },
      { path: "dir/naïve name;1.txt", data: Buffer.from("hello\n") },
    ];
    const artefacts = [];
    for (const f of files) artefacts.push({ uploadId: (await upload(uploads, "f", f.data)).uploadId, path: f.path });
    await server.client(DatasetService).createDataset({ name, version: "1.0", artefacts });

    const experiments = server.client(ExperimentService);
    for (const project of ["alpha", "beta"] as const) {
      await server.client(ProjectService).createProject({ name: project });
      await experiments.createExperiment({ project, name: "e" });
      const runId = (await experiments.createRun({ project, experiment: "e", name: "r" })).run?.runId ?? "";
      const file = await upload(uploads, "model.bin", bytesOf(1000, project === "alpha" ? 1 : 2));
      await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: file.uploadId, path: "model/model.bin" }] });
      runs[project] = runId;
      models[project] = `m-${project}-${uniqueSuffix()}`;
      await server.client(ModelService).createModelVersion({ model: models[project], createModel: true, project, source: { case: "runArtefacts", value: { runId, pathPrefix: "" } } });
      await server.client(ModelService).setModelAlias({ model: models[project], alias: "champion", version: 1n });
    }
    // A user whose only role is viewer on project alpha.
    const userId = (await server.client(UserService).createUser({ userName: `pv-${uniqueSuffix()}` })).user?.id ?? "";
    await server.client(AccessService).grantRole({ role: Role.VIEWER, userId, project: "alpha" });
    viewerKey = (await server.client(ApiKeyService).createApiKey({ name: "pv", userId })).secret;
    cookie = await signIn(server.baseUrl, server.apiKey);
  });

  afterAll(async () => {
    await server?.close();
  });

  it.skipIf(!backend.available)("sends the whole artefact as a named file, with its length and hash, to a session or a key", async () => {
    for (const auth of [{ cookie }, { authorization: `Bearer ${server.apiKey}` }] as Record<string, string>[]) {
      const res = await request(server.baseUrl, url("train/data.csv"), auth);
      expect(res.status).toBe(200);
      expect(res.body.equals(csv)).toBe(true);
      expect(res.headers["content-length"]).toBe(String(csv.length));
      expect(res.headers["content-disposition"]).toBe(`attachment; filename="data.csv"; filename*=UTF-8''data.csv`);
      expect(res.headers.etag).toBe(`"${sha256(csv)}"`);
      expect(res.headers["accept-ranges"]).toBe("bytes");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
    }
    const big = await request(server.baseUrl, url("weights.bin"), { cookie });
    expect(big.body.equals(bin)).toBe(true);
    const empty = await request(server.baseUrl, url("empty.txt"), { cookie });
    expect([empty.status, empty.body.length, empty.headers["content-length"]]).toEqual([200, 0, "0"]);
    // Names with non-ASCII characters and separators: percent-encoded in the URL and in filename*.
    const odd = await request(server.baseUrl, url(`dir/${encodeURIComponent("naïve name;1.txt")}`), { cookie });
    expect(odd.body.toString()).toBe("hello\n");
    expect(odd.headers["content-disposition"]).toBe(`attachment; filename="na_ve name_1.txt"; filename*=UTF-8''na%C3%AFve%20name%3B1.txt`);
    const head = await request(server.baseUrl, url("weights.bin"), { cookie }, "HEAD");
    expect([head.status, head.headers["content-length"], head.body.length]).toEqual([200, String(bin.length), 0]);
  });

  it.skipIf(!backend.available)("shows another organisation none of our files, by key or by session: 404 as if they did not exist", async () => {
    const theirKey = await server.newOrganization();
    const theirCookie = await signIn(server.baseUrl, theirKey);
    const ours = [url("train/data.csv"), `/api/v1/runs/${runs.alpha}/artefacts/model/model.bin`, `/api/v1/models/${models.alpha}/versions/1/files/model/model.bin`];
    for (const path of ours) {
      expect([path, (await request(server.baseUrl, path, { cookie })).status]).toEqual([path, 200]);
      for (const auth of [{ authorization: `Bearer ${theirKey}` }, { cookie: theirCookie }] as Record<string, string>[]) {
        const res = await request(server.baseUrl, path, auth);
        expect([path, res.status]).toEqual([path, 404]);
        expect(res.body.toString()).not.toContain("row 1");
      }
    }
  });

  it.skipIf(!backend.available)("sends byte ranges, and 304 for bytes the client holds", async () => {
    const part = await request(server.baseUrl, url("weights.bin"), { cookie, range: "bytes=100000-165535" });
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe(`bytes 100000-165535/${bin.length}`);
    expect(part.body.equals(bin.subarray(100000, 165536))).toBe(true);
    const tail = await request(server.baseUrl, url("weights.bin"), { cookie, range: "bytes=-8" });
    expect([tail.status, tail.body.equals(bin.subarray(bin.length - 8))]).toEqual([206, true]);
    const open = await request(server.baseUrl, url("weights.bin"), { cookie, range: `bytes=${bin.length - 3}-` });
    expect(open.body.equals(bin.subarray(bin.length - 3))).toBe(true);
    const past = await request(server.baseUrl, url("weights.bin"), { cookie, range: `bytes=${bin.length}-` });
    expect([past.status, past.headers["content-range"]]).toEqual([416, `bytes */${bin.length}`]);
    // If-Range naming other bytes: the whole file.
    const stale = await request(server.baseUrl, url("weights.bin"), { cookie, range: "bytes=0-9", "if-range": '"0000"' });
    expect([stale.status, stale.body.length]).toEqual([200, bin.length]);
    const held = await request(server.baseUrl, url("weights.bin"), { cookie, "if-none-match": `"${sha256(bin)}"` });
    expect([held.status, held.body.length]).toEqual([304, 0]);
  });

  it.skipIf(!backend.available)("answers 404 for what does not exist and 401 without a session or key", async () => {
    const unknown = [
      url("nope.csv"),
      url("train/data.csv", "9.9"),
      `/api/v1/datasets/nope-${uniqueSuffix()}/versions/1/artefacts/a`,
      `/api/v1/runs/run_nope/artefacts/a`,
      `/api/v1/runs/${runs.alpha}/artefacts/nope.bin`,
      `/api/v1/models/${models.alpha}/versions/9/files/model/model.bin`,
      `/api/v1/models/${models.alpha}/aliases/nope/files/model/model.bin`,
      `/api/v1/models/${models.alpha}/versions/1/files/nope.bin`,
    ];
    for (const path of unknown) {
      const res = await request(server.baseUrl, path, { cookie });
      expect([path, res.status]).toEqual([path, 404]);
      expect(JSON.parse(res.body.toString()).error).toBeTruthy();
    }
    expect((await request(server.baseUrl, `/api/v1/datasets/${name}/versions/1.0/nothing`, { cookie })).status).toBe(404);
    const none = await request(server.baseUrl, url("train/data.csv"));
    expect([none.status, none.headers["www-authenticate"]]).toEqual([401, 'Bearer realm="traintrack"']);
    expect((await request(server.baseUrl, url("train/data.csv"), { cookie: "tt_session=forged" })).status).toBe(401);
    expect((await request(server.baseUrl, url("train/data.csv"), { authorization: "Bearer tt_wrong" })).status).toBe(401);
    // A Bearer header wins over the cookie: a bad key is not rescued by a good session.
    expect((await request(server.baseUrl, url("train/data.csv"), { cookie, authorization: "Bearer tt_wrong" })).status).toBe(401);
    expect((await request(server.baseUrl, url("train/data.csv"), { cookie }, "POST")).status).toBe(405);
  });

  it.skipIf(!backend.available)("refuses a project-only viewer a dataset, as DownloadArtefact does, and serves its project's run artefacts and model files only", async () => {
    const rpc = await server
      .client(DatasetService, "grpc", viewerKey)
      .downloadArtefact({ dataset: { name, version: "1.0" }, path: "train/data.csv" })
      [Symbol.asyncIterator]()
      .next()
      .then(() => "allowed", (e: unknown) => ConnectError.from(e).code);
    expect(rpc).toBe(Code.PermissionDenied);
    const viewerCookie = await signIn(server.baseUrl, viewerKey);
    for (const auth of [{ cookie: viewerCookie }, { authorization: `Bearer ${viewerKey}` }] as Record<string, string>[]) {
      expect((await request(server.baseUrl, url("train/data.csv"), auth)).status).toBe(403);
      const own = await request(server.baseUrl, `/api/v1/runs/${runs.alpha}/artefacts/model/model.bin`, auth);
      expect([own.status, own.body.equals(bytesOf(1000, 1))]).toEqual([200, true]);
      expect((await request(server.baseUrl, `/api/v1/runs/${runs.beta}/artefacts/model/model.bin`, auth)).status).toBe(403);
      // Model files, by version number or alias, as DownloadModelFile: the model's project decides.
      for (const by of ["versions/1", "aliases/champion"]) {
        const file = await request(server.baseUrl, `/api/v1/models/${models.alpha}/${by}/files/model/model.bin`, auth);
        expect([by, file.status, file.body.equals(bytesOf(1000, 1))]).toEqual([by, 200, true]);
        expect((await request(server.baseUrl, `/api/v1/models/${models.beta}/${by}/files/model/model.bin`, auth)).status).toBe(403);
      }
    }
  });

  it.skipIf(!backend.available)("lets no path reach outside the artefacts it names", async () => {
    const attempts = [
      url("../../versions/1.0/artefacts/train/data.csv"),
      url("train/../train/data.csv"),
      url("train/./data.csv"),
      url("%2e%2e/%2e%2e/versions/1.0/artefacts/train/data.csv"),
      url("train%2f..%2ftrain%2fdata.csv"),
      url("..%5ctrain%5cdata.csv"),
      url("train//data.csv"),
      url("train/data.csv%00.txt"),
      url("%2fetc%2fpasswd"),
      url("%E0%A4%A"),
      `/api/v1/datasets/..%2f${name}/versions/1.0/artefacts/train/data.csv`,
      `/api/v1/runs/..%2f${runs.alpha}/artefacts/model/model.bin`,
      `/api/v1/models/${models.alpha}/versions/one/files/model/model.bin`,
      `/api/v1/models/${models.alpha}/versions/1/files/model/../../../2/files/model/model.bin`,
    ];
    for (const path of attempts) {
      const res = await request(server.baseUrl, path, { cookie });
      expect([path, res.status]).toEqual([path, 400]);
    }
    // Encoded but harmless: one file's name with its slash encoded is the same file.
    const same = await request(server.baseUrl, url("train%2Fdata.csv"), { cookie });
    expect(same.body.equals(csv)).toBe(true);
    // The RPC and the link hand out the same bytes.
    expect((await download(server.client(DatasetService), name, "1.0", "weights.bin")).sha256).toBe(sha256(bin));
  });
});
