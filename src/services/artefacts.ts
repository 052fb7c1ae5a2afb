/**
 * What dataset versions and runs share about their artefacts: how one is
 * described to clients, and how its bytes are read back from the blob that
 * holds them.
 */
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import { blobObjectKey } from "../db/blobs-repo.js";
import type { Database } from "../db/schema.js";
import { ObjectNotFoundError, type ObjectStore } from "../storage/object-store.js";
import { DataLossError, InvalidInputError } from "./errors.js";

export interface ArtefactView {
  path: string;
  size: number;
  sha256: string;
  mediaType: string;
}

export interface OpenedArtefact {
  artefact: ArtefactView;
  /** The bytes from the offset asked for; undefined when that offset is the end. Errors with DataLossError if the object is short. */
  body: Readable | undefined;
}

/** Which bytes of an artefact to read: from `offset`, `length` of them (to the end when undefined; cut at the end). */
export interface ByteRange {
  offset: number;
  length?: number | undefined;
}

/**
 * An artefact's bytes in `range`. `owner` names what holds it in messages
 * (`dataset "mnist@1.0"`, `run "run_…"`). InvalidInputError when the offset is
 * past the end; DataLossError when its object is missing, and (from the body)
 * when the object ends before the range does.
 */
export async function openArtefactBytes(
  { db, store }: { db: Kysely<Database>; store: ObjectStore },
  orgId: string,
  artefact: ArtefactView,
  range: ByteRange,
  owner: string,
): Promise<OpenedArtefact> {
  const { offset } = range;
  if (offset > artefact.size) throw new InvalidInputError("offset", `offset ${offset} is past the end of "${artefact.path}" (${artefact.size} bytes)`);
  const wanted = Math.min(range.length ?? Number.POSITIVE_INFINITY, artefact.size - offset);
  if (wanted === 0) return { artefact, body: undefined };
  const lost = (what: string) =>
    new DataLossError(`the bytes of artefact "${artefact.path}" of ${owner} ${what} in object storage; they must be restored from a backup or committed again`);
  // A referenced blob's row is never deleted; its physical key says where its one object is.
  const key = await blobObjectKey(db, orgId, artefact.sha256);
  if (key === undefined) throw lost("have no blob record");
  let source: Readable;
  try {
    source = await store.get(key, offset);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw lost("are missing");
    throw error;
  }
  const body = Readable.from(checkedLength(source, wanted, artefact.size - offset, lost));
  // A body destroyed before its first read never runs the generator (nor its finally): close the source here too.
  body.once("close", () => source.destroy());
  return { artefact, body };
}

/**
 * The first `wanted` bytes of `source`, which should hold `remainder` bytes:
 * DataLossError when it ends before `wanted`, or (when reading to the end)
 * holds more than `remainder`. `source` is closed however this ends, also
 * when a range stops before the end of the object.
 */
async function* checkedLength(source: Readable, wanted: number, remainder: number, lost: (what: string) => DataLossError): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (seen + chunk.length > remainder) throw lost(`are longer than its ${remainder}-byte remainder`);
      if (seen + chunk.length >= wanted) {
        yield chunk.subarray(0, wanted - seen);
        seen = wanted;
        break;
      }
      seen += chunk.length;
      yield chunk;
    }
  } finally {
    source.destroy();
  }
  if (seen < wanted) throw lost(`end ${wanted - seen} bytes short`);
}

export function toArtefactView(row: { path: string; size: number; sha256: string; mediaType: string }): ArtefactView {
  return { path: row.path, size: row.size, sha256: row.sha256, mediaType: row.mediaType };
}
