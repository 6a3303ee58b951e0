// Notice of new journal rows written by any process: every SQLite commit in WAL mode writes the `-wal` file beside
// the database, so a watch on the database's folder wakes a follower within milliseconds of another process's
// commit, with no polling. The folder is watched rather than the file: the WAL file is removed and made again as
// connections come and go.
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

/** Calls `onChange` whenever the database file or its WAL changes; returns a function that stops watching. */
export function watchDatabaseFile(path: string, onChange: () => void): () => void {
  const name = basename(path);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file === null || file.startsWith(name)) onChange();
    });
    // A folder removed under the watch ends it; followers still have their own slow timer.
    watcher.on("error", () => watcher?.close());
  } catch {
    // No watch here (a file system without inotify): followers fall back to their timer.
    return () => undefined;
  }
  return () => watcher?.close();
}
