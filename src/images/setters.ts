// Flux-style image setter markers in manifests: `image: app:1.0.0 # {"$imagepolicy": "ns:policy"}` (the whole ref),
// `"ns:policy:tag"` (the tag only) and `"ns:policy:name"` (the image name only). A line-based rewrite: only the value
// before a marker changes, every other byte (comments, quoting, indentation, line endings) stays as it was, and each
// line is scanned once. The building block of GitSync image updates. Pure.

export type SetterField = 'ref' | 'tag' | 'name';

export interface SetterMarker {
  /** `namespace:name` of the ImagePolicy. */
  readonly policy: string;
  readonly field: SetterField;
}

export interface SetterChange {
  /** 1-based line number. */
  readonly line: number;
  readonly policy: string;
  readonly field: SetterField;
  readonly from: string;
  readonly to: string;
}

export interface ImageRef { readonly name: string; readonly tag: string }

/** A marker comment longer than this is not one (and is not parsed). */
const MAX_MARKER = 512;
const MARKER_KEY = '{"$imagepolicy"';

/** Splits `registry:port/repo:tag` at the tag's ':' (the last ':' after the last '/'); undefined without a tag. */
export function splitRef(ref: string): ImageRef | undefined {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash || colon === ref.length - 1 || ref.includes('@')) return undefined;
  return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** The marker in one line's comment, or undefined. `#` must start the comment (line start or after a space). */
export function markerOf(line: string): { marker: SetterMarker; hash: number } | undefined {
  const at = line.indexOf(MARKER_KEY);
  if (at < 0) return undefined;
  const hash = line.lastIndexOf('#', at);
  if (hash < 0 || line.slice(hash + 1, at).trim() !== '' || (hash > 0 && line[hash - 1] !== ' ' && line[hash - 1] !== '\t')) return undefined;
  const text = line.slice(at).trimEnd();
  if (text.length > MAX_MARKER) return undefined;
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { return undefined; }
  const value = (parsed as Record<string, unknown> | null)?.['$imagepolicy'];
  if (typeof value !== 'string') return undefined;
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') return undefined;
  const field = parts.length === 2 ? 'ref' : parts[2] === 'tag' ? 'tag' : parts[2] === 'name' ? 'name' : undefined;
  if (field === undefined) return undefined;
  return { marker: { policy: `${parts[0]}:${parts[1]}`, field }, hash };
}

/**
 * Where the scalar value sits in the text before the comment: after an optional `- ` and an optional `key: `.
 * Returns [start, end) of the value including its quotes, or undefined when there is no plain or quoted scalar.
 */
export function valueSpan(before: string): { start: number; end: number; quote: '' | '"' | "'" } | undefined {
  let i = 0;
  const n = before.length;
  while (i < n && (before[i] === ' ' || before[i] === '\t')) i++;
  if (before[i] === '-' && (before[i + 1] === ' ' || before[i + 1] === '\t')) { i += 2; while (i < n && (before[i] === ' ' || before[i] === '\t')) i++; }
  // A key: quoted, or plain up to the first ": " (image refs hold ':' but never ': ').
  let keyEnd = -1;
  if (before[i] === '"' || before[i] === "'") {
    const close = before.indexOf(before[i]!, i + 1);
    if (close > 0 && before[close + 1] === ':' && (before[close + 2] === ' ' || before[close + 2] === '\t')) keyEnd = close + 2;
  } else {
    const sep = before.indexOf(': ', i);
    const tab = before.indexOf(':\t', i);
    const s = sep < 0 ? tab : tab < 0 ? sep : Math.min(sep, tab);
    if (s >= 0) keyEnd = s + 2;
  }
  if (keyEnd >= 0) { i = keyEnd; while (i < n && (before[i] === ' ' || before[i] === '\t')) i++; }
  let end = n;
  while (end > i && (before[end - 1] === ' ' || before[end - 1] === '\t')) end--;
  if (end <= i) return undefined;
  const first = before[i]!;
  if (first === '"' || first === "'") {
    if (end - i < 2 || before[end - 1] !== first) return undefined;
    const inner = before.slice(i + 1, end - 1);
    if (inner.includes(first) || inner.includes('\\')) return undefined; // escapes: not an image ref, leave it
    return { start: i, end, quote: first };
  }
  const value = before.slice(i, end);
  if (/[\s#{}[\],&*!|>%@`]/.test(value[0]!) || value.includes(' ')) return undefined;
  return { start: i, end, quote: '' };
}

/**
 * Rewrites the markers of one file. `latest(policy)` gives the ImagePolicy's latest ref for `namespace:name`, or
 * undefined to leave its markers alone (unknown policy, other namespace, no latest yet). Line endings are kept.
 */
export function rewriteSetters(text: string, latest: (policy: string) => string | undefined): { text: string; changes: SetterChange[] } {
  if (!text.includes(MARKER_KEY)) return { text, changes: [] };
  const lines = text.split('\n');
  const changes: SetterChange[] = [];
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!;
    const cr = raw.endsWith('\r') ? '\r' : '';
    const line = cr ? raw.slice(0, -1) : raw;
    const m = markerOf(line);
    if (!m) continue;
    const ref = latest(m.marker.policy);
    const parts = ref === undefined ? undefined : splitRef(ref);
    if (!parts) continue;
    const span = valueSpan(line.slice(0, m.hash));
    if (!span) continue;
    const q = span.quote.length;
    const from = line.slice(span.start + q, span.end - q);
    const to = m.marker.field === 'ref' ? `${parts.name}:${parts.tag}` : m.marker.field === 'tag' ? parts.tag : parts.name;
    if (from === to) continue;
    lines[k] = `${line.slice(0, span.start + q)}${to}${line.slice(span.end - q)}${cr}`;
    changes.push({ line: k + 1, policy: m.marker.policy, field: m.marker.field, from, to });
  }
  return { text: changes.length === 0 ? text : lines.join('\n'), changes };
}
