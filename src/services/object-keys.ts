/**
 * Where things live in object storage. Keys are built only from ids the server
 * generated and hashes it computed, never from client-sent names or paths.
 */

/** Prefix of every staged segment of one upload. */
export function stagingPrefix(orgId: string, uploadId: string): string {
  return `staging/${orgId}/${uploadId}/`;
}

/** A staged segment; zero-padded so that listing order is segment order. */
export function segmentKey(orgId: string, uploadId: string, seq: number): string {
  return `${stagingPrefix(orgId, uploadId)}${String(seq).padStart(6, "0")}`;
}

/** Permanent, content-addressed home of committed bytes: identical bytes are stored once. */
export function blobKey(orgId: string, sha256: string): string {
  return `blobs/${orgId}/sha256/${sha256.slice(0, 2)}/${sha256}`;
}
