import type { Route } from "../../router.js";

export const pipelineRoutes: Route[] = [];
