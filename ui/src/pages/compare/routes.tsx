import type { Route } from "../../router.js";
import { ComparePage } from "./compare-page.js";

export const compareRoutes: Route[] = [{ path: "/compare", render: () => <ComparePage /> }];
