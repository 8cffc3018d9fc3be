// `spec.template.data` rendering: the Go text/template forms sealed-secrets users write, `{{ .key }}` and
// `{{ index . "key" }}` (with optional `{{-`/`-}}` trim markers), over the decrypted values. Templates are tenant
// input, so this is a hand-written single-pass lexer (no regex, linear in the template) behind a size cap, followed by
// a parser over the action's tokens; anything else is a TemplateError and a Secret is never written half-rendered.
// Pure; output is bytes (values may be binary). Pipelines and functions would extend `parseAction`, not the lexer.

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Largest template value accepted, in UTF-8 bytes. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;
/** Largest rendered output of all templates of one object: the API server's Secret size limit. */
export const MAX_RENDERED_BYTES = 1024 * 1024;

const SUPPORTED = 'only {{ .key }} and {{ index . "key" }} are supported';

/** Go's template white space (text/template isSpace): trim markers and tokens use these, nothing wider. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function isIdentStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39);
}

/** Keys in messages are tenant text too: shown, but never at unbounded length. */
export function shown(key: string): string {
  return key.length > 100 ? `${key.slice(0, 100)}…` : key;
}

export type Token =
  | { readonly kind: 'field'; readonly name: string }       // .name
  | { readonly kind: 'dot' }                                 // .
  | { readonly kind: 'ident'; readonly name: string }       // index
  | { readonly kind: 'string'; readonly value: string };    // "…" or `…`

export interface Action {
  readonly tokens: readonly Token[];
  readonly trimLeft: boolean;
  readonly trimRight: boolean;
  /** Index just after the closing delimiter. */
  readonly end: number;
}

/**
 * Lexes the action whose `{{` is at `start`, in one forward pass: strings are read whole (a `}}` inside quotes does
 * not close the action, as in Go), and every character is looked at a bounded number of times.
 */
export function lexAction(src: string, start: number, unsupported: (why: string) => TemplateError): Action {
  let i = start + 2;
  let trimLeft = false;
  if (src.charCodeAt(i) === 0x2d /* - */ && isSpace(src.charCodeAt(i + 1))) { trimLeft = true; i += 2; }
  const tokens: Token[] = [];
  for (;;) {
    if (i >= src.length) throw unsupported('unterminated action');
    const c = src.charCodeAt(i);
    if (isSpace(c)) {
      if (src.startsWith('-}}', i + 1)) return { tokens, trimLeft, trimRight: true, end: i + 4 };
      i++;
    } else if (c === 0x7d /* } */ && src.charCodeAt(i + 1) === 0x7d) {
      return { tokens, trimLeft, trimRight: false, end: i + 2 };
    } else if (c === 0x2e /* . */) {
      let j = i + 1;
      if (isIdentStart(src.charCodeAt(j))) {
        while (isIdentPart(src.charCodeAt(j))) j++;
        tokens.push({ kind: 'field', name: src.slice(i + 1, j) });
      } else {
        tokens.push({ kind: 'dot' });
      }
      i = j;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentPart(src.charCodeAt(j))) j++;
      tokens.push({ kind: 'ident', name: src.slice(i, j) });
      i = j;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      for (;;) {
        const d = src.charCodeAt(j);
        if (j >= src.length || d === 0x0a) throw unsupported('unterminated quoted string');
        if (d === 0x22) break;
        j += d === 0x5c /* \ */ ? 2 : 1;
      }
      let value: unknown;
      try { value = JSON.parse(src.slice(i, j + 1)); } catch { throw unsupported('malformed quoted string'); }
      tokens.push({ kind: 'string', value: value as string });
      i = j + 1;
    } else if (c === 0x60 /* ` */) {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw unsupported('unterminated raw string');
      tokens.push({ kind: 'string', value: src.slice(i + 1, j) });
      i = j + 1;
    } else {
      throw unsupported(SUPPORTED);
    }
  }
}

/** The value key an action names; the only two command shapes supported today. */
export function parseAction(tokens: readonly Token[], unsupported: (why: string) => TemplateError): string {
  const [a, b, c] = tokens;
  if (tokens.length === 1 && a?.kind === 'field') return a.name;
  if (tokens.length === 3 && a?.kind === 'ident' && a.name === 'index' && b?.kind === 'dot' && c?.kind === 'string') return c.value;
  throw unsupported(SUPPORTED);
}

function trimEnd(s: string, from: number, to: number): number {
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return to;
}

function trimStart(s: string, from: number, to: number): number {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  return from;
}

/** Renders one template against the decrypted values; throws TemplateError naming the data key (never a value). */
export function renderTemplate(dataKey: string, template: string, values: ReadonlyMap<string, Buffer>, maxOutputBytes = MAX_RENDERED_BYTES): Buffer {
  const where = `spec.template.data["${shown(dataKey)}"]`;
  const unsupported = (why: string) => new TemplateError(`unsupported template in ${where}: ${why}`);
  // Checked before any scan: the length bound (UTF-16 units) is cheap and implies the byte bound is near.
  if (template.length > MAX_TEMPLATE_BYTES || Buffer.byteLength(template, 'utf8') > MAX_TEMPLATE_BYTES) {
    throw new TemplateError(`${where} is over ${MAX_TEMPLATE_BYTES} bytes; templates are limited to 64 KiB each`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  const push = (b: Buffer) => {
    size += b.length;
    if (size > maxOutputBytes) throw new TemplateError(`${where} renders to over ${maxOutputBytes} bytes, more than a Secret may hold`);
    parts.push(b);
  };
  let text = 0; // start of the pending literal text
  let trimNextLeading = false;
  for (let open = template.indexOf('{{'); open >= 0; open = template.indexOf('{{', text)) {
    const action = lexAction(template, open, unsupported);
    const from = trimNextLeading ? trimStart(template, text, open) : text;
    const to = action.trimLeft ? trimEnd(template, from, open) : open;
    push(Buffer.from(template.slice(from, to), 'utf8'));
    const key = parseAction(action.tokens, unsupported);
    const value = values.get(key);
    if (value === undefined) throw new TemplateError(`${where} refers to "${shown(key)}", which is not in spec.encryptedData`);
    push(value);
    trimNextLeading = action.trimRight;
    text = action.end;
  }
  push(Buffer.from(template.slice(trimNextLeading ? trimStart(template, text, template.length) : text), 'utf8'));
  return Buffer.concat(parts, size);
}

/** Every template rendered against the decrypted values (templates see the decrypted values, not each other). */
export function renderTemplates(templates: Readonly<Record<string, string>>, values: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let budget = MAX_RENDERED_BYTES;
  for (const [k, t] of Object.entries(templates)) {
    if (typeof t !== 'string') throw new TemplateError(`spec.template.data["${shown(k)}"] is not a string`);
    const rendered = renderTemplate(k, t, values, budget);
    budget -= rendered.length;
    out.set(k, rendered);
  }
  return out;
}
