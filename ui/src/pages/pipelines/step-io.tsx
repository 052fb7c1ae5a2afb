/** What a step read or wrote, each linking to its page: dataset versions, model versions, run artefacts, external datasets. */
import type { StepIO } from "@gen/traintrack/v1/pipeline_pb.js";
import { Link, path } from "../../router.js";

export function StepIOItem({ io }: { io: StepIO }) {
  const ref = io.ref;
  switch (ref.case) {
    case "dataset":
      return (
        <span data-io="dataset">
          dataset <Link to={path`/datasets/${ref.value.name}/${ref.value.version}`}>{`${ref.value.name} ${ref.value.version}`}</Link>
        </span>
      );
    case "model":
      return (
        <span data-io="model">
          model <Link to={path`/models/${ref.value.model}/versions/${String(ref.value.version)}`}>{`${ref.value.model} v${ref.value.version}`}</Link>
        </span>
      );
    case "runArtefact":
      return (
        <span data-io="run-artefact">
          artefact <code>{ref.value.path}</code> of run <Link to={path`/runs/${ref.value.runId}`}>{ref.value.runId}</Link>
        </span>
      );
    case "external":
      return (
        <span data-io="external" title={ref.value.facets || undefined}>
          external <code>{ref.value.namespace}</code> <strong>{ref.value.name}</strong>
        </span>
      );
    default:
      return <span className="muted">unknown</span>;
  }
}

export function StepIOList({ items, none }: { items: StepIO[]; none: string }) {
  if (items.length === 0) return <p className="muted">{none}</p>;
  return (
    <ul className="io-list">
      {items.map((io, i) => (
        <li key={i}>
          <StepIOItem io={io} />
        </li>
      ))}
    </ul>
  );
}
