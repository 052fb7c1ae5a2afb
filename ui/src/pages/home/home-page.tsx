/** The start page: where each kind of thing lives, and how to log the first run. */
import { Link } from "../../router.js";

const AREAS = [
  { to: "/datasets", title: "Datasets", text: "Versions, artefacts with previews, and where each came from." },
  { to: "/projects", title: "Runs", text: "Projects, experiments and runs: params, metrics in charts, comparisons." },
  { to: "/models", title: "Models", text: "Registered models, their versions, aliases and model cards." },
  { to: "/pipelines", title: "Pipelines", text: "Pipeline runs as DAGs, step by step, live while they run." },
  { to: "/lineage", title: "Lineage", text: "From any dataset, run, model or pipeline run: what it came from and what it made." },
];

export function HomePage() {
  return (
    <section>
      <h1>Traintrack</h1>
      <div className="cards">
        {AREAS.map((a) => (
          <Link key={a.to} to={a.to} className="card">
            <strong>{a.title}</strong>
            <span>{a.text}</span>
          </Link>
        ))}
      </div>
      <h2>Log a first run from Python</h2>
      <pre className="code">{`import traintrack as tt
client = tt.Client(url="http://localhost:8080", api_key="tt_…")
with client.start_run("churn", "baseline") as run:
    run.log_params({"lr": 0.01})
    run.log({"loss": 0.42}, step=1)`}</pre>
    </section>
  );
}
