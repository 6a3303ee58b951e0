// A run's page: what it is and where it stands, the controls, stats cards, criteria, task graph, agent slots, the
// live transcript (the whole run's, or one attempt's), the attempts and the report. The status view and the
// attempts are read again (at most every 700 ms) when the journal shows a change of state; agent output only
// feeds the transcript and the slots.
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, describeError, getJson, runPath } from "../api/client.js";
import { AttemptList, Report, RunView, type AttemptView, type JournalEvent } from "../api/schemas.js";
import { liveJournal } from "../api/stream.js";
import { useNow, useThrottle } from "../hooks.js";
import { runHref } from "../route.js";
import { TranscriptView } from "../transcript/transcript-view.js";
import { Progress, StatusBadge } from "../widgets.js";
import { foldFacts, newFacts } from "./fold.js";
import { Markdown } from "./markdown.js";
import { Attempts, Controls, Criteria, Held, Slots, StatsCards } from "./panels.js";
import { TaskGraph } from "./task-graph.js";
import { TranscriptFeed } from "./transcript-feed.js";

const TERMINAL = new Set(["succeeded", "failed", "stalled", "stopped", "aborted"]);

/**
 * How often new lines redraw the transcript at most: every 100 ms while they trickle, every 500 ms while they pour
 * (more than FAST_LINES since the last draw), since nobody reads hundreds of lines a second and a redraw, its layout
 * and its paint cost the page more than the lines themselves. Scrolling is never held back.
 */
const LIVE_REDRAW_MS = 100;
const FAST_REDRAW_MS = 500;
const FAST_LINES = 100;

/** The transcript of a feed, redrawn as lines come in; only this part of the page redraws at the stream's pace. */
function LiveTranscript(props: { feed: TranscriptFeed; header: JSX.Element }): JSX.Element {
  const { feed } = props;
  const [version, setVersion] = useState(feed.store.version);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let frame = 0;
    let last = 0;
    let drawnTotal = feed.store.total;
    const draw = (): void => {
      frame = requestAnimationFrame(() => {
        frame = 0;
        last = performance.now();
        drawnTotal = feed.store.total;
        setVersion(feed.store.version);
      });
    };
    const stop = feed.onChange(() => {
      if (timer !== undefined || frame !== 0) return;
      const every = feed.store.total - drawnTotal > FAST_LINES ? FAST_REDRAW_MS : LIVE_REDRAW_MS;
      const wait = last + every - performance.now();
      if (wait <= 0) draw();
      else {
        timer = setTimeout(() => {
          timer = undefined;
          draw();
        }, wait);
      }
    });
    return () => {
      stop();
      clearTimeout(timer);
      cancelAnimationFrame(frame);
    };
  }, [feed]);
  return <TranscriptView store={feed.store} version={version} detail={(i) => feed.detail(i)} header={props.header} />;
}

/** Above the transcript: whose it is, and a way to choose another attempt's. */
function TranscriptHead(props: { runId: string; attemptId: string | null; attempts: readonly AttemptView[] }): JSX.Element {
  const { runId, attemptId } = props;
  return (
    <div class="transcript-head">
      <h2>Transcript</h2>
      <label>
        <span class="muted">of </span>
        <select
          value={attemptId ?? ""}
          onChange={(event) => {
            const value = event.currentTarget.value;
            location.hash = value === "" ? runHref(runId) : `${runHref(runId)}/attempts/${encodeURIComponent(value)}`;
          }}
        >
          <option value="">the whole run</option>
          {props.attempts.map((a) => (
            <option key={a.id} value={a.id}>
              {a.id}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

export function RunPage(props: { runId: string; attemptId: string | null; onLive(live: boolean): void }): JSX.Element {
  const { runId, attemptId } = props;
  const [view, setView] = useState<RunView | null>(null);
  const [attempts, setAttempts] = useState<AttemptView[]>([]);
  const [report, setReport] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const facts = useMemo(newFacts, [runId]);
  const runFeed = useMemo(() => new TranscriptFeed(runId, null), [runId]);
  const attemptFeed = useMemo(() => (attemptId === null ? null : new TranscriptFeed(runId, attemptId)), [runId, attemptId]);
  // Criteria and slots, folded from every event, are drawn with the page's one-second clock (and any state change).
  const now = useNow();

  const loadState = (): void => {
    Promise.all([getJson(runPath(runId), RunView), getJson(`${runPath(runId)}/attempts`, AttemptList)]).then(
      ([v, a]) => {
        setView(v);
        setAttempts(a.attempts);
        setError(null);
        if (TERMINAL.has(v.status) || v.status === "paused") loadReport();
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 404) setMissing(true);
        setError(describeError(e));
      },
    );
  };
  const loadReport = (): void => {
    getJson(`${runPath(runId)}/report`, Report).then(
      (r) => setReport(r.markdown),
      () => setReport(null),
    );
  };
  const refresh = useThrottle(loadState, 700);

  useEffect(() => {
    loadState();
    const live = liveJournal({
      stream: `${runPath(runId)}/stream`,
      pages: `${runPath(runId)}/events`,
      onEvents: (events: JournalEvent[]) => {
        for (const e of events) foldFacts(facts, e);
        runFeed.add(events);
        if (events.some((e) => e.type !== "agent.emitted")) refresh();
      },
      onLive: props.onLive,
      onError: (e) => setError(describeError(e)),
    });
    // Elapsed time and ages move on without events.
    const timer = setInterval(refresh, 5_000);
    return () => {
      live.close();
      clearInterval(timer);
    };
  }, [runId]);

  useEffect(() => {
    if (attemptFeed === null) return;
    const live = liveJournal({
      stream: `${runPath(runId)}/stream`,
      pages: `${runPath(runId)}/events?attempt=${encodeURIComponent(attemptFeed.attemptId ?? "")}`,
      onEvents: (events) => attemptFeed.add(events),
      onLive: () => undefined,
      onError: (e) => setError(describeError(e)),
    });
    return () => live.close();
  }, [attemptFeed]);

  // Drawn again only when what they show changes, not with every tick of the clock (Preact skips an element it is
  // given again): the transcript redraws itself as lines come in.
  const feed = attemptFeed ?? runFeed;
  const transcript = useMemo(() => <LiveTranscript key={attemptId ?? ""} feed={feed} header={<TranscriptHead runId={runId} attemptId={attemptId} attempts={attempts} />} />, [feed, attempts]);
  const graph = useMemo(() => (view === null ? null : <TaskGraph tasks={view.tasks} />), [view]);
  const reportView = useMemo(() => (report === null ? null : <Markdown text={report} />), [report]);

  if (missing) {
    return (
      <main class="page">
        <p class="error">{error}</p>
        <a href="#/">All runs</a>
      </main>
    );
  }
  if (view === null) {
    return (
      <main class="page">
        {error !== null ? <p class="error">{error}</p> : <p class="muted">Loading {runId}…</p>}
      </main>
    );
  }

  return (
    <main class="page run-page" data-run={runId}>
      <p>
        <a href="#/">← All runs</a>
      </p>
      <h1>
        {view.goal} <StatusBadge status={view.status} stale={view.stale === true} />
      </h1>
      <p class="muted">
        {runId} · branch <code>{view.branch}</code>
        {view.reviewer ? ` · ${view.reviewer}` : ""}
      </p>
      <Progress value={view.progress} />
      {error !== null ? <p class="error">{error}</p> : null}
      <div class="now">
        {view.now ? (
          <p>
            <strong>Now:</strong> <span class="now-text">{view.now}</span>
          </p>
        ) : null}
        <p>
          <strong>Next:</strong> {view.next ?? ""}
        </p>
        {view.reason ? <p class="muted">Reason: {view.reason}</p> : null}
        {view.lastResult ? <p class="muted">Last result: {view.lastResult}</p> : null}
        {(view.warnings ?? []).map((w, i) => (
          <p key={i} class="warning">
            ⚠ {w}
          </p>
        ))}
      </div>
      <Controls runId={runId} status={view.status} stale={view.stale === true} onDone={loadState} />
      <Held runId={runId} view={view} />
      <StatsCards view={view} attempts={attempts} now={now} />
      <div class="grid2">
        <section>
          <h2>Criteria</h2>
          <Criteria criteria={[...facts.criteria.values()]} />
        </section>
        <section>
          <h2>Agents</h2>
          <Slots runId={runId} attempts={attempts} lastOutput={facts.lastOutput} now={now} />
        </section>
      </div>
      <h2>Tasks</h2>
      {graph}
      {transcript}
      <h2>Attempts</h2>
      <Attempts runId={runId} attempts={attempts} now={now} />
      <h2>Report</h2>
      {reportView ?? <p class="muted">{TERMINAL.has(view.status) ? "No report was written." : "The report is written when the run ends."}</p>}
    </main>
  );
}
