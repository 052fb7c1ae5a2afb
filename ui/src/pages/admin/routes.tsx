import type { Route } from "../../router.js";

export const adminRoutes: Route[] = [];
