/**
 * Seeds metric history fast for chart tests and the UI benchmark: batches
 * of 10,000 points (LogMetrics' maximum), several in flight at once, each
 * batch one key's consecutive steps. Values are a decaying curve with one
 * spike per key at a known step, so a test can check that the spike (the
 * series' maximum) survives the server's downsampling.
 */
import type { Client } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ExperimentService } from "../../../gen/traintrack/v1/experiment_pb.js";

export const BATCH = 10_000;
/** Wall time of step s: one step every 100 ms from this instant. */
export const T0_MS = Date.UTC(2026, 0, 1);

export function valueAt(keyIndex: number, step: number, points: number): number {
  if (step === spikeStep(points)) return 10 + keyIndex;
  return (keyIndex + 1) * Math.exp((-3 * step) / points) + 0.05 * Math.sin(step / 7);
}

/** The step of each key's spike: 37 % of the way. */
export function spikeStep(points: number): number {
  return Math.floor(points * 0.37);
}

export async function seedMetrics(
  client: Client<typeof ExperimentService>,
  runId: string,
  keys: string[],
  points: number,
  concurrency = 6,
): Promise<void> {
  const jobs: { k: number; from: number }[] = [];
  for (let k = 0; k < keys.length; k++) for (let from = 0; from < points; from += BATCH) jobs.push({ k, from });
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const { k, from } = jobs[next++]!;
      const to = Math.min(points, from + BATCH);
      const batch = [];
      for (let step = from; step < to; step++) {
        batch.push({ key: keys[k]!, value: valueAt(k, step, points), step: BigInt(step), timestamp: timestampFromMs(T0_MS + step * 100) });
      }
      await client.logMetrics({ runId, batchId: `seed-${k}-${from}`, points: batch });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
}
