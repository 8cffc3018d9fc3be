// Parsers for the registry's response headers that steer Keelson: the `WWW-Authenticate` challenge (Basic or
// Bearer realm/service/scope) and the `Link` header of tag-list pagination. Both headers come from a server a tenant
// chose, so they are parsed in one linear pass with a size cap. Pure.

export const MAX_HEADER = 8192;

export interface Challenge {
  /** Lower-cased auth scheme: `basic`, `bearer`, ... */
  readonly scheme: string;
  /** Parameters, keys lower-cased; the first occurrence of a key wins. */
  readonly params: Readonly<Record<string, string>>;
}

const isTokenChar = (c: number) => c > 32 && c < 127 && c !== 44 && c !== 61 && c !== 34 && c !== 59;
const isSpace = (c: number) => c === 32 || c === 9;

/**
 * Parses a WWW-Authenticate value into its challenges (RFC 9110 §11.6.1: `scheme k=v, k="quoted, \"v\"", scheme2`).
 * token68 forms and malformed parts are skipped rather than rejected: Keelson only needs realm/service/scope.
 */
export function parseChallenges(header: string): Challenge[] {
  const s = header.length > MAX_HEADER ? header.slice(0, MAX_HEADER) : header;
  const out: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const n = s.length;
  const skipSpace = () => { while (i < n && isSpace(s.charCodeAt(i))) i++; };
  const token = () => { const start = i; while (i < n && isTokenChar(s.charCodeAt(i))) i++; return s.slice(start, i); };
  let current: { scheme: string; params: Record<string, string> } | undefined;
  while (i < n) {
    skipSpace();
    if (i < n && s.charCodeAt(i) === 44) { i++; continue; }
    const word = token();
    if (word === '') { i++; continue; } // a stray character: step over it
    skipSpace();
    if (i < n && s.charCodeAt(i) === 61) {
      // key=value (or token68 padding "abc==")
      i++;
      skipSpace();
      let value = '';
      if (i < n && s.charCodeAt(i) === 34) {
        i++;
        const parts: string[] = [];
        let start = i;
        while (i < n && s.charCodeAt(i) !== 34) {
          if (s.charCodeAt(i) === 92 && i + 1 < n) { parts.push(s.slice(start, i)); i++; start = i; }
          i++;
        }
        parts.push(s.slice(start, i));
        value = parts.join('');
        if (i < n) i++; // closing quote
      } else {
        value = token();
        while (i < n && s.charCodeAt(i) === 61) i++; // token68 padding
      }
      const key = word.toLowerCase();
      if (current && !(key in current.params)) current.params[key] = value;
      continue;
    }
    current = { scheme: word.toLowerCase(), params: Object.create(null) as Record<string, string> };
    out.push(current);
  }
  return out;
}

/**
 * The `rel="next"` target of a Link header (`</v2/app/tags/list?last=b&n=100>; rel="next"`), or undefined. Only
 * the URI is returned; the caller resolves it against the registry and refuses other origins.
 */
export function nextLink(header: string): string | undefined {
  const s = header.length > MAX_HEADER ? header.slice(0, MAX_HEADER) : header;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const open = s.indexOf('<', i);
    if (open < 0) return undefined;
    const close = s.indexOf('>', open + 1);
    if (close < 0) return undefined;
    const uri = s.slice(open + 1, close);
    // Parameters run to the next link (a ',' outside quotes) or the end.
    let j = close + 1;
    let inQuote = false;
    const start = j;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 34) inQuote = !inQuote;
      else if (c === 44 && !inQuote) break;
      j++;
    }
    const params = s.slice(start, j);
    if (hasRelNext(params)) return uri;
    i = j + 1;
  }
  return undefined;
}

function hasRelNext(params: string): boolean {
  for (const part of params.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() !== 'rel') continue;
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    if (v.toLowerCase().split(' ').includes('next')) return true;
  }
  return false;
}
