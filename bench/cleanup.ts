/**
 * What the bench must undo however it ends: child processes it started and
 * temporary directories it made. The normal path awaits `cleanUp()`; a crash
 * or a signal falls back to the synchronous `exit` hook, which can still kill
 * children and remove directories (but not wait for a graceful shutdown).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const tasks = new Set<() => Promise<void>>();
let closing = false;

/** Thrown by anything that would start new work once clean-up has begun (after a signal). */
export class CleaningUpError extends Error {
  override name = "CleaningUpError";
}

function refuseIfClosing(): void {
  if (closing) throw new CleaningUpError("the bench is stopping");
}

/** Tracks a child so that it is killed if the bench dies; untracked once it exits. */
export function trackChild(child: ChildProcess): void {
  if (closing) child.kill("SIGKILL");
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** A fresh temporary directory, removed at the end of the run. */
export function tempDir(label: string): string {
  refuseIfClosing();
  // Synchronous, so no exit can come between creating and registering it.
  const dir = mkdtempSync(path.join(os.tmpdir(), `traintrack-bench-${label}-`));
  dirs.add(dir);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Runs `task` at clean-up unless the returned function is called first. */
export function deferCleanup(task: () => Promise<void>): () => void {
  tasks.add(task);
  return () => tasks.delete(task);
}

/** Runs the deferred tasks, stops children (SIGTERM, then SIGKILL) and removes directories. */
export async function cleanUp(): Promise<void> {
  closing = true;
  for (const task of [...tasks].reverse()) {
    tasks.delete(task);
    await task().catch((e: unknown) => console.error("bench clean-up:", e));
  }
  await Promise.all([...children].map((c) => stopChild(c, 10_000)));
  await Promise.all([...dirs].map(removeDir));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
