/** What the runs area shows when there is nothing yet: how to log a first run from Python. */
import { Empty } from "../../components/feedback.js";

/** The three lines (plus the import) that log a first run, as on the start page. */
export function FirstRunSnippet({ project = "churn", experiment = "baseline" }: { project?: string; experiment?: string }) {
  return (
    <pre className="code">{`import traintrack as tt
client = tt.Client(url="${window.location.origin}", api_key="tt_…")
with client.start_run("${project}", "${experiment}") as run:
    run.log_params({"lr": 0.01})
    run.log({"loss": 0.42}, step=1)`}</pre>
  );
}

export function EmptyRuns({ project, experiment, filtered }: { project: string; experiment: string; filtered: boolean }) {
  if (filtered) return <Empty title="No run matches the filter.">Loosen a condition, or clear the filter.</Empty>;
  return (
    <Empty title="No runs in this experiment yet.">
      Log one from Python:
      <FirstRunSnippet project={project} experiment={experiment} />
    </Empty>
  );
}
