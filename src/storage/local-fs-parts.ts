import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { inDirectoryOf, isMissing, syncDir } from "./fs-entries.js";
import { ObjectNotFoundError, PartsMismatchError } from "./object-store.js";
import type { CompletedPart, ObjectStore, PartSpec, PartsTarget, StartedObject } from "./object-store.js";

type PartsMethods = Pick<ObjectStore, "startParts" | "putPart" | "completeParts" | "abortParts" | "listStarted">;

interface LocalPartsDeps {
  /** Where partial files live: on the store's volume, out of list()'s walk and of every key's reach. */
  partsDir: string;
  /** A key's file, validating the key. */
  pathOf(key: string): string;
  stat: ObjectStore["stat"];
}

/** What the store remembers of a handle while it is written: bounded by the handles in use. */
interface HandleState {
  /** Calls on this handle run one after the other, in arrival order. */
  tail: Promise<unknown>;
  queued: number;
  writer: string | undefined;
  superseded: Set<string>;
}

/**
 * Objects written in parts on local files: the parts append, in order, to one
 * partial file (made durable before each putPart resolves), which completion
 * renames into place. A partial is named `<handle>.<key, URI-encoded>`, so
 * listStarted gives the key back. This provider does not check etags (it keeps
 * no parts, only bytes): a stale writer is fenced off instead (see putPart),
 * and completion checks that the file holds the expected size. Fencing is
 * per process: the local store serves one process.
 */
export function createLocalParts({ partsDir, pathOf, stat: statKey }: LocalPartsDeps): PartsMethods {
  const handles = new Map<string, HandleState>();

  function partialOf(target: PartsTarget): string {
    pathOf(target.key); // validates
    if (!/^[0-9a-f]{16}$/.test(target.handle)) throw new ObjectNotFoundError(target.key);
    return join(partsDir, `${target.handle}.${encodeURIComponent(target.key)}`);
  }

  // Runs fn after every earlier call on the handle; forgets the handle once
  // nothing is queued on it and `fn` reports it closed (completed, aborted, unknown).
  function serial<T>(handle: string, fn: (state: HandleState) => Promise<{ value: T; closed: boolean }>): Promise<T> {
    let state = handles.get(handle);
    if (!state) {
      state = { tail: Promise.resolve(), queued: 0, writer: undefined, superseded: new Set() };
      handles.set(handle, state);
    }
    const s = state;
    s.queued++;
    let closed = false;
    const run = s.tail.then(async () => {
      try {
        const r = await fn(s);
        closed = r.closed;
        return r.value;
      } catch (e) {
        closed = e instanceof ObjectNotFoundError;
        throw e;
      }
    });
    s.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run.finally(() => {
      if (--s.queued === 0 && closed && handles.get(handle) === s) handles.delete(handle);
    });
  }

  async function startParts(key: string): Promise<string> {
    const handle = randomBytes(8).toString("hex");
    const partial = partialOf({ key, handle });
    await mkdir(partsDir, { recursive: true });
    await (await open(partial, "wx")).close();
    await syncDir(partsDir); // the partial's name survives a crash, like its bytes
    return handle;
  }

  /**
   * Writes the part at `offset`, first truncating the file there (which drops
   * what a dead writer left past it, or an earlier version of this part).
   * Parts must come in order: one starting past the file's end is refused.
   * A writer other than the current one becomes current, unless it was
   * superseded before: then it is refused and writes nothing.
   */
  async function putPart(target: PartsTarget, part: PartSpec, body: Readable): Promise<string> {
    const partial = partialOf(target);
    if (!Number.isSafeInteger(part.offset) || part.offset < 0) throw new RangeError(`invalid offset ${part.offset}`);
    return serial(target.handle, async (state) => {
      if (state.superseded.has(part.writer)) {
        throw new Error(`part ${part.partNumber} of ${target.key} was refused: its writer was superseded by another one`);
      }
      const fh = await open(partial, "r+").catch((e: unknown) => {
        throw isMissing(e) ? new ObjectNotFoundError(target.key) : e;
      });
      try {
        const held = (await fh.stat()).size;
        if (held < part.offset) {
          throw new Error(`part ${part.partNumber} of ${target.key} starts at byte ${part.offset}, but the parts before it hold ${held}`);
        }
        if (state.writer !== part.writer) {
          if (state.writer !== undefined) state.superseded.add(state.writer);
          state.writer = part.writer;
        }
        await fh.truncate(part.offset);
        const { written, crc } = await writeBody(fh, body, part, target.key).catch(async (e: unknown) => {
          await fh.truncate(part.offset); // nothing of this part stays
          throw e;
        });
        await fh.datasync();
        return { value: `${(crc >>> 0).toString(16).padStart(8, "0")}-${written}`, closed: false };
      } finally {
        await fh.close();
      }
    });
  }

  // The parts' etags are not checked (see above): the size is.
  async function completeParts(target: PartsTarget, _parts: readonly CompletedPart[], size: number): Promise<void> {
    const partial = partialOf(target);
    const file = pathOf(target.key);
    return serial(target.handle, async () => {
      let fh: FileHandle;
      try {
        fh = await open(partial, "r");
      } catch (e) {
        if (!isMissing(e)) throw e;
        // Completed before (a retry) when the key holds the object; else aborted or never started.
        if ((await statKey(target.key))?.size !== size) throw new ObjectNotFoundError(target.key);
        return { value: undefined, closed: true };
      }
      try {
        const held = (await fh.stat()).size;
        if (held !== size) throw new PartsMismatchError(target.key, `the parts hold ${held} bytes, not ${size}`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await inDirectoryOf(file, () => rename(partial, file));
      await syncDir(dirname(file));
      return { value: undefined, closed: true };
    });
  }

  async function abortParts(target: PartsTarget): Promise<void> {
    let partial: string;
    try {
      partial = partialOf(target);
    } catch (e) {
      if (e instanceof ObjectNotFoundError) return; // a handle this store never made
      throw e;
    }
    return serial(target.handle, async () => {
      await rm(partial, { force: true });
      return { value: undefined, closed: true };
    });
  }

  async function* listStarted(prefix: string): AsyncIterable<StartedObject> {
    const cut = prefix.lastIndexOf("/");
    if (cut >= 0) pathOf(prefix.slice(0, cut)); // validates
    let names: string[];
    try {
      names = await readdir(partsDir);
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    for (const name of names) {
      const dot = name.indexOf(".");
      if (dot < 0) continue;
      const key = decodeURIComponent(name.slice(dot + 1));
      if (!key.startsWith(prefix)) continue;
      const s = await stat(join(partsDir, name)).catch((e: unknown) => {
        if (isMissing(e)) return undefined; // completed or aborted since readdir
        throw e;
      });
      // Some filesystems keep no birth time (it then reads as the epoch).
      if (s) yield { key, handle: name.slice(0, dot), startedAt: s.birthtimeMs > 0 ? s.birthtime : s.mtime };
    }
  }

  return { startParts, putPart, completeParts, abortParts, listStarted };
}

async function writeBody(fh: FileHandle, body: Readable, part: PartSpec, key: string): Promise<{ written: number; crc: number }> {
  let written = 0;
  let crc = 0;
  for await (const c of body as AsyncIterable<Buffer | string>) {
    const chunk = typeof c === "string" ? Buffer.from(c) : c;
    if (part.size !== undefined && written + chunk.length > part.size) {
      throw new Error(`part ${part.partNumber} of ${key}: ${part.size} bytes were declared but the body carried more; nothing was stored`);
    }
    for (let done = 0; done < chunk.length; ) {
      done += (await fh.write(chunk, done, chunk.length - done, part.offset + written + done)).bytesWritten;
    }
    crc = zlib.crc32(chunk, crc);
    written += chunk.length;
  }
  if (part.size !== undefined && written !== part.size) {
    throw new Error(`part ${part.partNumber} of ${key}: ${part.size} bytes were declared but the body carried ${written}; nothing was stored`);
  }
  return { written, crc };
}
