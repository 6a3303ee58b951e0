// Times a child process from spawn to exit with the same clock the engine runs are timed with.
import { spawn } from "node:child_process";

export interface Timed {
  ms: number;
  exitCode: number | null;
}

export function timeSpawn(file: string, args: readonly string[], cwd: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, { cwd, stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (exitCode) => resolve({ ms: performance.now() - start, exitCode }));
  });
}

