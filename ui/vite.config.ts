/**
 * The web UI's build: ui/ → dist/ui/, which the server serves on its own port
 * (TRAINTRACK_UI_DIR). Asset names carry content hashes, so the server can
 * let browsers cache them for a year; index.html is never cached.
 *
 * `npx vite --config ui/vite.config.ts` is a dev server with hot reload that
 * forwards API calls to a Traintrack server on :8080 (TRAINTRACK_DEV_API).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));
const api = process.env.TRAINTRACK_DEV_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  resolve: { alias: { "@gen": path.resolve(here, "../gen") } },
  build: {
    outDir: path.resolve(here, "../dist/ui"),
    emptyOutDir: true,
    // Budget: < 500 KiB gzip on first load; graph layout (elkjs) is a lazily loaded worker.
    chunkSizeWarningLimit: 1024,
    sourcemap: false,
  },
  worker: { format: "es" },
  server: {
    proxy: {
      "/traintrack.v1.": api,
      "/api/": api,
    },
  },
});
