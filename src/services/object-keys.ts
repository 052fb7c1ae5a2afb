/**
 * Where things live in object storage. Keys are built only from ids the server
 * generated and hashes it computed, never from client-sent names or paths.
 */

/** Prefix of the segment objects an earlier version staged for one upload (reclaimed, never written now). */
export function stagingPrefix(orgId: string, uploadId: string): string {
  return `staging/${orgId}/${uploadId}/`;
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
