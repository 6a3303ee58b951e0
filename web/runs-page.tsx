// The runs list: every run of the repository, newest first, with its status, progress, elapsed time and cost;
// refreshed when the journal says anything changed (the all-runs stream), at most once a second.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { describeError, getJson } from "./api/client.js";
import { RunList, type RunListItem } from "./api/schemas.js";
import { liveJournal } from "./api/stream.js";
import { duration, percent, usd } from "./format.js";
import { useNow, useThrottle } from "./hooks.js";
import { runHref } from "./route.js";
import { StatusBadge, Progress } from "./widgets.js";

export function RunsPage(props: { onLive(live: boolean): void }): JSX.Element {
  const [runs, setRuns] = useState<RunListItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useNow();
  const load = (): void => {
    getJson("/api/runs?limit=200", RunList).then(
      (list) => {
        setRuns(list.runs);
        setError(null);
      },
      (e: unknown) => setError(describeError(e)),
    );
  };
  const refresh = useThrottle(load, 1000);
  useEffect(() => {
    load();
    const live = liveJournal({
      stream: "/api/stream",
      pages: null,
      onEvents: (events) => {
        if (events.some((e) => e.type !== "agent.emitted")) refresh();
      },
      onLive: props.onLive,
      onError: (e) => setError(describeError(e)),
    });
    return () => live.close();
  }, []);

  // The list's cost, where the server gives it (a run's page always has it).
  const withCost = (runs ?? []).some((r) => r.costUsd !== null && r.costUsd !== undefined);
  return (
    <main class="page runs-page">
      <h1>Runs</h1>
      {error !== null ? <p class="error">{error}</p> : null}
      {runs === null ? (
        <p class="muted">Loading…</p>
      ) : runs.length === 0 ? (
        <p class="muted">
          No runs yet. Start one with <code>orch run "&lt;goal&gt;" --verify "&lt;command&gt;"</code>; it appears here at once.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Progress</th>
                <th class="hide-narrow">Attempts</th>
                <th>Elapsed</th>
                {withCost ? <th>Cost</th> : null}
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr key={run.runId} data-run={run.runId}>
                  <td>
                    <a href={runHref(run.runId)}>{run.runId}</a>
                    <div class="muted goal">{run.goal}</div>
                  </td>
                  <td>
                    <StatusBadge status={run.status} stale={run.stale === true} />
                  </td>
                  <td>
                    <Progress value={run.progress} />
                    <span class="muted">{percent(run.progress)}</span>
                  </td>
                  <td class="hide-narrow">
                    {run.attempts}
                    {run.maxAttempts !== null && run.maxAttempts !== undefined ? `/${run.maxAttempts}` : ""}
                  </td>
                  <td>{duration(run.elapsedMs ?? (isLive(run.status) ? now - Date.parse(run.createdAt) : null))}</td>
                  {withCost ? <td>{usd(run.costUsd)}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

const isLive = (status: string): boolean => status === "running" || status === "pending" || status === "planning" || status === "waiting";
