/**
 * The real services integration tests run against. The test command
 * (test/scripts/with-services.sh) starts PostgreSQL and MinIO on loopback and
 * exports where they are; a suite asks here and, when a service is absent,
 * skips on a developer's machine but fails under CI=true, where a suite whose
 * service cannot start must never pass by skipping.
 */
export interface PostgresService {
  /** Connection string of a superuser on the cluster's "postgres" database. */
  adminUrl: string;
}

export interface S3Service {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

const inCI = process.env.CI === "true";

function required<T>(what: string, value: T | undefined): T | undefined {
  if (value === undefined && inCI) {
    throw new Error(`${what} is not available, and CI=true forbids skipping: run the tests through 'npm test'`);
  }
  return value;
}

export function postgresService(): PostgresService | undefined {
  const adminUrl = process.env.TRAINTRACK_TEST_PG_URL;
  return required("PostgreSQL (TRAINTRACK_TEST_PG_URL)", adminUrl ? { adminUrl } : undefined);
}

export function s3Service(): S3Service | undefined {
  const endpoint = process.env.TRAINTRACK_TEST_S3_ENDPOINT;
  const accessKey = process.env.TRAINTRACK_TEST_S3_ACCESS_KEY;
  const secretKey = process.env.TRAINTRACK_TEST_S3_SECRET_KEY;
  const service =
    endpoint && accessKey && secretKey
      ? { endpoint, accessKey, secretKey, region: process.env.TRAINTRACK_TEST_S3_REGION ?? "us-east-1" }
      : undefined;
  return required("MinIO (TRAINTRACK_TEST_S3_ENDPOINT and keys)", service);
}

/** Where initdb and pg_ctl are, for suites that run a PostgreSQL cluster of their own (test/support/pg-cluster.ts). */
export function postgresBinDir(): string | undefined {
  return required("PostgreSQL's programs (TRAINTRACK_TEST_PG_BIN)", process.env.TRAINTRACK_TEST_PG_BIN || undefined);
}

/** The MinIO binary, for suites that run a MinIO server of their own (test/support/minio-server.ts). */
export function minioBinary(): string | undefined {
  return required("MinIO's binary (TRAINTRACK_TEST_MINIO)", process.env.TRAINTRACK_TEST_MINIO || undefined);
}

export function grpcurlPath(): string | undefined {
  return required("grpcurl (TRAINTRACK_TEST_GRPCURL)", process.env.TRAINTRACK_TEST_GRPCURL);
}

/** A short random suffix for per-suite databases and buckets. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
