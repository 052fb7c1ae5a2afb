/**
 * Summarises a V8 .cpuprofile (from the server child's --cpu-prof): self time
 * by function and by component (our code, each npm package, node internals,
 * GC), restricted to a time window so start-up does not drown the upload.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { printTable } from "./report.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A window in microseconds of the monotonic clock (process.hrtime), which V8's profiler also uses. */
export interface Window {
  fromUs: number;
  toUs: number;
}

export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Reads the one profile in `dir` and prints where the server's CPU went during `window`. */
export async function printProfile(dir: string, window: Window, title: string): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const file = files[0];
  if (!file) {
    console.log(`\n(no CPU profile was written in ${dir})`);
    return;
  }
  const profile = JSON.parse(await readFile(path.join(dir, file), "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let inWindow = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < window.fromUs || t > window.toUs) continue;
    // A sample's delta is the time since the previous sample: attribute it to this one.
    const id = profile.samples[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    inWindow++;
  }
  const scope = inWindow > 0 ? "" : "; whole run: the window matched no sample";
  if (inWindow === 0) {
    t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i] ?? 0;
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const byFunction = new Map<string, number>();
  const byComponent = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const component = componentOf(functionName, url);
    byComponent.set(component, (byComponent.get(component) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => [k, us / 1000, (100 * us) / total]);
  printTable(`${title}: server CPU by component (self time, ${(total / 1e6).toFixed(2)} s sampled${scope})`, ["component", "ms", "%"], top(byComponent, 12));
  printTable(`${title}: server CPU, top functions (self time)`, ["function", "ms", "%"], top(byFunction, 20));
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) return url.slice(modules + "node_modules/".length);
  const src = url.indexOf("/src/");
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, "");
}

function componentOf(functionName: string, url: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native / builtin)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.includes("/src/") || url.includes("/gen/")) return "traintrack (src/, gen/)";
  return url;
}
