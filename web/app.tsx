// The dashboard app: a top bar with the live indicator, and the page the hash names. A `?token=` in the address
// (how a non-loopback server is first opened) has set the cookie by now; it is taken out of the address bar so it
// is not bookmarked or shared.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { parseRoute } from "./route.js";
import { RunPage } from "./run/run-page.js";
import { RunsPage } from "./runs-page.js";

export function App(): JSX.Element {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", `${location.pathname}${location.hash}`);
    const onHash = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          orch
        </a>
        <span class={`live${live ? " on" : ""}`} data-live={String(live)}>
          {live ? "live" : "connecting…"}
        </span>
      </header>
      {route.page === "run" ? <RunPage key={route.runId} runId={route.runId} attemptId={route.attemptId} onLive={setLive} /> : <RunsPage onLive={setLive} />}
    </>
  );
}
