/**
 * The figures of the last landed benchmark run (stop 6's closing note, the
 * same defaults, this kind of machine), printed beside each new table so that
 * a change that makes one worse shows at a glance. Machines are shared and
 * noisy: compare ratios against the same run's baseline first, these second.
 * Update them when a stop lands new figures.
 */
export const LANDED = {
  source: "stop 6",
  throughput: {
    s3: "Upload 122 MiB/s vs minio putObject 163 MiB/s: ratio 0.747; RSS growth 17.0 MiB",
    local: "Upload 190 MiB/s vs fs write 349 MiB/s: ratio 0.545; RSS growth 3.6 MiB",
  },
  concurrent: { s3: "RSS growth 280 MiB", local: "RSS growth 153 MiB" },
  commit: "CreateDataset of 1 / 100 / 1,000 artefacts: 0.010 / 0.030 / 0.090 s on PostgreSQL + MinIO, 0.016 / 0.036 / 0.150 s on PGlite",
  many: "10,000 files: 24.7 s = 405 files/s on PostgreSQL + MinIO (minio putObject × 10,000: 7.9 s)",
} as const;

/** A note line for a table: what the last landed run measured. */
export function landedNote(figures: string): string {
  return `last landed (${LANDED.source}): ${figures}`;
}
