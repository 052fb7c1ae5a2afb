import type { Route } from "../../router.js";
import { DatasetPage } from "./dataset-page.js";
import { DatasetsPage } from "./datasets-page.js";
import { VersionPage } from "./version-page.js";

export const datasetRoutes: Route[] = [
  { path: "/datasets", render: () => <DatasetsPage /> },
  { path: "/datasets/:name", render: (p) => <DatasetPage key={p.name} name={p.name ?? ""} /> },
  { path: "/datasets/:name/:version", render: (p) => <VersionPage key={`${p.name}@${p.version}`} name={p.name ?? ""} version={p.version ?? ""} /> },
];
