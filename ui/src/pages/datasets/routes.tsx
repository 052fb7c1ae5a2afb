import type { Route } from "../../router.js";
import { DatasetsPage } from "./datasets-page.js";

export const datasetRoutes: Route[] = [{ path: "/datasets", render: () => <DatasetsPage /> }];
