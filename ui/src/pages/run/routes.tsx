import type { Route } from "../../router.js";
import { RunPage } from "./run-page.js";

export const singleRunRoutes: Route[] = [{ path: "/runs/:runId", render: (p) => <RunPage key={p.runId} runId={p.runId ?? ""} /> }];
