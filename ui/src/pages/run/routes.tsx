import type { Route } from "../../router.js";

export const singleRunRoutes: Route[] = [];
