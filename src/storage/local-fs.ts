import { randomBytes } from "node:crypto";
import type { Dir } from "node:fs";
import { open, opendir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { inDirectoryOf, isMissing } from "./fs-entries.js";
import { createLocalParts } from "./local-fs-parts.js";
import { ObjectNotFoundError } from "./object-store.js";
import type { ObjectInfo, ObjectStore } from "./object-store.js";

// In-flight writes live next to their destination (same volume, so rename is
// atomic) under a name list() skips and no valid key can take.
const TEMP_MARK = ".tmp-";
const isTempName = (name: string) => name.startsWith(".") && name.includes(TEMP_MARK);
const tempPathFor = (file: string) =>
  join(dirname(file), `.${basename(file).slice(0, 64)}${TEMP_MARK}${randomBytes(6).toString("hex")}`);
// Objects written in parts grow in one directory at the root, a temp name too.
const PARTS_DIR = `${TEMP_MARK}parts`;

/**
 * An ObjectStore on a local directory: the embedded default. Each key is a
 * file under `root`; writes land in a temp file (or, for objects written in
 * parts, a partial file under `<root>/.tmp-parts/`) that is renamed into place.
 * A key cannot also be a "directory" of other keys (S3 allows "a" and "a/b").
 * @throws Error from every method when a key is malformed ("..", leading "/", empty elements).
 */
export function createLocalFsStore(opts: { root: string }): ObjectStore {
  const root = resolve(opts.root);

  function pathOf(key: string): string {
    const parts = key.split("/");
    // Keys are server-built; this guards against a bug turning into a path traversal.
    if (key === "" || parts.some((p) => p === "" || p === "." || p === ".." || isTempName(p))) {
      throw new Error(`invalid object key ${JSON.stringify(key)}`);
    }
    return join(root, ...parts);
  }

  /** Creates a temp entry next to `file` with `create`. */
  function createTemp<T>(file: string, create: (tmp: string) => Promise<T>): Promise<[string, T]> {
    return inDirectoryOf(file, async () => {
      const tmp = tempPathFor(file);
      return [tmp, await create(tmp)];
    });
  }

  async function writeTemp(file: string, source: () => AsyncIterable<Buffer>): Promise<string> {
    const [tmp, fh] = await createTemp(file, (t) => open(t, "wx"));
    try {
      await pipeline(source, fh.createWriteStream());
      return tmp;
    } catch (e) {
      await fh.close(); // the stream usually closed it already; a second close is a no-op
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async function openSource(key: string): Promise<FileHandle> {
    let fh: FileHandle;
    try {
      fh = await open(pathOf(key), "r");
    } catch (e) {
      if (isMissing(e)) throw new ObjectNotFoundError(key);
      throw e;
    }
    // open(2) succeeds on a directory; a directory is a key prefix, not an object.
    if ((await fh.stat()).isDirectory()) {
      await fh.close();
      throw new ObjectNotFoundError(key);
    }
    return fh;
  }

  async function put(key: string, body: Readable, size?: number): Promise<void> {
    const file = pathOf(key);
    const tmp = await writeTemp(file, async function* countBytes() {
      let written = 0;
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        written += bytes.length;
        if (size !== undefined && written > size) throw sizeMismatch(key, size, `more than ${size}`);
        yield bytes;
      }
      // Thrown before the writer ends, so the temp file is discarded.
      if (size !== undefined && written !== size) throw sizeMismatch(key, size, String(written));
    });
    await rename(tmp, file).catch(async (e: unknown) => {
      await rm(tmp, { force: true });
      throw e;
    });
  }

  async function get(key: string, offset = 0): Promise<Readable> {
    assertOffset(offset);
    const fh = await openSource(key);
    // The open handle pins the current version: a concurrent put renames a new
    // file over the name and this stream keeps reading the old one.
    // 1 MiB reads: a tenth of the syscalls of the 64 KiB default, and whole download messages without a copy.
    return fh.createReadStream({ start: offset, highWaterMark: 1024 * 1024 });
  }

  async function statKey(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(pathOf(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async function deleteKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const file = pathOf(key);
      try {
        await unlink(file);
      } catch (e) {
        // A directory is a prefix of other keys, not an object (EISDIR on Linux, EPERM on macOS).
        if (!isMissing(e) && !(await stat(file).then((s) => s.isDirectory(), () => false))) throw e;
      }
      // Best effort: a failure (ENOTEMPTY, a racing put) just stops the pruning.
      for (let dir = dirname(file); dir.startsWith(root + "/"); dir = dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
      }
    }
  }

  async function* list(prefix: string): AsyncIterable<ObjectInfo> {
    const cut = prefix.lastIndexOf("/") + 1;
    const dirPart = prefix.slice(0, cut);
    const namePart = prefix.slice(cut);
    if (dirPart !== "") pathOf(dirPart.slice(0, -1)); // validates; throws on "/x", "a//b", "../"
    yield* walk(join(root, dirPart), dirPart, namePart);
  }

  async function* walk(dir: string, keyPrefix: string, namePrefix: string): AsyncIterable<ObjectInfo> {
    let handle: Dir;
    try {
      handle = await opendir(dir);
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    for await (const entry of handle) {
      if (!entry.name.startsWith(namePrefix) || isTempName(entry.name)) continue;
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        yield* walk(join(dir, entry.name), `${key}/`, "");
      } else if (entry.isFile()) {
        const info = await statKey(key);
        if (info) yield info; // else deleted since readdir
      }
    }
  }

  const parts = createLocalParts({ partsDir: join(root, PARTS_DIR), pathOf, stat: statKey });
  return { put, get, stat: statKey, ...parts, delete: deleteKeys, list };
}

function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
}

function sizeMismatch(key: string, size: number, got: string): Error {
  return new Error(`object ${key}: ${size} bytes were declared but the body carried ${got}; nothing was stored`);
}
