// Code-point order for strings, written once: the order Go's sort.Strings and JSON encoders give (UTF-8 byte order),
// the same on every machine, unlike localeCompare; and unlike `a < b` (UTF-16 units) for characters above U+FFFF.

/** Lifts surrogates above U+E000–U+FFFF so that comparing UTF-16 units gives code-point order. */
function unit(u: number): number {
  if (u >= 0xd800 && u <= 0xdfff) return u + 0x2000;
  if (u >= 0xe000) return u - 0x800;
  return u;
}

/** Negative, zero or positive as a sorts before, with or after b in code-point order. Linear, no allocation. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unit(x) < unit(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Compares [key, value] entries by key: `Object.entries(o).sort(byKey)`. */
export function byKey(a: readonly [string, unknown], b: readonly [string, unknown]): number {
  return compareCodePoints(a[0], b[0]);
}
