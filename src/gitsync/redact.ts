// Keeps Git credentials out of error text: what git and ssh print is scrubbed of the known secret values and of
// anything shaped like a credential before it reaches a log line, an Event or status. Pure.

// Linear patterns only: this runs on what a Git server (or an API error echoing Git content) prints. The URL and
// Authorization forms are scanned by hand below: as regexes (`\b[a-z][a-z0-9+.-]*:\/\/` at every word boundary,
// `:\s*(word)?\s*\S+`) they were quadratic, 1.1 s and 0.7 s on 32 KB of "a.a.a." or of spaces.
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const HOOK_HEADER = /(x-(?:hub-signature-256|gitlab-token):\s*)\S+/gi;

const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);

/** `scheme://user:password@` → `scheme://[redacted]@`, wherever "://" is followed by a user:password part. */
function redactUrlCredentials(text: string): string {
  let out = '';
  let from = 0;
  for (let at = text.indexOf('://'); at >= 0; at = text.indexOf('://', at + 3)) {
    const start = at + 3;
    let i = start;
    while (i < text.length && !'/@:'.includes(text[i]!) && !isSpace(text[i])) i++;
    if (text[i] !== ':') continue;
    i++;
    while (i < text.length && !'/@'.includes(text[i]!) && !isSpace(text[i])) i++;
    if (text[i] !== '@') continue;
    out += `${text.slice(from, start)}[redacted]`;
    from = i;
    at = i - 3 + 1; // resume after the redacted part ("@" cannot start "://")
  }
  return out + text.slice(from);
}

/** `Authorization: [Basic|Bearer|Token] <credential>` → `Authorization: [redacted]`, case-insensitive. */
function redactAuthorization(text: string): string {
  // ASCII-only lower case keeps every index of `text` valid (toLowerCase can change the length: "İ" → "i̇").
  const lower = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const key = 'authorization:';
  let out = '';
  let from = 0;
  for (let at = lower.indexOf(key); at >= 0; at = lower.indexOf(key, Math.max(at + key.length, from))) {
    let i = at + key.length;
    while (isSpace(text[i])) i++;
    const valueStart = i;
    while (i < text.length && !isSpace(text[i])) i++;
    if (i === valueStart) continue; // nothing after the header name
    if (['basic', 'bearer', 'token'].includes(lower.slice(valueStart, i))) {
      let j = i;
      while (isSpace(text[j])) j++;
      const tokenStart = j;
      while (j < text.length && !isSpace(text[j])) j++;
      if (j > tokenStart) i = j;
    }
    out += `${text.slice(from, valueStart)}[redacted]`;
    from = i;
  }
  return out + text.slice(from);
}

/** Replaces every secret value (and its base64 form) and credential-shaped text with a marker. */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  const values = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  for (const s of values) {
    for (const form of [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)]) out = out.split(form).join('[redacted]');
  }
  out = out.replace(PRIVATE_KEY, '[redacted private key]');
  out = redactAuthorization(redactUrlCredentials(out));
  return out.replace(HOOK_HEADER, '$1[redacted]');
}

/** Short, single-paragraph, credential-free text of what a git command printed on failure. */
export function summariseGitError(stderr: string, secrets: Iterable<string>): string {
  const lines = redact(stderr, secrets).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('hint:'));
  const text = lines.slice(-6).join('; ');
  return text.length > 600 ? text.slice(0, 597) + '...' : text;
}
