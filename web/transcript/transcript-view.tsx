// The transcript panel: the virtual list with its toolbar (search with next/previous, follow or paused, how many
// lines) and a detail view of the row opened, whose full text is fetched on demand (the list keeps 400 characters).
import { useEffect, useState } from "preact/hooks";
import type { JSX } from "preact";
import type { LineStore } from "./line-store.js";
import { VirtualList } from "./virtual-list.js";

export interface TranscriptViewProps {
  store: LineStore;
  version: number;
  /** The full text of a line for the detail view (the line's own text when nothing more is known). */
  detail(index: number): Promise<string>;
  /** Shown above the list: what this transcript is of, and a way to choose another. */
  header?: JSX.Element | null;
}

export function TranscriptView(props: TranscriptViewProps): JSX.Element {
  const { store } = props;
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState("");
  const [match, setMatch] = useState<{ index: number; query: string } | null>(null);
  const [searchNote, setSearchNote] = useState("");
  const [reveal, setReveal] = useState<{ index: number } | null>(null);
  const [open, setOpen] = useState<{ index: number; text: string } | null>(null);

  const search = (backwards: boolean): void => {
    if (query === "") return;
    const from = match !== null && match.query === query ? match.index : backwards ? store.total : (reveal?.index ?? -1);
    const found = store.find(query, from, backwards);
    if (found < 0) {
      setMatch(null);
      setSearchNote(`no line holds "${query}"`);
      return;
    }
    setMatch({ index: found, query });
    setSearchNote(`line ${(found + 1).toLocaleString("en")}`);
    setFollow(false);
    setReveal({ index: found });
  };

  const openRow = (index: number): void => {
    const line = store.line(index);
    setOpen({ index, text: line?.text ?? "" });
    void props.detail(index).then(
      (text) => setOpen((now) => (now !== null && now.index === index ? { index, text } : now)),
      (error: unknown) => setOpen((now) => (now !== null && now.index === index ? { index, text: `${now.text}\n\n(could not load the full event: ${String(error)})` } : now)),
    );
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") setOpen(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <section class="transcript" aria-label="transcript">
      {props.header ?? null}
      <div class="toolbar">
        <form
          class="search"
          role="search"
          onSubmit={(event) => {
            event.preventDefault();
            search(false);
          }}
        >
          <input
            type="search"
            name="q"
            placeholder="Search the transcript"
            value={query}
            onInput={(event) => {
              setQuery(event.currentTarget.value);
              setMatch(null);
              setSearchNote("");
            }}
            onKeyDown={(event) => {
              if (event.key === "Enter" && event.shiftKey) {
                event.preventDefault();
                search(true);
              }
            }}
          />
          <button type="button" class="prev" onClick={() => search(true)} title="Previous match (Shift+Enter)">
            ↑
          </button>
          <button type="submit" class="next" title="Next match (Enter)">
            ↓
          </button>
          <span class="search-note" aria-live="polite">
            {searchNote}
          </span>
        </form>
        <span class="count">{store.total.toLocaleString("en")} lines</span>
        <button type="button" class={`follow${follow ? " on" : ""}`} aria-pressed={follow} onClick={() => setFollow(!follow)}>
          {follow ? "Following" : "Paused: follow"}
        </button>
      </div>
      {store.dropped > 0 ? (
        <p class="note dropped-note">
          {store.dropped.toLocaleString("en")} earlier lines are not kept in the browser; <code>orch logs</code> shows them all.
        </p>
      ) : null}
      <VirtualList
        store={store}
        version={props.version}
        follow={follow}
        onFollowChange={setFollow}
        reveal={reveal}
        highlight={match === null ? (query === "" ? null : { query, index: -1 }) : match}
        onOpen={openRow}
        selected={open?.index ?? null}
      />
      {open !== null ? (
        <div class="detail" role="dialog" aria-label="event detail">
          <div class="detail-bar">
            <span>line {(open.index + 1).toLocaleString("en")}</span>
            <button type="button" onClick={() => setOpen(null)}>
              Close
            </button>
          </div>
          <pre>{open.text}</pre>
        </div>
      ) : null}
    </section>
  );
}
