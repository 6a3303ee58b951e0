// The live status line of a foreground run: attempt n/m, elapsed/limit, progress, and what the agent is
// doing now. On a terminal it redraws one line in place; elsewhere it prints a line per milestone only.
import { describeAgentEvent } from "../core/agent-event.js";
import { escapeControls } from "../core/terminal-text.js";
import { formatClock } from "../core/duration.js";
import type { Activity } from "../engine/converge.js";
import type { Output } from "./output.js";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class StatusLine {
  private attempt = 0;
  private progress = 0;
  private doing = "starting";
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly output: Output,
    private readonly maxAttempts: number,
    private readonly startedAt: number,
    private readonly limitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.output.errIsTTY) {
      this.timer = setInterval(() => this.draw(), 120);
      this.timer.unref();
    }
  }

  update(activity: Activity): void {
    switch (activity.kind) {
      case "attempt":
        this.attempt = activity.attempt;
        this.doing = `starting the agent${activity.model ? ` (${activity.model})` : ""}`;
        this.milestone(`attempt ${activity.attempt}/${activity.maxAttempts} started`);
        break;
      case "agent":
        if (activity.event.type === "unknown" || activity.event.type === "usage") return;
        this.doing = describeAgentEvent(activity.event).replace(/\s+/g, " ");
        break;
      case "verifying":
        this.doing = "verifying";
        break;
      case "verified":
        this.progress = activity.progress;
        this.doing = `${activity.passed}/${activity.total} criteria met`;
        this.milestone(
          `attempt ${activity.attempt}: ${activity.passed}/${activity.total} criteria met, progress ${Math.round(activity.progress * 100)}%` +
            (activity.timedOut.length > 0 ? ` (timed out: ${activity.timedOut.map((c) => `\`${c}\``).join(", ")})` : ""),
        );
        break;
      case "waiting":
        this.doing = `waiting until ${new Date(activity.until).toLocaleTimeString()} (${activity.reason})`;
        this.milestone(this.doing);
        break;
    }
  }

  /** The line as it is drawn now (also used by tests). */
  render(): string {
    const elapsed = this.now() - this.startedAt;
    const head = `${SPINNER[this.frame % SPINNER.length] ?? ""} attempt ${this.attempt}/${this.maxAttempts} · ${formatClock(elapsed)}/${formatClock(this.limitMs)} · ${Math.round(this.progress * 100)}% · `;
    const room = Math.max(10, this.output.columns - head.length - 1);
    const doing = this.doing.length > room ? `${this.doing.slice(0, room - 1)}…` : this.doing;
    return `${head}${doing}`;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
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

  private milestone(text: string): void {
    if (this.output.errIsTTY) {
      this.clear();
      this.output.err(`  ${text}`);
    } else {
      this.output.err(`orch: ${text}`);
    }
  }
}
