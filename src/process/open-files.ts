// Which processes have a file open, from /proc/<pid>/fd (Linux). Where /proc is not there nothing is known,
// and nothing is found: callers use it to refuse what would pull a file from under a live process.
import { realpathSync } from "node:fs";
import { readdir, readlink } from "node:fs/promises";

/** Pids of other processes holding any of `paths` open (each path taken through its symlinks). */
export async function processesHolding(paths: readonly string[]): Promise<number[]> {
  const wanted = new Set(paths.flatMap((path) => {
    try {
      return [realpathSync(path)];
    } catch {
      return [];
    }
  }));
  if (wanted.size === 0) return [];
  const entries = await readdir("/proc").catch(() => [] as string[]);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    // A process that ended meanwhile, or one we may not look into, holds nothing we can see.
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if (wanted.has(await readlink(`/proc/${entry}/fd/${fd}`).catch(() => ""))) {
        found.push(Number(entry));
        break;
      }
    }
  }
  return found;
}
