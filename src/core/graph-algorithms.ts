// Graph algorithms behind dag.ts, on nodes numbered 0..n-1 with `edges[node]` listing its successors:
// cyclic components, the shortest cycle through a node, and a heap of node numbers. Pure, O(V+E).

/** Strongly connected components of more than one node (Tarjan, iterative), each sorted, in order of their lowest node. */
export function cyclicComponents(edges: readonly (readonly number[])[]): number[][] {
  const low: number[] = [];
  const number: number[] = [];
  const onStack: boolean[] = [];
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < edges.length; root++) {
    if (number[root] !== undefined) continue;
    const frames: [node: number, next: number][] = [[root, 0]];
    number[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as [number, number];
      const [node, next] = frame;
      const target = edges[node]?.[next];
      if (target !== undefined) {
        frame[1]++;
        if (number[target] === undefined) {
          number[target] = low[target] = counter++;
          stack.push(target);
          onStack[target] = true;
          frames.push([target, 0]);
        } else if (onStack[target]) low[node] = Math.min(low[node] ?? 0, number[target] ?? 0);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1]?.[0];
      if (parent !== undefined) low[parent] = Math.min(low[parent] ?? 0, low[node] ?? 0);
      if (low[node] !== number[node]) continue;
      const component: number[] = [];
      for (let member = stack.pop(); member !== undefined; member = member === node ? undefined : stack.pop()) {
        onStack[member] = false;
        component.push(member);
      }
      if (component.length > 1) components.push(component.sort((a, b) => a - b));
    }
  }
  return components.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
}

/** The shortest cycle through the component's first node (breadth first, inside the component), closed: [a, b, a]. */
export function shortestCycleThrough(component: readonly number[], edges: readonly (readonly number[])[]): number[] {
  const start = component[0] ?? 0;
  const inside = new Set(component);
  const via = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] ?? start;
    for (const target of edges[node] ?? []) {
      if (target === start) {
        const path = [start];
        for (let at: number | undefined = node; at !== undefined && at !== start; at = via.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (inside.has(target) && !via.has(target)) {
        via.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** A binary min-heap under `less`. */
export class Heap {
  private readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}
  push(item: number): void {
    const items = this.items;
    let at = items.push(item) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.less(item, items[parent] ?? item)) break;
      items[at] = items[parent] ?? item;
      at = parent;
    }
    items[at] = item;
  }
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.less(items[right] ?? last, items[left] ?? last) ? right : left;
      if (!this.less(items[child] ?? last, last)) break;
      items[at] = items[child] ?? last;
      at = child;
    }
    items[at] = last;
    return top;
  }
}
