// A list of JSON values cut into batches of bounded size, and put back together: how the render worker hands a
// parsed revision to the event loop. Deserializing one message is one task, so no message may hold much; a value
// too big for one batch (a document of 150,000 keys) is sent as "open container", its members, "close". Pure.

/**
 * One step of rebuilding: a whole value put at `key` of the open container (`null` key: appended to an array or to
 * the list), a container opened there (`o` object, `a` array) that later steps fill, or the open container closed.
 */
export type ValueOp =
  | readonly ['v', string | null, unknown]
  | readonly ['o' | 'a', string | null]
  | readonly ['c'];

/** About the JSON characters of a value (strings unescaped), memoizing containers' weights in `memo`. */
function weightOf(v: unknown, memo: Map<object, number>): number {
  if (typeof v === 'string') return v.length + 3;
  if (v === null || typeof v !== 'object') return 6;
  const known = memo.get(v);
  if (known !== undefined) return known;
  let w = 2;
  // Recursion is bounded by the manifests' nesting (MAX_NESTING in render.ts, checked before parsing).
  if (Array.isArray(v)) for (const x of v) w += weightOf(x, memo);
  else for (const [k, x] of Object.entries(v)) w += k.length + 4 + weightOf(x, memo);
  memo.set(v, w);
  return w;
}

interface Frame { readonly container: object; readonly keys: string[] | null; i: number }

/**
 * The values as batches of steps, each about `budget` JSON characters (a whole value over the budget is split into
 * its members; only one string longer than the budget makes a bigger batch, and a string costs little to copy).
 */
export function* valueBatches(values: readonly unknown[], budget: number): Generator<ValueOp[]> {
  let batch: ValueOp[] = [];
  let weight = 0;
  const stack: Frame[] = [{ container: values, keys: null, i: 0 }];
  let memo = new Map<object, number>();
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const size = f.keys ? f.keys.length : (f.container as unknown[]).length;
    if (f.i >= size) {
      stack.pop();
      if (stack.length > 0) { batch.push(['c']); weight += 1; }
      continue;
    }
    const key = f.keys ? f.keys[f.i]! : null;
    const v = key === null ? (f.container as unknown[])[f.i] : (f.container as Record<string, unknown>)[key];
    f.i++;
    // Weights are kept for one top-level value at a time: the memo never holds a whole revision.
    if (stack.length === 1) memo = new Map();
    const w = weightOf(v, memo) + (key === null ? 1 : key.length + 4);
    if (v === null || typeof v !== 'object' || w <= budget) {
      batch.push(['v', key, v]);
      weight += w;
    } else {
      const array = Array.isArray(v);
      batch.push([array ? 'a' : 'o', key]);
      weight += 2;
      stack.push({ container: v, keys: array ? null : Object.keys(v), i: 0 });
    }
    if (weight >= budget) {
      yield batch;
      batch = [];
      weight = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/** Rebuilds the values from their batches, in order; `values()` once all were added. */
export class ValueAssembler {
  private readonly list: unknown[] = [];
  private readonly open: (Record<string, unknown> | unknown[])[] = [this.list];

  add(batch: readonly ValueOp[]): void {
    for (const op of batch) {
      if (op[0] === 'c') {
        if (this.open.length === 1) throw new Error('value batches: closing a container that is not open');
        this.open.pop();
        continue;
      }
      const value = op[0] === 'v' ? op[2] : op[0] === 'o' ? {} : [];
      const into = this.open[this.open.length - 1]!;
      if (Array.isArray(into)) into.push(value);
      // A "__proto__" key from a manifest stays a plain property, as JSON.parse makes it: defined, not assigned.
      else if (op[1] === '__proto__') Object.defineProperty(into, op[1], { value, writable: true, enumerable: true, configurable: true });
      else into[op[1]!] = value;
      if (op[0] !== 'v') this.open.push(value as Record<string, unknown> | unknown[]);
    }
  }

  values(): unknown[] {
    if (this.open.length !== 1) throw new Error('value batches: a container was never closed');
    return this.list;
  }
}
