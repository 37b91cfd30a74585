/**
 * In-process fan-out of "this request changed" signals. Waiters always re-read the row after a
 * signal, so a signal may be duplicated or coalesced freely; across replicas the PostgreSQL adapter
 * feeds this bus from LISTEN/NOTIFY.
 */
export type ChangeListener = (subjectId: string) => void;

export class ChangeBus {
  private readonly bySubject = new Map<string, Set<ChangeListener>>();
  private readonly all = new Set<ChangeListener>();

  subscribe(subjectId: string, listener: ChangeListener): () => void {
    let set = this.bySubject.get(subjectId);
    if (!set) {
      set = new Set();
      this.bySubject.set(subjectId, set);
    }
    set.add(listener);
    return () => {
      const current = this.bySubject.get(subjectId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.bySubject.delete(subjectId);
    };
  }

  subscribeAll(listener: ChangeListener): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }

  publish(subjectId: string): void {
    const set = this.bySubject.get(subjectId);
    if (set) for (const listener of [...set]) listener(subjectId);
    for (const listener of [...this.all]) listener(subjectId);
  }

  /** Wakes every waiter (used after a dropped cross-replica connection, when signals may be lost). */
  publishEverything(): void {
    for (const id of [...this.bySubject.keys()]) this.publish(id);
  }

  get waiterCount(): number {
    let n = 0;
    for (const set of this.bySubject.values()) n += set.size;
    return n;
  }
}
