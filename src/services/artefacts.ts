/**
 * What dataset versions and runs share about their artefacts: how one is
 * described to clients, and how its bytes are read back from the blob that
 * holds them.
 */
import type { Readable } from "node:stream";
import type { ObjectStore } from "../storage/object-store.js";
import { InvalidInputError } from "./errors.js";
import { blobKey } from "./object-keys.js";

export interface ArtefactView {
  path: string;
  size: number;
  sha256: string;
  mediaType: string;
}

export interface OpenedArtefact {
  artefact: ArtefactView;
  /** The bytes from the offset asked for; undefined when that offset is the end. */
  body: Readable | undefined;
}

/** An artefact's bytes from `offset`; InvalidInputError when the offset is past the end. */
export async function openArtefactBytes(store: ObjectStore, orgId: string, artefact: ArtefactView, offset: number): Promise<OpenedArtefact> {
  if (offset > artefact.size) throw new InvalidInputError("offset", `offset ${offset} is past the end of "${artefact.path}" (${artefact.size} bytes)`);
  const body = offset === artefact.size ? undefined : await store.get(blobKey(orgId, artefact.sha256), offset);
  return { artefact, body };
}

export function toArtefactView(row: { path: string; size: number; sha256: string; mediaType: string }): ArtefactView {
  return { path: row.path, size: row.size, sha256: row.sha256, mediaType: row.mediaType };
}
