// Per-cycle scratch space, as Kubernetes' CycleState: what a PreScore plugin computes once over all
// feasible nodes, its Score reads per node. Keys are typed so a reader gets what the writer stored.
export class StateKey<T> {
  // Only carries T for the compiler.
  declare private readonly type: T;
  constructor(readonly name: string) {}
}

export class CycleState {
  private readonly values = new Map<StateKey<unknown>, unknown>();

  write<T>(key: StateKey<T>, value: T): void {
    this.values.set(key, value);
  }

  read<T>(key: StateKey<T>): T | undefined {
    return this.values.get(key) as T | undefined;
  }
}
