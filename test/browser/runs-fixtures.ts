/**
 * Data for the runs table's browser test and benchmark: many runs in one
 * experiment, created through the API (CreateRun and LogMetrics from several
 * clients at once, the way many training jobs would), with params, tags and
 * metrics whose values are known from the run's number.
 */
import type { Client } from "@connectrpc/connect";
import { ExperimentService, RunStatus } from "../../gen/traintrack/v1/experiment_pb.js";

/** What run `i` of a seeded experiment holds: loss falls with i, so sorting by it reverses creation order. */
export function seededRun(i: number) {
  return {
    name: `run-${String(i).padStart(5, "0")}`,
    params: { lr: String([0.1, 0.01, 0.001][i % 3]), optimizer: i % 2 ? "adam" : "sgd" },
    tags: { team: i % 4 === 0 ? "vision" : "nlp" },
    loss: 1 / (i + 1),
    accuracy: (i % 100) / 100,
  };
}

/**
 * Creates `count` runs named run-00000… in `project`/`experiment`, each with
 * its params and tags and (unless `metrics` is false: it takes twice as long)
 * the two metrics of seededRun, ended FINISHED (every fifth FAILED), through
 * `clients` working in parallel. Run 0 is created first, alone; the others in
 * no fixed order when there are several clients.
 */
export async function seedRuns(
  clients: Client<typeof ExperimentService>[],
  project: string,
  experiment: string,
  count: number,
  opts: { metrics: boolean } = { metrics: true },
): Promise<void> {
  const one = async (client: Client<typeof ExperimentService>, i: number) => {
    const s = seededRun(i);
    const { run } = await client.createRun({ project, experiment, name: s.name, params: s.params, tags: s.tags, requestId: `seed-${i}` });
    const runId = run?.runId as string;
    if (!opts.metrics) return;
    await client.logMetrics({
      runId,
      batchId: "seed",
      points: [
        { key: "loss", value: s.loss, step: 1n },
        { key: "accuracy", value: s.accuracy, step: 1n },
      ],
    });
    await client.updateRunStatus({ runId, status: i % 5 === 4 ? RunStatus.FAILED : RunStatus.FINISHED });
  };
  if (count === 0) return;
  // The first run alone, so that the project and the experiment are created once rather than raced for.
  await one(clients[0] as Client<typeof ExperimentService>, 0);
  let next = 1;
  await Promise.all(
    clients.map(async (client) => {
      for (let i = next++; i < count; i = next++) await one(client, i);
    }),
  );
}
