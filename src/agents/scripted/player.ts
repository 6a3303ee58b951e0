// The scripted agent's process: replays one attempt of a script in the current directory, printing
// normalized agent events as JSON lines, exactly as a real agent's adapter would produce them.
// Usage: node player.js <script-file> <attempt-number>
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { AgentEvent } from "../../core/agent-event.js";
import { clip } from "../../core/agent-event.js";
import { attemptScript, loadScript } from "./script.js";

function emit(event: AgentEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Scripts may only touch files inside the worktree they run in. */
function inside(path: string): string {
  const full = resolve(process.cwd(), path);
  const rel = relative(process.cwd(), full);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new Error(`the script tried to write outside its worktree: ${path}`);
  return full;
}

async function main(): Promise<number> {
  const [scriptPath, attemptText] = process.argv.slice(2);
  if (scriptPath === undefined) {
    process.stderr.write("usage: player <script> <attempt>\n");
    return 2;
  }
  const script = loadScript(scriptPath);
  const attempt = Number(attemptText ?? "1");
  const entry = attemptScript(script, attempt);
  const sessionId = `scripted-${process.env.ORCH_RUN_ID ?? "run"}-${process.env.ORCH_TASK_ID ?? "task"}-${attempt}`;
  emit({ type: "session.started", sessionId, model: script.model });
  let toolId = 0;
  for (const step of entry.steps) {
    const id = `tool-${++toolId}`;
    if ("say" in step) {
      emit({ type: "text", text: step.say });
    } else if ("write" in step || "append" in step) {
      const spec = "write" in step ? step.write : step.append;
      const name = "write" in step ? "Write" : "Append";
      emit({ type: "tool.called", id, name, summary: spec.path, input: { path: spec.path } });
      const full = inside(spec.path);
      mkdirSync(dirname(full), { recursive: true });
      if ("write" in step) writeFileSync(full, spec.content);
      else appendFileSync(full, spec.content);
      emit({ type: "tool.returned", id, isError: false, output: `wrote ${spec.content.length} characters to ${spec.path}` });
    } else if ("delete" in step) {
      emit({ type: "tool.called", id, name: "Delete", summary: step.delete, input: { path: step.delete } });
      rmSync(inside(step.delete), { force: true, recursive: true });
      emit({ type: "tool.returned", id, isError: false, output: `deleted ${step.delete}` });
    } else if ("run" in step) {
      emit({ type: "tool.called", id, name: "Bash", summary: step.run, input: { command: step.run } });
      const result = spawnSync("/bin/sh", ["-c", step.run], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
      const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
      const exitCode = result.status ?? 1;
      emit({ type: "tool.returned", id, isError: exitCode !== 0, exitCode, output: clip(output) });
    } else if ("sleep" in step) {
      await sleep(step.sleep);
    } else if ("hang" in step) {
      await new Promise<never>(() => setInterval(() => undefined, 60_000));
    } else {
      process.stdout.write(`${step.emit}\n`);
    }
  }
  if (entry.stderr !== undefined) process.stderr.write(`${entry.stderr}\n`);
  // No model is called: tokens and a cost are reported only where the script states them (to test budgets),
  // never made up.
  const { usage, costUsd } = entry;
  if (usage !== undefined || costUsd !== undefined) {
    emit({ type: "usage", usage: usage ?? { inputTokens: 0, outputTokens: 0 }, ...(costUsd !== undefined ? { costUsd } : {}) });
  }
  emit({
    type: "result",
    ok: entry.exit === 0,
    sessionId,
    ...(usage !== undefined ? { usage } : {}),
    ...(costUsd !== undefined ? { costUsd } : {}),
    ...(entry.result !== undefined ? { text: entry.result } : {}),
    turns: entry.steps.length,
    reason: entry.exit === 0 ? "success" : "error",
  });
  return entry.exit;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`scripted agent failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
