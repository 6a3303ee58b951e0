import type { JSX } from "preact";
export function App(): JSX.Element {
  return <main>orch</main>;
}
