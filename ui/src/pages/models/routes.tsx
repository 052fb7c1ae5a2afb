import type { Route } from "../../router.js";

export const modelRoutes: Route[] = [];
