// The resident memory of everything one supervised child started, for its RSS cap. Invariant: one pass over
// /proc/<pid>/stat finds the members; /proc/<pid>/status is read only for those, and a process that vanishes
// mid-read counts as 0, never as an error.
import { listProcesses, processRss } from "./tree.js";

/**
 * Summed RSS in bytes of process group `leader` and of the leader's descendants: a member the leader has
 * orphaned still counts (it is in the group), and so does a descendant that left the group (setsid).
 * 0 when they are all gone, and where there is no /proc.
 */
export async function groupTreeRss(leader: number): Promise<number> {
  const all = await listProcesses();
  const children = new Map<number, number[]>();
  for (const stat of all) {
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [stat.pid]);
    else siblings.push(stat.pid);
  }
  // Zombies hold no memory; reading their status would only cost a file read.
  const members = new Set(all.filter((stat) => stat.pgrp === leader && stat.state !== "Z").map((stat) => stat.pid));
  const queue = all.some((stat) => stat.pid === leader) ? [leader] : [];
  const seen = new Set<number>();
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (seen.has(next)) continue;
    seen.add(next);
    members.add(next);
    queue.push(...(children.get(next) ?? []));
  }
  const sizes = await Promise.all([...members].map(processRss));
  return sizes.reduce((sum, size) => sum + size, 0);
}
