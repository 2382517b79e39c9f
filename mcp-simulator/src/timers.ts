// Every delayed action of the simulator goes through one Timers, so stop() can cancel them all.
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  stopped = false;

  /** Run fn after ms unless the simulator has stopped by then. */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.pending.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.pending.add(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}
