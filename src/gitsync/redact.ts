// Keeps Git credentials out of error text: what git and ssh print is scrubbed of the known secret values and of
// anything shaped like a credential before it reaches a log line, an Event or status. Pure.

const PATTERNS: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, '[redacted private key]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s:]*:[^/@\s]*@/gi, '$1[redacted]@'],
  [/(authorization:\s*)(basic|bearer|token)?\s*\S+/gi, '$1[redacted]'],
  [/(x-(?:hub-signature-256|gitlab-token):\s*)\S+/gi, '$1[redacted]'],
];

/** Replaces every secret value (and its base64 form) and credential-shaped text with a marker. */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  const values = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  for (const s of values) {
    for (const form of [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)]) out = out.split(form).join('[redacted]');
  }
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}

/** Short, single-paragraph, credential-free text of what a git command printed on failure. */
export function summariseGitError(stderr: string, secrets: Iterable<string>): string {
  const lines = redact(stderr, secrets).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('hint:'));
  const text = lines.slice(-6).join('; ');
  return text.length > 600 ? text.slice(0, 597) + '...' : text;
}
