// Samples this process's resident memory on a timer. The timer only fires when the event loop is free, so
// the longest gap between samples is reported too: a long gap means the loop was blocked (and a peak inside
// it may have been missed; getrusage's maxRSS, the lifetime peak, is the cross-check).
export interface RssSummary {
  peakBytes: number;
  startBytes: number;
  samples: number;
  maxGapMs: number;
  /** getrusage ru_maxrss at stop: the highest RSS this process ever had. */
  lifetimePeakBytes: number;
}

export class RssSampler {
  #timer: NodeJS.Timeout | undefined;
  #peak = 0;
  #start = 0;
  #samples = 0;
  #last = 0;
  #maxGap = 0;

  start(intervalMs: number): void {
    this.#start = process.memoryUsage.rss();
    this.#peak = this.#start;
    this.#last = performance.now();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    // A sampler left running by a failed benchmark must not keep the process alive.
    this.#timer.unref();
  }

  stop(): RssSummary {
    this.#sample();
    clearInterval(this.#timer);
    this.#timer = undefined;
    return {
      peakBytes: this.#peak,
      startBytes: this.#start,
      samples: this.#samples,
      maxGapMs: this.#maxGap,
      lifetimePeakBytes: process.resourceUsage().maxRSS * 1024,
    };
  }

  #sample(): void {
    const now = performance.now();
    this.#maxGap = Math.max(this.#maxGap, now - this.#last);
    this.#last = now;
    this.#samples += 1;
    this.#peak = Math.max(this.#peak, process.memoryUsage.rss());
  }
}

/** Collects garbage when node runs with --expose-gc, so a starting RSS is not inflated by earlier work. */
export function collectGarbage(): void {
  const gc: unknown = Reflect.get(globalThis, "gc");
  if (typeof gc === "function") gc();
}
