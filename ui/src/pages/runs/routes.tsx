import type { Route } from "../../router.js";
import { ExperimentsPage } from "./experiments-page.js";
import { ProjectsPage } from "./projects-page.js";
import { RunsPage } from "./runs-page.js";

export const runRoutes: Route[] = [
  { path: "/projects", render: () => <ProjectsPage /> },
  { path: "/projects/:project", render: (p) => <ExperimentsPage project={p.project as string} /> },
  {
    path: "/projects/:project/experiments/:experiment",
    // Keyed so that another experiment starts with a fresh table (scroll position, loaded pages).
    render: (p) => <RunsPage key={`${p.project}/${p.experiment}`} project={p.project as string} experiment={p.experiment as string} />,
  },
];
