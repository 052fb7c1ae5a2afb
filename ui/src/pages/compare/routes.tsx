import type { Route } from "../../router.js";

export const compareRoutes: Route[] = [];
