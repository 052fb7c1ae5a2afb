/**
 * MinIO buckets from the bench process: a client for with-services.sh's MinIO,
 * and the removal of a bucket with everything in it. Benchmarks that write
 * gigabytes remove their buckets as they go: the throwaway MinIO lives until
 * the run ends, and several rounds of 9 GiB would otherwise pile up on disk.
 */
import { Client as MinioClient } from "minio";
import type { ServicesEnv } from "./options.js";

export function minioClient(services: ServicesEnv): MinioClient {
  const url = new URL(services.s3.endpoint);
  return new MinioClient({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: url.protocol === "https:",
    accessKey: services.s3.accessKey,
    secretKey: services.s3.secretKey,
    region: services.s3.region,
  });
}

/** Removes `bucket`'s objects, its unfinished multipart uploads, then the bucket; a missing bucket is fine. */
export async function removeBucket(client: MinioClient, bucket: string): Promise<void> {
  if (!(await client.bucketExists(bucket))) return;
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, "", true) as AsyncIterable<{ name?: string }>) {
    if (item.name) names.push(item.name);
  }
  for (let i = 0; i < names.length; i += 1000) await client.removeObjects(bucket, names.slice(i, i + 1000));
  const unfinished = new Set<string>();
  for await (const upload of client.listIncompleteUploads(bucket, "", true) as AsyncIterable<{ key?: string }>) {
    if (upload.key) unfinished.add(upload.key);
  }
  for (const key of unfinished) await client.removeIncompleteUpload(bucket, key);
  await client.removeBucket(bucket);
}
