/** File-system helpers the local store's objects and partial files share. */
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";

export function errno(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined;
}

// ENOTDIR: a path element is a file, so the key cannot exist below it.
export const isMissing = (e: unknown) => errno(e) === "ENOENT" || errno(e) === "ENOTDIR";

/**
 * Makes `file`'s directory, then runs `create` (which makes an entry in it);
 * retried because a concurrent delete() may prune the (empty) directory in between.
 */
export async function inDirectoryOf<T>(file: string, create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(file), { recursive: true });
    try {
      return await create();
    } catch (e) {
      if (errno(e) !== "ENOENT" || attempt === 3) throw e;
    }
  }
}

/** A new or renamed entry is durable once its directory is synced. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
