/** Plain-text tables and target verdicts; numbers are printed, never asserted. */
import type { CpuSplit } from "./proc.js";

export type Cell = string | number;

export interface Target {
  what: string;
  /** undefined: not measured (e.g. the run failed before it). */
  met: boolean | undefined;
}

/** Prints a titled table with right-aligned numeric columns, then one line per target. */
export function printTable(title: string, header: string[], rows: Cell[][], targets: Target[] = [], notes: string[] = []): void {
  const text = rows.map((row) => row.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === "number" || /^[\d.,x%+ -]+$/.test(String(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ");
  console.log(`\n== ${title}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of text) console.log(line(r));
  for (const t of targets) console.log(`target: ${t.what}: ${t.met === undefined ? "NOT MEASURED" : t.met ? "MET" : "MISSED"}`);
  for (const n of notes) console.log(`note: ${n}`);
}

/** A number with sensible precision: 3 significant digits below 100, integers above. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  const abs = Math.abs(n);
  if (abs >= 100) return Math.round(n).toLocaleString("en-US");
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

/** Who used the machine's CPU during each measured phase: tells a slow server from a starved one. */
export function printCpu(title: string, rows: { phase: string; cpu: CpuSplit }[]): void {
  printTable(
    `${title}: CPU seconds by process during each phase`,
    ["phase", "wall s", "server", "client (bench)", "MinIO", "PostgreSQL", "other processes", "idle"],
    rows.map(({ phase, cpu }) => [phase, cpu.wallSeconds, cpu.server, cpu.client, cpu.minio, cpu.postgres, cpu.others, cpu.idle]),
  );
}
