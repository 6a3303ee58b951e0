// Small pieces of the pages: a status badge and a progress bar.
import type { JSX } from "preact";

export function StatusBadge(props: { status: string; stale?: boolean }): JSX.Element {
  return (
    <span class={`badge s-${props.status}`} data-status={props.status}>
      {props.status}
      {props.stale === true ? " (no supervisor)" : ""}
    </span>
  );
}

export function Progress(props: { value: number }): JSX.Element {
  const value = Math.max(0, Math.min(1, props.value));
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(value * 100)}>
      <span style={{ width: `${value * 100}%` }} />
    </div>
  );
}
