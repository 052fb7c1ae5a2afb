import type { Route } from "../../router.js";

export const runRoutes: Route[] = [];
