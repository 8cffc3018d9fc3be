// Work over many items spread across event-loop turns: after each `budget` of cost the loop gets a turn (timers,
// Lease renewal, /healthz), so a big revision's per-object work on the main thread never runs as one long task.

import { setImmediate as nextTurn } from 'node:timers/promises';

/** Calls `f` on each item in order; `f` returns the cost of that item (1, or the characters it handled). */
export async function inTurns<T>(items: readonly T[], f: (item: T) => number, budget: number): Promise<void> {
  let cost = 0;
  for (const item of items) {
    if (cost >= budget) { cost = 0; await nextTurn(); }
    cost += f(item);
  }
}
