// The run page's panels: stats cards, the criteria, the agent slots, the attempts, what waits for a human, and the
// controls (pause, resume, stop, and abort behind a confirmation).
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { describeError, postJson, runPath } from "../api/client.js";
import { ControlResult, type AttemptView, type RunView } from "../api/schemas.js";
import { age, count, duration, percent, usd } from "../format.js";
import { attemptHref } from "../route.js";
import { StatusBadge } from "../widgets.js";
import { agentRow } from "../transcript/format.js";
import { atMs, type CriterionState, type LastOutput } from "./fold.js";

const LIVE_ATTEMPT = new Set(["starting", "running", "verifying"]);

function ms(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = atMs(value);
  return Number.isFinite(n) ? n : null;
}

export function attemptCost(a: AttemptView): number | null {
  return a.costUsd ?? a.cost ?? null;
}

export function attemptTokens(a: AttemptView): string {
  if (a.tokens === null || a.tokens === undefined) return "–";
  if (typeof a.tokens === "number") return count(a.tokens);
  return `${count(a.tokens.input ?? 0)} / ${count(a.tokens.output ?? 0)}`;
}

export function failureKind(a: AttemptView): string | null {
  if (a.failureKind !== null && a.failureKind !== undefined) return a.failureKind;
  if (a.failure === null || a.failure === undefined) return null;
  return typeof a.failure === "string" ? a.failure : a.failure.kind;
}

function recovery(a: AttemptView): string {
  if (a.recovery === null || a.recovery === undefined) return "";
  if (typeof a.recovery === "string") return a.recovery;
  const tier = a.recovery["tier"] ?? a.recovery["action"] ?? a.recovery["kind"];
  return typeof tier === "string" ? tier : JSON.stringify(a.recovery);
}

function Card(props: { label: string; value: string; title?: string; name: string }): JSX.Element {
  return (
    <div class="card" data-card={props.name} title={props.title}>
      <div class="label">{props.label}</div>
      <div class="value">{props.value}</div>
    </div>
  );
}

export function StatsCards(props: { view: RunView; attempts: readonly AttemptView[]; now: number }): JSX.Element {
  const { view, attempts } = props;
  const s = view.schedule;
  const ended = attempts.map((a) => ({ start: ms(a.startedAt), end: ms(a.endedAt) })).filter((a) => a.start !== null && a.end !== null);
  const avg = s?.avgAttemptMs ?? (ended.length === 0 ? null : ended.reduce((sum, a) => sum + ((a.end ?? 0) - (a.start ?? 0)), 0) / ended.length);
  const finished = attempts.filter((a) => a.status === "succeeded" || a.status === "failed");
  const successRate = s?.successRate ?? (finished.length === 0 ? null : finished.filter((a) => a.status === "succeeded").length / finished.length);
  const running = attempts.filter((a) => LIVE_ATTEMPT.has(a.status)).length;
  const concurrency = s?.concurrency ?? 1;
  return (
    <div class="cards">
      <Card name="attempts" label="Attempts" value={`${view.attempts} / ${view.maxAttempts}`} />
      <Card name="cycles" label="Cycles per task" value={s?.cyclesPerTask !== null && s?.cyclesPerTask !== undefined ? s.cyclesPerTask.toFixed(1) : String(view.attempts)} />
      <Card name="avg-attempt" label="Average attempt" value={duration(avg)} />
      <Card
        name="parallelism"
        label="Slots busy / parallelism"
        value={`${running} of ${concurrency}${s?.parallelism !== null && s?.parallelism !== undefined ? ` · ${s.parallelism.toFixed(1)}` : ""}`}
        title="agents running now of the run's concurrency · agent time over wall time"
      />
      <Card name="success" label="Success rate" value={percent(successRate)} />
      <Card name="progress" label="Progress" value={percent(view.progress)} />
      <Card name="elapsed" label="Elapsed / limit" value={`${duration(view.elapsedMs)} / ${duration(view.maxMs)}`} />
      <Card name="cost" label="Cost" value={usd(view.costUsd)} />
      <Card name="tokens" label="Tokens in / out" value={`${count(view.tokens.input)} / ${count(view.tokens.output)}`} />
      <Card
        name="recovery"
        label="Recovered / escalated"
        value={`${view.figures?.recovered ?? 0} / ${view.figures?.escalated ?? 0}`}
        title={`waited ${duration(view.figures?.waitedMs ?? 0)} on limits; ${view.figures?.retryCalls ?? 0} retry calls`}
      />
    </div>
  );
}

export function Criteria(props: { criteria: readonly CriterionState[] }): JSX.Element {
  if (props.criteria.length === 0) return <p class="muted">No criteria journaled yet.</p>;
  return (
    <div class="table-wrap">
      <table class="criteria">
        <tbody>
          {props.criteria.map((c) => (
            <tr key={c.command} data-criterion={c.command} data-passed={c.passed === null ? "unknown" : String(c.passed)}>
              <td>{c.passed === null ? "○" : c.passed ? "✓" : "✗"}</td>
              <td>
                <code>{c.command}</code>
              </td>
              <td class="muted">
                {c.detail}
                {c.taskId !== null ? ` · ${c.taskId}` : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Slots(props: { runId: string; attempts: readonly AttemptView[]; lastOutput: ReadonlyMap<string, LastOutput>; now: number }): JSX.Element {
  const live = props.attempts.filter((a) => LIVE_ATTEMPT.has(a.status));
  if (live.length === 0) return <p class="muted">No agent is running now.</p>;
  return (
    <div class="slots">
      {live.map((a) => {
        const output = props.lastOutput.get(a.id);
        const last = output === undefined ? undefined : { at: output.at, text: agentRow(output.data).text };
        return (
          <div class="card slot" key={a.id} data-attempt={a.id}>
            <div>
              <strong>{a.taskId}</strong> <StatusBadge status={a.status} />
            </div>
            <div class="muted">
              {a.agent ?? "agent"}
              {a.model !== null && a.model !== undefined ? ` · ${a.model}` : ""}
              {a.role !== null && a.role !== undefined && a.role !== "implementer" ? ` · ${a.role}` : ""}
            </div>
            <div class="doing" title={last?.text ?? ""}>
              {a.status === "verifying" ? "verifying" : (last?.text ?? "starting the agent")}
            </div>
            <div class="muted">
              last output {age(last?.at ?? null, props.now)} · <a href={attemptHref(props.runId, a.id)}>transcript</a>
            </div>
          </div>
        );
      })}
    </div>
  );
}

export function Attempts(props: { runId: string; attempts: readonly AttemptView[]; now: number }): JSX.Element {
  if (props.attempts.length === 0) return <p class="muted">No attempts yet.</p>;
  return (
    <div class="table-wrap">
      <table class="attempts">
        <thead>
          <tr>
            <th>Attempt</th>
            <th>Status</th>
            <th class="hide-narrow">Agent</th>
            <th>Failure</th>
            <th class="hide-narrow">Recovery</th>
            <th>Time</th>
            <th class="hide-narrow">Cost</th>
            <th class="hide-narrow">Tokens</th>
          </tr>
        </thead>
        <tbody>
          {[...props.attempts].reverse().map((a) => {
            const start = ms(a.startedAt);
            const end = ms(a.endedAt);
            return (
              <tr key={a.id} data-attempt={a.id}>
                <td>
                  <a href={attemptHref(props.runId, a.id)}>{a.id}</a>
                </td>
                <td>
                  <StatusBadge status={a.status} />
                </td>
                <td class="hide-narrow">
                  {a.agent ?? ""}
                  {a.model !== null && a.model !== undefined ? ` · ${a.model}` : ""}
                </td>
                <td>{failureKind(a) ?? ""}</td>
                <td class="hide-narrow">{recovery(a)}</td>
                <td>{a.durationMs !== null && a.durationMs !== undefined ? duration(a.durationMs) : start === null ? "–" : duration((end ?? props.now) - start)}</td>
                <td class="hide-narrow">{usd(attemptCost(a))}</td>
                <td class="hide-narrow">{attemptTokens(a)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Tasks whose commit the approval gate holds for a human, as `orch status` shows them. */
export function Held(props: { runId: string; view: RunView }): JSX.Element | null {
  const held = props.view.tasks.filter((t) => t.held !== null && t.held !== undefined);
  if (held.length === 0) return null;
  return (
    <section class="held">
      <h2>Waiting for a human</h2>
      <ul>
        {held.map((t) => (
          <li key={t.id} data-held={t.id}>
            <strong>{t.id}</strong> held: {t.held} — <code>{`orch approve ${props.runId}/${t.id}`}</code> or <code>{`orch reject ${props.runId}/${t.id} --reason "…"`}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}

type Action = "pause" | "resume" | "stop" | "abort";

export function Controls(props: { runId: string; status: string; stale: boolean; onDone(): void }): JSX.Element {
  const [busy, setBusy] = useState<Action | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const ended = ["succeeded", "failed", "stalled", "stopped", "aborted"].includes(props.status);
  const act = (action: Action): void => {
    setBusy(action);
    setConfirming(false);
    postJson(`${runPath(props.runId)}/${action}`, ControlResult).then(
      (result) => {
        setMessage({ text: result.message ?? `${action}: ${result.status ?? "done"}`, error: !result.ok });
        setBusy(null);
        props.onDone();
      },
      (error: unknown) => {
        setMessage({ text: describeError(error), error: true });
        setBusy(null);
      },
    );
  };
  return (
    <div class="controls" aria-label="controls">
      <button type="button" data-action="pause" disabled={ended || busy !== null || props.status === "paused"} onClick={() => act("pause")}>
        Pause
      </button>
      <button type="button" data-action="resume" title="a paused or waiting run, or one whose supervisor is gone" disabled={busy !== null || !(props.status === "paused" || props.status === "waiting" || props.stale)} onClick={() => act("resume")}>
        Resume
      </button>
      <button type="button" data-action="stop" disabled={ended || busy !== null} onClick={() => act("stop")}>
        Stop
      </button>
      {confirming ? (
        <span class="confirm" role="alertdialog" aria-label="confirm abort">
          Abort kills the agents now.
          <button type="button" class="danger" data-action="abort-confirm" onClick={() => act("abort")}>
            Abort now
          </button>
          <button type="button" data-action="abort-cancel" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" class="danger" data-action="abort" disabled={ended || busy !== null} onClick={() => setConfirming(true)}>
          Abort…
        </button>
      )}
      {busy !== null ? <span class="muted">{busy}…</span> : null}
      {message !== null ? (
        <span class={message.error ? "error control-message" : "muted control-message"} role="status">
          {message.text}
        </span>
      ) : null}
    </div>
  );
}
