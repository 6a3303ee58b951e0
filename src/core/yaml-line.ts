// Where in a YAML file a problem is: the line of the node a path names, for messages that point the user at it.
// Shared by orch.config.yaml and plan files, which both report every problem with its line.
import { isMap, isScalar, type Document, type LineCounter } from "yaml";

/**
 * The 1-based line of the node at `path`; an unknown `key` of that map at its own line, not the map's first; a
 * path that is not in the file (a missing key) at its nearest ancestor that is.
 */
export function lineOf(doc: Document, lineCounter: LineCounter, path: readonly (string | number)[], key?: string): number | undefined {
  for (let length = path.length; length >= 0; length--) {
    const node: unknown = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
    if (node === undefined || node === null) continue;
    const keyNode = key !== undefined && length === path.length && isMap(node) ? node.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.key : undefined;
    const offset = startOf(keyNode ?? node);
    if (offset !== undefined) return lineCounter.linePos(offset).line;
  }
  return undefined;
}

function startOf(node: unknown): number | undefined {
  if (typeof node !== "object" || node === null || !("range" in node) || !Array.isArray(node.range)) return undefined;
  const [start]: unknown[] = node.range;
  return typeof start === "number" ? start : undefined;
}
