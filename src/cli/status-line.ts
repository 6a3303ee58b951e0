// The live status line of a foreground run: attempt n/m, elapsed of the limit, progress, and what the agent is
// doing now. On a terminal it redraws one line in place; elsewhere (a pipe, a file, CI) it prints a line per
// milestone and each of the agent's own lines, since nothing is redrawn there. In a planned run, tasks work side
// by side: every line names its task, and the redrawn line shows the task that spoke last.
import { escapeControls } from "../core/terminal-text.js";
import { describeAgentEvent } from "../core/agent-event.js";
import { formatDuration, formatTimestamp } from "../core/duration.js";
import { describeVerdict } from "../core/progress.js";
import type { TaskActivity } from "../engine/task-runner.js";
import { agentLine } from "./agent-lines.js";
import type { Output } from "./output.js";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** What one task's loop is at, as the line last heard. */
interface TaskState {
  attempt: number;
  progress: number;
  doing: string;
}

export interface StatusLineOptions {
  maxAttempts: number;
  startedAt: number;
  limitMs: number;
  /** The run has several tasks (a plan): each line names the task it is about. */
  withTask: boolean;
  now?: () => number;
}

export class StatusLine {
  /** Tasks whose loop runs (an ended one's state goes with it, so a long run holds only those under way). */
  private readonly tasks = new Map<string, TaskState>();
  /** The state of the task that spoke last, kept on the line after its loop ended until another speaks. */
  private shown: TaskState | undefined;
  /** The task that spoke last: the one the redrawn line shows. */
  private current: string | undefined;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private readonly now: () => number;

  constructor(
    private readonly output: Output,
    private readonly options: StatusLineOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Tasks whose state the line holds: those whose loop runs. */
  get following(): number {
    return this.tasks.size;
  }

  start(): void {
    if (this.output.errIsTTY) {
      this.timer = setInterval(() => this.draw(), 120);
      this.timer.unref();
    }
  }

  update(activity: TaskActivity): void {
    if (activity.kind === "ended") {
      // The line keeps showing it (`shown`) until another task speaks.
      this.tasks.delete(activity.taskId);
      return;
    }
    const state = this.stateOf(activity.taskId);
    switch (activity.kind) {
      case "attempt":
        state.attempt = activity.attempt;
        state.doing = `starting the agent${activity.model ? ` (${activity.model})` : ""}`;
        this.milestone(activity.taskId, `attempt ${activity.attempt}/${activity.maxAttempts} started`);
        break;
      case "agent": {
        if (activity.event.type === "unknown" || activity.event.type === "usage") return;
        state.doing = describeAgentEvent(activity.event).replace(/\s+/g, " ");
        // Off a terminal nothing is redrawn, so what the agent says is printed as it says it.
        if (!this.output.errIsTTY) {
          const text = agentLine(`orch: ${this.options.withTask ? activity.taskId : ""}#${state.attempt} `, activity.event);
          if (text !== undefined) this.output.err(escapeControls(text));
        }
        break;
      }
      case "verifying":
        state.doing = "verifying";
        break;
      case "reviewing":
        state.doing = `in review by ${activity.agent}${activity.model !== undefined ? `:${activity.model}` : ""}`;
        this.milestone(activity.taskId, `review round ${activity.round} started (${activity.agent}${activity.model !== undefined ? `:${activity.model}` : ""})`);
        break;
      case "verified":
        state.progress = activity.progress;
        state.doing = `criteria ${activity.passed}/${activity.total} passed`;
        this.milestone(
          activity.taskId,
          `attempt ${activity.attempt}: ${describeVerdict(activity.passed, activity.total, activity.progress)}` +
            (activity.timedOut.length > 0 ? ` (timed out: ${activity.timedOut.map((c) => `\`${c}\``).join(", ")})` : ""),
        );
        break;
      case "waiting":
        state.doing = `waiting until ${formatTimestamp(activity.until)} (${activity.reason})`;
        this.milestone(activity.taskId, state.doing);
        break;
    }
    this.current = activity.taskId;
    this.shown = state;
  }

  /** The line as it is drawn now (also used by tests). */
  render(): string {
    const state = this.shown ?? { attempt: 0, progress: 0, doing: "starting" };
    const elapsed = this.now() - this.options.startedAt;
    const task = this.options.withTask && this.current !== undefined ? `${this.current} ` : "";
    const head = `${SPINNER[this.frame % SPINNER.length] ?? ""} ${task}attempt ${state.attempt}/${this.options.maxAttempts} · ${elapsed < 1_000 ? "0s" : formatDuration(elapsed)} of ${formatDuration(this.options.limitMs)} · progress ${Math.round(state.progress * 100)}% · `;
    const room = Math.max(10, this.output.columns - head.length - 1);
    const doing = state.doing.length > room ? `${state.doing.slice(0, room - 1)}…` : state.doing;
    return `${head}${doing}`;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private stateOf(taskId: string): TaskState {
    let state = this.tasks.get(taskId);
    if (state === undefined) {
      state = { attempt: 0, progress: 0, doing: "starting" };
      this.tasks.set(taskId, state);
    }
    return state;
  }

  private draw(): void {
    this.frame += 1;
    // Only the line's own controls reach the terminal: what an agent said is shown, never obeyed.
    process.stderr.write(`\r\u001b[2K${escapeControls(this.render())}`);
    this.drawn = true;
  }

  private clear(): void {
    if (this.drawn) process.stderr.write("\r\u001b[2K");
    this.drawn = false;
  }

  private milestone(taskId: string, text: string): void {
    const said = this.options.withTask ? `${taskId}: ${text}` : text;
    if (this.output.errIsTTY) {
      this.clear();
      this.output.err(`  ${said}`);
    } else {
      this.output.err(`orch: ${said}`);
    }
  }
}
