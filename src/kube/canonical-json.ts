// Canonical JSON, written once: keys in code-point order at every level, undefined members dropped, so key order
// never counts as a difference. GitSync's drift check, applied-object digests and status writes, and the sealing
// plan's comparisons all use it. Pure.

import { byKey } from './order.js';

/** The canonical JSON text of a JSON value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(byKey);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** True when two JSON values are equal up to key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
