// Small hooks the pages share: a ticking clock for ages, and a throttle that runs a refresh at most once per
// interval however many events ask for it.
import { useEffect, useRef, useState } from "preact/hooks";

export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** A function that calls `fn` now if it has not run for `ms`, else once when `ms` is over. */
export function useThrottle(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const state = useRef<{ last: number; timer: ReturnType<typeof setTimeout> | null }>({ last: 0, timer: null });
  useEffect(() => () => {
    if (state.current.timer !== null) clearTimeout(state.current.timer);
  }, []);
  return () => {
    const s = state.current;
    if (s.timer !== null) return;
    const wait = Math.max(0, s.last + ms - Date.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      s.last = Date.now();
      latest.current();
    }, wait);
  };
}
