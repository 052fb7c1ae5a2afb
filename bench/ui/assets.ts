/**
 * UI benchmark: what a browser downloads on its first load of the UI, gzip
 * as the server sends it, against the budget (< 500 KiB). The first load is
 * index.html and what it names (the entry script, its stylesheet, the
 * chunks it preloads); chunks loaded later (the chart library, React Flow,
 * elkjs's worker) are listed apart. Reads the build in dist/ui
 * (`npm run build:ui`).
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { UI_DIR } from "../../test/browser/support/browser.js";

const BUDGET_KIB = 500;
const gz = (file: string) => gzipSync(readFileSync(path.join(UI_DIR, file)), { level: 9 }).length;
const kib = (n: number) => (n / 1024).toFixed(1);

const html = readFileSync(path.join(UI_DIR, "index.html"), "utf8");
const named = [...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1] as string);
const first = ["index.html", ...new Set(named)];
const later = readdirSync(path.join(UI_DIR, "assets"))
  .map((f) => `assets/${f}`)
  .filter((f) => !first.includes(f));

const firstBytes = first.reduce((sum, f) => sum + gz(f), 0);
console.log("== UI assets, gzip (level 9)");
for (const f of first) console.log(`  first load  ${kib(gz(f)).padStart(7)} KiB  ${f}`);
for (const f of later) console.log(`  on demand   ${kib(gz(f)).padStart(7)} KiB  ${f}`);
console.log(`first load: ${kib(firstBytes)} KiB gzip; target < ${BUDGET_KIB} KiB: ${firstBytes < BUDGET_KIB * 1024 ? "MET" : "MISSED"}`);
