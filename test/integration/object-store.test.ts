import { createHash } from "node:crypto";
import http from "node:http";
import { appendFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalFsStore } from "../../src/storage/local-fs.js";
import { ObjectNotFoundError, PartsMismatchError } from "../../src/storage/object-store.js";
import type { CompletedPart, ObjectStore, PartsTarget } from "../../src/storage/object-store.js";
import { createS3Store } from "../../src/storage/s3.js";
import { StreamingClient } from "../../src/storage/s3-streaming.js";
import { s3Service, uniqueSuffix } from "../support/services.js";

// One conformance suite (lakeFS blocktest style): every provider must pass it unchanged.

const MiB = 1024 * 1024;

interface Fixture {
  store: ObjectStore;
  /** Names of leftovers a provider may keep outside list() and listStarted(), e.g. local temp files. */
  strays(): Promise<string[]>;
  cleanup(): Promise<void>;
}

async function localFixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), "tt-store-"));
  return {
    store: createLocalFsStore({ root }),
    // The directory of partial files stays; a partial left in it is a stray once its object is completed or aborted.
    strays: async () => (await readdir(root, { recursive: true })).filter((f) => f.includes(".tmp-") && f !== ".tmp-parts"),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

const s3 = s3Service();
const s3Fixture = s3 && (async (): Promise<Fixture> => {
  // A small part size makes the 7 and 12 MiB objects exercise multipart upload.
  const store = await createS3Store({ ...s3, bucket: `tt-test-${uniqueSuffix()}`, partSize: 5 * MiB });
  return {
    store,
    strays: async () => [],
    // Empties the bucket through the store; the empty bucket dies with the test MinIO.
    cleanup: async () => store.delete((await collect(store.list(""))).map((o) => o.key)),
  };
});

/** Deterministic pseudo-random bytes, produced in 64 KiB chunks so large objects never sit in memory. */
function* pattern(size: number, seed: number): Generator<Buffer> {
  let state = seed >>> 0 || 1;
  for (let done = 0; done < size; ) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, size - done));
    for (let i = 0; i < chunk.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      chunk[i] = state >>> 24;
    }
    done += chunk.length;
    yield chunk;
  }
}

const bodyOf = (size: number, seed: number) => Readable.from(pattern(size, seed));

function sha256Of(...parts: [size: number, seed: number][]): string {
  const hash = createHash("sha256");
  for (const [size, seed] of parts) for (const chunk of pattern(size, seed)) hash.update(chunk);
  return hash.digest("hex");
}

async function sha256Stream(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const text = (s: string) => Readable.from([Buffer.from(s)]);

const providers = [
  { name: "local-fs", create: localFixture },
  { name: "s3 (MinIO)", create: s3Fixture },
];

describe.each(providers)("ObjectStore conformance: $name", { timeout: 60_000 }, ({ create }) => {
  // Without a MinIO (outside CI) the S3 tests are reported as skipped, not silently absent.
  const test = create ? it : it.skip;
  let fx: Fixture;
  let store: ObjectStore;
  beforeAll(async () => {
    if (!create) return;
    fx = await create();
    store = fx.store;
  }, 60_000);
  afterAll(async () => fx?.cleanup());

  test("put then get returns the same bytes, including an empty object", async () => {
    await store.put("rt/small", text("hello, object"), 13);
    expect(await readAll(await store.get("rt/small"))).toBe("hello, object");
    await store.put("rt/empty", text(""), 0);
    expect(await readAll(await store.get("rt/empty"))).toBe("");
    expect((await store.stat("rt/empty"))?.size).toBe(0);
  });

  test("a 12 MiB streamed object round-trips byte for byte", async () => {
    await store.put("rt/big", bodyOf(12 * MiB + 3, 1), 12 * MiB + 3);
    expect(await sha256Stream(await store.get("rt/big"))).toBe(sha256Of([12 * MiB + 3, 1]));
    expect(await store.stat("rt/big")).toMatchObject({ key: "rt/big", size: 12 * MiB + 3 });
  });

  test("put without a declared size stores the whole body", async () => {
    await store.put("rt/unsized", bodyOf(7 * MiB, 2));
    expect(await sha256Stream(await store.get("rt/unsized"))).toBe(sha256Of([7 * MiB, 2]));
  });

  test("get from an offset streams the tail; an offset at the end streams nothing", async () => {
    await store.put("off/a", text("0123456789"), 10);
    expect(await readAll(await store.get("off/a", 4))).toBe("456789");
    expect(await readAll(await store.get("off/a", 10))).toBe("");
    await expect(store.get("off/a", -1)).rejects.toThrow(RangeError);
  });

  test("put with a wrong declared size fails and stores nothing", async () => {
    await expect(store.put("size/short", text("12345"), 6)).rejects.toThrow(/declared/);
    await expect(store.put("size/long", text("1234567"), 6)).rejects.toThrow(/declared/);
    await expect(store.put("size/big", bodyOf(11 * MiB, 3), 12 * MiB)).rejects.toThrow(/declared/);
    expect(await store.stat("size/short")).toBeUndefined();
    expect(await store.stat("size/long")).toBeUndefined();
    expect(await store.stat("size/big")).toBeUndefined();
    expect(await collect(store.list("size/"))).toEqual([]);
    expect(await fx.strays()).toEqual([]);
  });

  test("a failed put leaves the previous object intact", async () => {
    await store.put("size/kept", text("old"), 3);
    await expect(store.put("size/kept", text("newer"), 4)).rejects.toThrow(/declared/);
    expect(await readAll(await store.get("size/kept"))).toBe("old");
  });

  test("a body that errors mid-stream fails the put and stores nothing", async () => {
    async function* broken() {
      yield* pattern(6 * MiB, 4);
      throw new Error("client went away");
    }
    await expect(store.put("size/broken", Readable.from(broken()), 12 * MiB)).rejects.toThrow("client went away");
    expect(await store.stat("size/broken")).toBeUndefined();
  });

  test("put replaces an existing object", async () => {
    await store.put("replace/a", text("first version"), 13);
    await store.put("replace/a", text("second"), 6);
    expect(await readAll(await store.get("replace/a"))).toBe("second");
    expect((await store.stat("replace/a"))?.size).toBe(6);
  });

  test("stat of a missing object is undefined; of a present one, its size and time", async () => {
    expect(await store.stat("missing/nothing-here")).toBeUndefined();
    const before = Date.now();
    await store.put("stat/a", text("abc"), 3);
    const info = await store.stat("stat/a");
    expect(info).toMatchObject({ key: "stat/a", size: 3 });
    // Second-granular servers may round down; a day of slack still catches a wrong field.
    expect(Math.abs((info?.lastModified.getTime() ?? 0) - before)).toBeLessThan(86_400_000);
  });

  test("get of a missing object throws ObjectNotFoundError", async () => {
    await expect(store.get("missing/nope")).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.get("missing/nope", 5)).rejects.toMatchObject({ key: "missing/nope" });
  });

  const target = async (key: string): Promise<PartsTarget> => ({ key, handle: await store.startParts(key) });

  test("three parts (6 MiB, 6 MiB, 1 KiB) complete into their concatenation, invisible until then", async () => {
    const t = await target("parts/all");
    const sizes: [number, number][] = [[6 * MiB, 5], [6 * MiB, 6], [1024, 7]];
    const done: CompletedPart[] = [];
    let offset = 0;
    for (const [i, [size, seed]] of sizes.entries()) {
      const etag = await store.putPart(t, { partNumber: i + 1, offset, size, writer: "w1" }, bodyOf(size, seed));
      done.push({ partNumber: i + 1, etag });
      offset += size;
    }
    expect(await store.stat("parts/all")).toBeUndefined();
    expect(await collect(store.list("parts/"))).toEqual([]);
    await store.completeParts(t, done, offset);
    expect(await sha256Stream(await store.get("parts/all"))).toBe(sha256Of(...sizes));
    expect((await store.stat("parts/all"))?.size).toBe(12 * MiB + 1024);
    expect(await fx.strays()).toEqual([]);
  });

  test("a part stored again replaces the first; completing twice is idempotent", async () => {
    const t = await target("parts/again");
    const first = await store.putPart(t, { partNumber: 1, offset: 0, size: 9, writer: "w1" }, text("first try"));
    const second = await store.putPart(t, { partNumber: 1, offset: 0, size: 6, writer: "w1" }, text("second"));
    expect(second).not.toBe(first);
    await store.completeParts(t, [{ partNumber: 1, etag: second }], 6);
    await store.completeParts(t, [{ partNumber: 1, etag: second }], 6); // a retry whose first answer was lost
    expect(await readAll(await store.get("parts/again"))).toBe("second");
    await expect(store.putPart(t, { partNumber: 2, offset: 6, writer: "w1" }, text("late"))).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await readAll(await store.get("parts/again"))).toBe("second");
  });

  test("an object without parts completes empty", async () => {
    const t = await target("parts/empty");
    await store.completeParts(t, [], 0);
    await store.completeParts(t, [], 0);
    expect((await store.stat("parts/empty"))?.size).toBe(0);
    expect(await collect(store.listStarted("parts/empty"))).toEqual([]);
  });

  test("after an abort, putPart and completeParts throw ObjectNotFoundError and nothing is at the key", async () => {
    const t = await target("parts/aborted");
    const etag = await store.putPart(t, { partNumber: 1, offset: 0, size: 5, writer: "w1" }, text("bytes"));
    await store.abortParts(t);
    await store.abortParts(t); // already gone: not an error
    await expect(store.putPart(t, { partNumber: 2, offset: 5, size: 4, writer: "w1" }, text("more"))).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.completeParts(t, [{ partNumber: 1, etag }], 5)).rejects.toMatchObject({ name: "ObjectNotFoundError", key: "parts/aborted" });
    expect(await store.stat("parts/aborted")).toBeUndefined();
    expect(await fx.strays()).toEqual([]);
  });

  test("putPart to a handle that was never started throws ObjectNotFoundError", async () => {
    const t = { key: "parts/never", handle: "0123456789abcdef" };
    await expect(store.putPart(t, { partNumber: 1, offset: 0, size: 1, writer: "w1" }, text("x"))).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.completeParts(t, [], 0)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await store.abortParts(t);
    expect(await store.stat("parts/never")).toBeUndefined();
  });

  test("listStarted shows a started object until it is completed or aborted", async () => {
    const a = await target("started/x/a");
    const b = await target("started/x/b");
    const other = await target("started-elsewhere/c");
    const listed = async (prefix: string) =>
      (await collect(store.listStarted(prefix))).map((s) => ({ key: s.key, handle: s.handle })).sort((p, q) => p.key.localeCompare(q.key));
    expect(await listed("started/")).toEqual([a, b]);
    expect(await listed("started/x/b")).toEqual([b]);
    const [info] = await collect(store.listStarted("started/x/a"));
    expect(info?.startedAt).toBeInstanceOf(Date);
    const etag = await store.putPart(a, { partNumber: 1, offset: 0, size: 3, writer: "w1" }, text("abc"));
    await store.completeParts(a, [{ partNumber: 1, etag }], 3);
    await store.abortParts(b);
    expect(await listed("started/")).toEqual([]);
    expect(await listed("started-elsewhere/")).toEqual([other]);
    await store.abortParts(other);
    expect(await listed("")).toEqual([]);
  });

  test("a part whose body does not match its declared size stores nothing", async () => {
    const t = await target("parts/sized");
    const etag = await store.putPart(t, { partNumber: 1, offset: 0, size: 6 * MiB, writer: "w1" }, bodyOf(6 * MiB, 9));
    const short = store.putPart(t, { partNumber: 2, offset: 6 * MiB, size: 1024, writer: "w1" }, text("short"));
    await expect(short).rejects.toThrow(/declared/);
    const long = store.putPart(t, { partNumber: 2, offset: 6 * MiB, size: 4, writer: "w1" }, text("longer"));
    await expect(long).rejects.toThrow(/declared/);
    // Only part 1 was stored: it alone completes the object.
    await store.completeParts(t, [{ partNumber: 1, etag }], 6 * MiB);
    expect(await sha256Stream(await store.get("parts/sized"))).toBe(sha256Of([6 * MiB, 9]));
  });

  test("delete removes several objects and ignores missing keys", async () => {
    for (const k of ["del/a", "del/b/c", "del/d"]) await store.put(k, text(k), k.length);
    await store.delete(["del/a", "del/b/c", "del/never-existed"]);
    await store.delete([]);
    expect(await store.stat("del/a")).toBeUndefined();
    expect(await store.stat("del/b/c")).toBeUndefined();
    expect((await collect(store.list("del/"))).map((o) => o.key)).toEqual(["del/d"]);
  });

  test("list returns exactly the keys under a prefix, which may end mid-name", async () => {
    const keys = ["ls/a/1", "ls/a/2/deep", "ls/ab", "ls/b/1", "lsx"];
    for (const k of keys) await store.put(k, text(k), k.length);
    const listed = async (prefix: string) => (await collect(store.list(prefix))).map((o) => o.key).sort();
    expect(await listed("ls/a/")).toEqual(["ls/a/1", "ls/a/2/deep"]);
    expect(await listed("ls/a")).toEqual(["ls/a/1", "ls/a/2/deep", "ls/ab"]);
    expect(await listed("ls/")).toEqual(["ls/a/1", "ls/a/2/deep", "ls/ab", "ls/b/1"]);
    expect(await listed("ls/zzz")).toEqual([]);
    const [info] = await collect(store.list("ls/ab"));
    expect(info).toMatchObject({ key: "ls/ab", size: 5 });
    expect(info?.lastModified).toBeInstanceOf(Date);
  });

  test("malformed keys are refused", async () => {
    for (const bad of ["", "/abs", "a//b", "../escape", "a/../b", "a/./b", "trailing/"]) {
      await expect(store.put(bad, text("x"), 1), bad).rejects.toThrow(/invalid object key/);
      await expect(store.get(bad), bad).rejects.toThrow(/invalid object key/);
    }
  });
});

describe.skipIf(!s3)("S3 store specifics", () => {
  const openS3 = (bucket: string, prefix?: string) => {
    if (!s3) throw new Error("unreachable: this suite is skipped without MinIO");
    return createS3Store({ ...s3, bucket, prefix, partSize: 5 * MiB });
  };

  it("stores with different prefixes share a bucket without seeing each other's keys", async () => {
    const bucket = `tt-test-${uniqueSuffix()}`;
    const a = await openS3(bucket, "one");
    const b = await openS3(bucket, "two/");
    await a.put("k", text("from a"), 6);
    await b.put("k", text("from b"), 6);
    expect(await readAll(await a.get("k"))).toBe("from a");
    expect((await collect(b.list(""))).map((o) => o.key)).toEqual(["k"]);
    await a.delete(["k"]);
    expect(await readAll(await b.get("k"))).toBe("from b");
    await b.delete(["k"]);
  });

  it("completing with an etag that is not the stored part's throws PartsMismatchError, leaving nothing at the key", async () => {
    const store = await openS3(`tt-test-${uniqueSuffix()}`);
    const t = { key: "mismatch", handle: await store.startParts("mismatch") };
    const etag = await store.putPart(t, { partNumber: 1, offset: 0, size: 5, writer: "w1" }, text("bytes"));
    const stale = etag.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    await expect(store.completeParts(t, [{ partNumber: 1, etag: stale }], 5)).rejects.toBeInstanceOf(PartsMismatchError);
    await expect(store.completeParts(t, [{ partNumber: 2, etag }], 5)).rejects.toBeInstanceOf(PartsMismatchError);
    expect(await store.stat("mismatch")).toBeUndefined();
    // The upload is still there: the right parts complete it.
    await store.completeParts(t, [{ partNumber: 1, etag }], 5);
    expect(await readAll(await store.get("mismatch"))).toBe("bytes");
    await store.delete(["mismatch"]);
  });
});

describe("local-fs store specifics", () => {
  let root: string;
  let store: ObjectStore;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tt-store-"));
    store = createLocalFsStore({ root });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("completing with a size the parts do not hold throws PartsMismatchError, leaving nothing at the key", async () => {
    const t = { key: "mismatch", handle: await store.startParts("mismatch") };
    const etag = await store.putPart(t, { partNumber: 1, offset: 0, size: 5, writer: "w1" }, text("bytes"));
    await expect(store.completeParts(t, [{ partNumber: 1, etag }], 6)).rejects.toBeInstanceOf(PartsMismatchError);
    expect(await store.stat("mismatch")).toBeUndefined();
    await store.completeParts(t, [{ partNumber: 1, etag }], 5);
    expect(await readAll(await store.get("mismatch"))).toBe("bytes");
  });

  it("a superseded writer's part is refused, and the object keeps the new writer's bytes", async () => {
    const t = { key: "fenced", handle: await store.startParts("fenced") };
    await store.putPart(t, { partNumber: 1, offset: 0, size: 4, writer: "old" }, text("old1"));
    const etag = await store.putPart(t, { partNumber: 2, offset: 4, size: 4, writer: "new" }, text("new2"));
    const late = store.putPart(t, { partNumber: 2, offset: 4, size: 4, writer: "old" }, text("old2"));
    await expect(late).rejects.toThrow(/superseded/);
    await store.completeParts(t, [{ partNumber: 2, etag }], 8);
    expect(await readAll(await store.get("fenced"))).toBe("old1new2");
  });

  it("a new writer's part waits for the old writer's part in flight, then replaces it", async () => {
    const t = { key: "handover", handle: await store.startParts("handover") };
    let release = () => {};
    let inFlight = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const written = new Promise<void>((r) => (inFlight = r));
    async function* slow() {
      yield Buffer.from("ol");
      inFlight(); // the store asks for more: "ol" is being written
      await gate;
      yield Buffer.from("d!");
    }
    const old = store.putPart(t, { partNumber: 1, offset: 0, size: 4, writer: "old" }, Readable.from(slow()));
    await written;
    const fresh = store.putPart(t, { partNumber: 1, offset: 0, size: 4, writer: "new" }, text("new!"));
    release();
    await old; // it was in flight when the new writer came: it finishes
    const etag = await fresh;
    await expect(store.putPart(t, { partNumber: 2, offset: 4, size: 1, writer: "old" }, text("x"))).rejects.toThrow(/superseded/);
    await store.completeParts(t, [{ partNumber: 1, etag }], 4);
    expect(await readAll(await store.get("handover"))).toBe("new!");
  });

  it("a part written at an offset drops the bytes a dead writer left past it", async () => {
    const t = { key: "resumed", handle: await store.startParts("resumed") };
    await store.putPart(t, { partNumber: 1, offset: 0, size: 4, writer: "dead" }, text("good"));
    // The dead writer's next part never finished: its body failed after some bytes were written.
    async function* cut() {
      yield Buffer.from("garbage");
      throw new Error("connection reset");
    }
    await expect(store.putPart(t, { partNumber: 2, offset: 4, size: 100, writer: "dead" }, Readable.from(cut()))).rejects.toThrow("connection reset");
    // Bytes a process killed mid-write leaves (no truncation ran): appended by hand.
    await appendFile(join(root, ".tmp-parts", `${t.handle}.resumed`), "more garbage");
    const etag = await store.putPart(t, { partNumber: 2, offset: 4, size: 4, writer: "alive" }, text("tail"));
    await store.completeParts(t, [{ partNumber: 2, etag }], 8);
    expect(await readAll(await store.get("resumed"))).toBe("goodtail");
  });

  it("a part starting past the end of the parts before it is refused", async () => {
    const t = { key: "gap", handle: await store.startParts("gap") };
    await expect(store.putPart(t, { partNumber: 2, offset: 4, size: 4, writer: "w1" }, text("late"))).rejects.toThrow(/parts before it hold 0/);
    await store.abortParts(t);
  });

  it("partial files are kept out of list() and out of every key's reach", async () => {
    const t = { key: "hidden/a", handle: await store.startParts("hidden/a") };
    expect(await collect(store.list(""))).toEqual(expect.not.arrayContaining([expect.objectContaining({ key: expect.stringContaining("tmp") })]));
    await expect(store.get(`.tmp-parts/${t.handle}.hidden%2Fa`)).rejects.toThrow(/invalid object key/);
    await store.abortParts(t);
  });

  it("a part is sent as it arrives with its CRC32 as a trailer, and MinIO refuses one damaged on the way", async () => {
    if (!s3) throw new Error("unreachable: this suite is skipped without MinIO");
    const url = new URL(s3.endpoint);
    let damage = false;
    // A transport that flips one byte of the first data it carries when asked to: what a bad link would do.
    const transport = {
      request: ((options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
        const req = http.request(options, callback);
        const write = req.write.bind(req) as (chunk: unknown, ...rest: unknown[]) => boolean;
        let flipped = false;
        req.write = ((chunk: unknown, ...rest: unknown[]) => {
          if (damage && !flipped && Buffer.isBuffer(chunk) && chunk.length > 100) {
            flipped = true;
            const bad = Buffer.from(chunk);
            bad[50] = (bad[50] ?? 0) ^ 0xff;
            return write(bad, ...rest);
          }
          return write(chunk, ...rest);
        }) as typeof req.write;
        return req;
      }) as typeof http.request,
    };
    const client = new StreamingClient({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region, transport });
    const bucket = `tt-test-${uniqueSuffix()}`;
    await client.makeBucket(bucket, s3.region);
    const uploadId = await client.initiateNewMultipartUpload(bucket, "streamed", {});
    const bytes = Buffer.concat([...pattern(3 * MiB + 17, 42)]);
    const send = () =>
      client.sendStreamed(
        { method: "PUT", bucketName: bucket, objectName: "streamed", query: `partNumber=1&uploadId=${encodeURIComponent(uploadId)}`, size: bytes.length, what: "streamed part 1" },
        s3.region ?? "us-east-1",
        Readable.from([bytes.subarray(0, MiB), bytes.subarray(MiB)]),
      );
    damage = true;
    await expect(send()).rejects.toMatchObject({ code: expect.stringMatching(/Checksum|BadDigest|XAmzContentChecksumMismatch/i) });
    damage = false;
    const res = await send();
    res.resume();
    await client.completeMultipartUpload(bucket, "streamed", uploadId, [{ part: 1, etag: String(res.headers.etag).replace(/"/g, "") }]);
    const got: Buffer[] = [];
    for await (const piece of await client.getObject(bucket, "streamed")) got.push(piece as Buffer);
    expect(Buffer.concat(got).equals(bytes)).toBe(true);
  });
});
