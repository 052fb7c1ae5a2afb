import type { Route } from "../../router.js";
import { ModelPage } from "./model-page.js";
import { ModelsPage } from "./models-page.js";
import { VersionPage } from "./version-page.js";

export const modelRoutes: Route[] = [
  { path: "/models", render: () => <ModelsPage /> },
  { path: "/models/:name", render: () => <ModelPage /> },
  { path: "/models/:name/versions/:version", render: () => <VersionPage /> },
];
