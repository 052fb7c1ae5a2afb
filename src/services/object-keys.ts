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

/** Permanent, content-addressed home of committed bytes: identical bytes are stored once. */
export function blobKey(orgId: string, sha256: string): string {
  return `blobs/${orgId}/sha256/${sha256.slice(0, 2)}/${sha256}`;
}
