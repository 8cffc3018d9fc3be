// Go-style durations ("1s", "1m30s", "720h", "250ms", "0") to milliseconds. Flags, annotations and CRD fields
// all use this one parser so a value that works in one place works everywhere.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Milliseconds for a duration like "1h30m", or undefined when the text is not one. "0" alone means zero. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** The shortest Go-style text for a duration, for help output and messages ("720h", "1m30s", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) { out += `${n}${unit}`; rest -= n * size; }
  }
  return out;
}

export const DURATION_FORM = 'a duration such as 500ms, 10s, 5m, 1h30m or 0';
