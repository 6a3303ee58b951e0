// Review cost: the built `orch run` of a plan of independent tasks, each implemented by the real Claude Code CLI on
// one model and reviewed by the same CLI on another, both scripted through the model server (the implementer writes
// its file with one Bash call and ends its turn; the reviewer reads the prompt and approves). Figures: reviewer model
// calls per task and round in this fault-free case (target 1), and the reviews' wall time as a share of the
// implementers' on the same scripted work (printed; the issue names no bound). The whole-run review before delivery
// is one more call, counted apart.
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { parseJsonOutput, RunResultJson, runProcess } from "../test/support/cli.js";
import { claudeBash, claudeEnv, startModelServer, type Script } from "../test/support/model-server/server.js";
import { makeTempRepo } from "../test/support/repo.js";
import { isMain, runBenchMain, say } from "./support/main.js";
import { baseline, type BenchResult } from "./support/result.js";

const TASKS = Number(process.env.ORCH_BENCH_REVIEW_TASKS ?? 6);
const RUN_TIMEOUT_MS = 300_000;
const IMPLEMENTER_MODEL = "claude-implementer-bench";
const REVIEWER_MODEL = "claude-reviewer-bench";

// Paths from dist-bench/bench/: the orch a user runs (`npm run build`) and the agent CLIs.
const ROOT = resolve(import.meta.dirname, "../..");
const ORCH_MAIN = resolve(ROOT, "dist/cli/main.js");
const PATH_WITH_BIN = `${resolve(ROOT, "node_modules/.bin")}:${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`;

const approve = '```json\n{"verdict": "approve", "summary": "the file is written as asked", "findings": []}\n```';

/** Concurrency 1: per task the implementer's two calls, then its review; the whole-run review last. */
function script(tasks: number): Script {
  const perTask = Array.from({ length: tasks }, (_, i) => [
    { ...claudeBash(`mkdir -p out && echo ${i} > out/t${i}.txt`, "write the file"), model: IMPLEMENTER_MODEL },
    { text: "Wrote the file.", model: IMPLEMENTER_MODEL },
    { match: "You are the reviewer of a change", text: approve, model: REVIEWER_MODEL },
  ]).flat();
  return [...perTask, { match: "You are the reviewer of a whole run", text: approve, model: REVIEWER_MODEL }];
}

interface AttemptRow {
  task_id: string;
  role: string;
  duration_ms: number | null;
}

export async function benchReview(): Promise<BenchResult> {
  if (!Number.isInteger(TASKS) || TASKS < 2) throw new Error(`ORCH_BENCH_REVIEW_TASKS must be an integer ≥ 2, got ${String(TASKS)}`);
  const plan = {
    tasks: Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, title: `write out/t${i}.txt`, goal: `write out/t${i}.txt`, dependsOn: [], verify: [`test -f out/t${i}.txt`] })),
  };
  const repo = makeTempRepo({ files: { "README.md": "# bench\n", "plan.json": JSON.stringify(plan) }, prefix: "orch-bench-review-" });
  const turns = script(TASKS);
  const server = await startModelServer({ script: turns });
  try {
    const env = { ...claudeEnv({ url: server.url, home: repo.home, tmp: repo.tmp, path: PATH_WITH_BIN, maxRetries: 0, timeoutMs: 300_000 }), GIT_CONFIG_NOSYSTEM: "1", GIT_CEILING_DIRECTORIES: repo.root };
    const args = ["run", "write the files", "--plan-file", "plan.json", "--verify", "true", "--agent", "claude-code", "--model", IMPLEMENTER_MODEL];
    args.push("--reviewer", `claude-code:${REVIEWER_MODEL}`, "--concurrency", "1", "--no-push", "--json");
    const result = await runProcess(process.execPath, [ORCH_MAIN, ...args], { cwd: repo.dir, env, timeoutMs: RUN_TIMEOUT_MS });
    if (result.timedOut) throw new Error(`orch was killed after ${RUN_TIMEOUT_MS} ms (${server.modelRequests().length} model calls by then)`);
    const out = parseJsonOutput(RunResultJson, result.stdout);
    if (out.status !== "succeeded" || server.problems().length > 0) {
      throw new Error(`the run should succeed with the script's ${turns.length} calls; it ended ${out.status} (${out.reason ?? ""}); ${server.problems().join("; ")}`);
    }
    const db = new Database(join(repo.dir, ".orch", "orch.db"), { readonly: true, fileMustExist: true });
    const attempts = db.prepare("SELECT task_id, role, duration_ms FROM attempts WHERE run_id = ?").all(out.runId) as AttemptRow[];
    db.close();
    const ofTasks = attempts.filter((a) => !a.task_id.startsWith("_"));
    const implementers = ofTasks.filter((a) => a.role === "implementer");
    const taskReviews = ofTasks.filter((a) => a.role === "reviewer");
    const wholeRun = attempts.filter((a) => a.task_id.startsWith("_review-"));
    const calls = server.modelRequests();
    const reviewerCalls = calls.filter((r) => r.model === REVIEWER_MODEL).length;
    const taskReviewerCalls = reviewerCalls - wholeRun.length;
    const rounds = taskReviews.length;
    const sum = (rows: readonly AttemptRow[]) => rows.reduce((total, a) => total + (a.duration_ms ?? 0), 0);
    const reviewMs = sum(taskReviews);
    const implementerMs = sum(implementers);
    const perRound = taskReviewerCalls / Math.max(1, rounds);
    return {
      name: "review",
      metrics: [
        {
          bench: "review",
          label: `reviewer calls per task and round (${TASKS} tasks, fault-free)`,
          figure: perRound,
          unit: "ratio",
          baselines: [baseline("review rounds", rounds, "count", taskReviewerCalls)],
          target: "= 1",
          pass: perRound === 1 && rounds === TASKS,
        },
        {
          bench: "review",
          label: "review wall time as a share of the implementer's",
          figure: reviewMs / Math.max(1, implementerMs),
          unit: "ratio",
          baselines: [baseline("implementer attempts", implementerMs, "ms", reviewMs)],
          target: "printed (no bound named)",
          pass: true,
        },
      ],
      notes: [
        `review: ${TASKS} tasks, ${implementers.length} implementer attempts (${(implementerMs / 1000).toFixed(1)} s), ${taskReviews.length} task reviews (${(reviewMs / 1000).toFixed(1)} s), ` +
          `${wholeRun.length} whole-run review(s) (${(sum(wholeRun) / 1000).toFixed(1)} s); model calls ${calls.length} (reviewer ${reviewerCalls}); run wall ${(result.ms / 1000).toFixed(1)} s`,
      ],
    };
  } finally {
    await server.close();
    repo.remove();
  }
}

if (isMain(import.meta.url)) {
  say(`review: a plan of ${TASKS} tasks, Claude Code implementing on one model and reviewing on another, through ${ORCH_MAIN}…`);
  await runBenchMain(benchReview);
}
