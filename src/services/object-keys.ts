/**
 * Where things live in object storage. Keys are built only from ids the server
 * generated and hashes it computed, never from client-sent names or paths.
 */

/** Prefix of every staged segment of one upload. */
export function stagingPrefix(orgId: string, uploadId: string): string {
  return `staging/${orgId}/${uploadId}/`;
}

/**
 * A staged segment written by the stream holding `writerToken`: zero-padded
 * seq first, so that listing order is segment order, then the token, so that
 * a writer whose lease lapsed can never overwrite a segment another stream
 * recorded. The recorded key, not this function, says which one counts.
 */
export function segmentKey(orgId: string, uploadId: string, seq: number, writerToken: string): string {
  return `${legacySegmentKey(orgId, uploadId, seq)}-${writerToken}`;
}

/** Where segments recorded before segment keys carried a token live. */
export function legacySegmentKey(orgId: string, uploadId: string, seq: number): string {
  return `${stagingPrefix(orgId, uploadId)}${String(seq).padStart(6, "0")}`;
}

/** Prefix of every object an upload writes. */
export const UPLOAD_OBJECTS = "objects/";

/**
 * The one object an upload writes its bytes to, whole, at a key no other
 * upload shares. When it is committed, its blob row may point here and it
 * stays, as it is, for as long as the blob lives: nothing is ever copied.
 */
export function uploadObjectKey(orgId: string, uploadId: string): string {
  return `${UPLOAD_OBJECTS}${orgId}/${uploadId}`;
}

/** The upload id in an upload object's key, or undefined when the key is not one. */
export function uploadIdOfObject(key: string): string | undefined {
  const parts = key.split("/");
  return parts.length === 3 && `${parts[0]}/` === UPLOAD_OBJECTS ? parts[2] : undefined;
}
