/**
 * What dataset versions and runs share about their artefacts: how one is
 * described to clients, and how its bytes are read back from the blob that
 * holds them.
 */
import { Readable } from "node:stream";
import { ObjectNotFoundError, type ObjectStore } from "../storage/object-store.js";
import { DataLossError, InvalidInputError } from "./errors.js";
import { blobKey } from "./object-keys.js";

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

/**
 * An artefact's bytes from `offset`. `owner` names what holds it in messages
 * (`dataset "mnist@1.0"`, `run "run_…"`). InvalidInputError when the offset is
 * past the end; DataLossError when its object is missing, and (from the body)
 * when the object ends before the artefact does.
 */
export async function openArtefactBytes(store: ObjectStore, orgId: string, artefact: ArtefactView, offset: number, owner: string): Promise<OpenedArtefact> {
  if (offset > artefact.size) throw new InvalidInputError("offset", `offset ${offset} is past the end of "${artefact.path}" (${artefact.size} bytes)`);
  if (offset === artefact.size) return { artefact, body: undefined };
  const lost = (what: string) =>
    new DataLossError(`the bytes of artefact "${artefact.path}" of ${owner} ${what} in object storage; they must be restored from a backup or committed again`);
  let source: Readable;
  try {
    source = await store.get(blobKey(orgId, artefact.sha256), offset);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw lost("are missing");
    throw error;
  }
  const body = Readable.from(checkedLength(source, artefact.size - offset, lost));
  // A body destroyed before its first read never runs the generator (nor its finally): close the source here too.
  body.once("close", () => source.destroy());
  return { artefact, body };
}

/** `source`'s bytes, failing with DataLossError when there are fewer or more than `expected`; `source` is closed however this ends. */
async function* checkedLength(source: Readable, expected: number, lost: (what: string) => DataLossError): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > expected) throw lost(`are longer than its ${expected}-byte remainder`);
      yield chunk;
    }
  } finally {
    source.destroy();
  }
  if (seen < expected) throw lost(`end ${expected - seen} bytes short`);
}

export function toArtefactView(row: { path: string; size: number; sha256: string; mediaType: string }): ArtefactView {
  return { path: row.path, size: row.size, sha256: row.sha256, mediaType: row.mediaType };
}
