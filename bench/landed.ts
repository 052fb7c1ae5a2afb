/**
 * The figures of the last landed benchmark run (stop 9's closing note, the
 * same defaults, this kind of machine), printed beside each new table so that
 * a change that makes one worse shows at a glance. Machines are shared and
 * noisy: compare ratios against the same run's baseline first, these second.
 * Update them when a stop lands new figures.
 */
export const LANDED = {
  source: "stop 9",
  throughput: {
    s3: "Upload 161 MiB/s vs minio putObject 197 MiB/s: ratio 0.817, server 4.58 CPU-s/GiB; RSS growth 12.6 MiB",
    local: "Upload 158 MiB/s (fs write to the page cache: 4,211 MiB/s); RSS growth 20.4 MiB",
  },
  concurrent: { s3: "RSS growth 255 MiB", local: "RSS growth 33.6 MiB" },
  commit: "CreateDataset of 1 / 100 / 1,000 artefacts: 0.012 / 0.064 / 0.296 s on PostgreSQL + MinIO, 0.024 / 0.044 / 0.165 s on PGlite",
  many: "10,000 files: 16.8 s = 597 files/s on PostgreSQL + MinIO (minio putObject × 10,000: 5.65 s): ratio 0.337",
} as const;

/** A note line for a table: what the last landed run measured. */
export function landedNote(figures: string): string {
  return `last landed (${LANDED.source}): ${figures}`;
}
