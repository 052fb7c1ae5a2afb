import type { Route } from "../../router.js";

export const lineageRoutes: Route[] = [];
