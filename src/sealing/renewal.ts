// When the next sealing key is due. Pure: the schedule derives from the newest key's creation time, which lives in
// the cluster, so a restart neither renews early nor forgets a renewal that fell due while the controller was down.
// --key-cutoff-time (bitnami's flag) adds one early renewal at start when the newest key predates the cutoff.

/** Milliseconds until a new key is due (0 = now), or undefined when no renewal is scheduled (period 0). A key
 * created before `cutoff` is due now. */
export function renewalDelayMs(newestCreatedAt: Date | undefined, periodMs: number, now: Date, cutoff?: Date): number | undefined {
  if (!newestCreatedAt) return 0;
  if (cutoff && newestCreatedAt.getTime() < cutoff.getTime()) return 0;
  if (periodMs <= 0) return undefined;
  return Math.max(0, newestCreatedAt.getTime() + periodMs - now.getTime());
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** RFC 1123 with a numeric zone (Go's time.RFC1123Z, what `date -R` prints): "Mon, 02 Jan 2006 15:04:05 -0700". */
const RFC1123Z = /^([A-Z][a-z]{2}), (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses a --key-cutoff-time value: RFC 1123 with a numeric zone, as bitnami's controller takes, or RFC 3339;
 * undefined for an empty value; throws an Error saying the expected format. */
export function parseCutoffTime(text: string | undefined): Date | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const bad = () => new Error(`"${text}" is not a time: use RFC 1123 with a numeric zone as "date -R" prints it (e.g. "Wed, 21 Oct 2015 07:28:00 +0000"), or RFC 3339`);
  const s = text.trim();
  if (RFC3339.test(s)) {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) throw bad();
    return d;
  }
  const m = RFC1123Z.exec(s);
  if (!m) throw bad();
  const [, day, dd, mon, yyyy, hh, mi, ss, sign, zh, zm] = m;
  const month = MONTHS.indexOf(mon!);
  if (month < 0 || !DAYS.includes(day!)) throw bad();
  const offsetMin = (sign === '-' ? -1 : 1) * (Number(zh) * 60 + Number(zm));
  const utc = Date.UTC(Number(yyyy), month, Number(dd), Number(hh), Number(mi), Number(ss)) - offsetMin * 60_000;
  const d = new Date(utc);
  // Date.UTC rolls 31 Feb into March: refuse instead of guessing.
  const local = new Date(utc + offsetMin * 60_000);
  if (local.getUTCDate() !== Number(dd) || Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 60) throw bad();
  return d;
}
