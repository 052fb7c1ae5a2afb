/** The charts of a page: shared options (in the URL), then one chart per metric key. */
import { Empty } from "../components/feedback.js";
import { ChartControls, useChartOptions } from "./chart-options.js";
import { MetricChart } from "./metric-chart.js";
import "./charts.css";

export function MetricCharts({ keys, runs, live }: { keys: string[]; runs: { id: string; label: string }[]; live: boolean }) {
  const options = useChartOptions();
  if (keys.length === 0)
    return (
      <Empty title="No metrics logged yet.">
        Log some from Python: <code>run.log({"{"}"loss": 0.42{"}"}, step=1)</code>
      </Empty>
    );
  return (
    <div className="metric-charts">
      <ChartControls />
      <div className="chart-grid">
        {keys.map((k) => (
          <MetricChart key={k} metricKey={k} runs={runs} live={live} options={options} />
        ))}
      </div>
    </div>
  );
}
