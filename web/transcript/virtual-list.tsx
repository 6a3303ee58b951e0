// A virtual list over a LineStore: only the rows in view are in the DOM, at a fixed row height. The scroll area is
// at most MAX_SCROLL_PX tall (browsers cap an element's height near 33M px); past that a scroll position maps to a
// line by proportion. Follow mode keeps the end in view; scrolling up stops it, reaching the end again restarts it.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { JSX } from "preact";
import { KIND_CLASS } from "./format.js";
import type { LineStore } from "./line-store.js";

export const ROW_HEIGHT = 20;
export const MAX_SCROLL_PX = 8_000_000;

export interface VirtualListProps {
  store: LineStore;
  /** The store's version when last drawn: a new one redraws. */
  version: number;
  follow: boolean;
  onFollowChange(follow: boolean): void;
  /** Scroll so that this absolute index is in view (a new object each time it is asked for). */
  reveal: { index: number } | null;
  /** The current search: its text is marked in the rows, and the row of `index` is the current match. */
  highlight: { query: string; index: number } | null;
  onOpen(index: number): void;
  /** Row index of the row that is open in the detail view. */
  selected: number | null;
}

interface Geometry {
  count: number;
  viewport: number;
  scrollPx: number;
  /** Virtual pixels the top of the view may go down to. */
  virtualMax: number;
  maxScroll: number;
}

function geometry(count: number, viewport: number): Geometry {
  const total = count * ROW_HEIGHT;
  const scrollPx = Math.min(total, MAX_SCROLL_PX);
  return { count, viewport, scrollPx, virtualMax: Math.max(0, total - viewport), maxScroll: Math.max(0, scrollPx - viewport) };
}

const toScrollTop = (g: Geometry, virtual: number): number => (g.virtualMax === 0 ? 0 : (virtual / g.virtualMax) * g.maxScroll);
const toVirtual = (g: Geometry, scrollTop: number): number => (g.maxScroll === 0 ? 0 : Math.min(g.virtualMax, (scrollTop / g.maxScroll) * g.virtualMax));

export function VirtualList(props: VirtualListProps): JSX.Element {
  const { store } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState(400);
  // The top of the view in virtual pixels, relative to the first kept line: the truth the scroll position follows.
  const virtual = useRef(0);
  const dropped = useRef(store.dropped);
  const lastSetTop = useRef(-1);
  const [, redraw] = useState(0);

  const g = geometry(store.kept, viewport);

  useEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const observer = new ResizeObserver(() => setViewport(el.clientHeight));
    observer.observe(el);
    setViewport(el.clientHeight);
    return () => observer.disconnect();
  }, []);

  // Lines dropped from the front move the view up by as many rows.
  if (store.dropped !== dropped.current) {
    virtual.current = Math.max(0, virtual.current - (store.dropped - dropped.current) * ROW_HEIGHT);
    dropped.current = store.dropped;
  }

  // Following: the view is at the end, drawn there now (the effect below only moves the scroll bar to match).
  if (props.follow) virtual.current = g.virtualMax;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    if (!props.follow) virtual.current = Math.min(virtual.current, g.virtualMax);
    const top = toScrollTop(g, virtual.current);
    // Nothing to move: then nothing is read either (reading the scroll position after a change forces a layout).
    if (lastSetTop.current >= 0 && Math.abs(top - lastSetTop.current) < 1) return;
    // Following, but the user scrolled up since we last put the view at the end: that stops following.
    if (props.follow && lastSetTop.current >= 0 && el.scrollTop < lastSetTop.current - 2) {
      virtual.current = toVirtual(g, el.scrollTop);
      lastSetTop.current = el.scrollTop;
      props.onFollowChange(false);
      return;
    }
    el.scrollTop = top;
    // What was asked, not read back (a read forces a layout); a clamped position shows in the scroll event.
    lastSetTop.current = top;
  });

  useEffect(() => {
    if (props.reveal === null) return;
    const rel = props.reveal.index - store.dropped;
    if (rel < 0 || rel >= store.kept) return;
    const rowTop = rel * ROW_HEIGHT;
    if (rowTop < virtual.current || rowTop + ROW_HEIGHT > virtual.current + viewport) {
      virtual.current = Math.max(0, Math.min(g.virtualMax, rowTop - viewport / 2));
      if (props.follow) props.onFollowChange(false);
      redraw((n) => n + 1);
    }
  }, [props.reveal]);

  const onScroll = (): void => {
    const el = scroller.current;
    if (el === null) return;
    if (Math.abs(el.scrollTop - lastSetTop.current) < 1) return;
    const geo = geometry(store.kept, el.clientHeight);
    virtual.current = toVirtual(geo, el.scrollTop);
    lastSetTop.current = el.scrollTop;
    const atEnd = el.scrollTop >= geo.maxScroll - 2;
    if (props.follow && !atEnd) props.onFollowChange(false);
    else if (!props.follow && atEnd) props.onFollowChange(true);
    redraw((n) => n + 1);
  };

  const onWheel = (event: WheelEvent): void => {
    if (event.deltaY < 0 && props.follow) props.onFollowChange(false);
  };

  const top = Math.min(virtual.current, g.virtualMax);
  const first = Math.floor(top / ROW_HEIGHT);
  const shift = top - first * ROW_HEIGHT;
  const visibleRows = Math.ceil(viewport / ROW_HEIGHT) + 1;
  // Rows are keyed by their slot in the window, so a new line reuses a row's element (its text changes) instead of
  // making one; the slots sit at fixed offsets and only the window's offset moves.
  const rows: JSX.Element[] = [];
  for (let slot = 0; slot < visibleRows && first + slot < store.kept; slot += 1) {
    const line = store.line(store.dropped + first + slot);
    if (line === undefined) continue;
    const current = props.highlight !== null && props.highlight.index === line.index;
    rows.push(
      <div
        key={slot}
        class={`row ${KIND_CLASS[line.kind] ?? ""}${current ? " current" : ""}${props.selected === line.index ? " selected" : ""}`}
        style={{ top: `${slot * ROW_HEIGHT}px` }}
        data-index={line.index}
        data-seq={line.seq}
        onClick={() => props.onOpen(line.index)}
      >
        {line.source !== "" ? <span class="src">{line.source}</span> : null}
        <Marked text={line.text} query={props.highlight?.query ?? ""} />
      </div>,
    );
  }

  return (
    <div class="vlist" ref={scroller} onScroll={onScroll} onWheel={onWheel} data-count={store.kept} data-dropped={store.dropped} tabIndex={0}>
      <div class="vspace" style={{ height: `${g.scrollPx}px` }}>
        <div class="vwindow" style={{ height: `${viewport}px` }}>
          <div class="vrows" style={{ transform: `translateY(${-shift}px)` }}>
            {rows}
          </div>
        </div>
      </div>
    </div>
  );
}

/** A line's text with each occurrence of `query` (case aside) in a <mark>: text nodes only, never markup. */
function Marked(props: { text: string; query: string }): JSX.Element {
  const { text, query } = props;
  if (query === "") return <span class="txt">{text}</span>;
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const parts: (string | JSX.Element)[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at >= 0 && parts.length < 40; at = lower.indexOf(needle, from)) {
    if (at > from) parts.push(text.slice(from, at));
    parts.push(<mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
  }
  if (from < text.length) parts.push(text.slice(from));
  return <span class="txt">{parts}</span>;
}
