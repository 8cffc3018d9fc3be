// The lexer of the Go-template subset of spec.template.data: one action (`{{ … }}`) at a time, in a single forward
// pass with no regex and no backtracking, over the template as a byte string (one char per UTF-8 byte, so offsets,
// sizes and `\x` escapes are Go's). Strings are read whole, so a `}}` inside quotes does not close the action, as in
// Go. Tenant input: every error is a TemplateError and names no value.

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Keys in messages are tenant text too: shown, but never at unbounded length. */
export function shown(key: string): string {
  return key.length > 100 ? `${key.slice(0, 100)}…` : key;
}

/** Go's template white space (text/template isSpace): trim markers and tokens use these, nothing wider. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function isIdentStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export type Token =
  | { readonly kind: 'field'; readonly names: readonly string[] }   // .a or .a.b
  | { readonly kind: 'dot' }                                         // .
  | { readonly kind: 'root'; readonly names: readonly string[] }    // $ or $.a
  | { readonly kind: 'ident'; readonly name: string }               // printf, index, true
  | { readonly kind: 'string'; readonly value: string }             // "…" or `…` (byte string)
  | { readonly kind: 'number'; readonly value: number }             // 12, -3
  | { readonly kind: 'pipe' } | { readonly kind: 'lparen' } | { readonly kind: 'rparen' };

export interface Action {
  readonly tokens: readonly Token[];
  readonly trimLeft: boolean;
  readonly trimRight: boolean;
  /** A comment: no tokens, prints nothing. */
  readonly comment?: boolean;
  /** Index just after the closing delimiter. */
  readonly end: number;
}

const HEX = '0123456789abcdefABCDEF';

/** Go's interpreted string literal (strconv.Unquote) as a byte string: the literal's own bytes, `\x`/octal bytes,
 * and `\u`/`\U` code points in UTF-8. */
function unquote(src: string, from: number, to: number, bad: (why: string) => TemplateError): string {
  const out: string[] = [];
  let i = from;
  const hex = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++) {
      const d = HEX.indexOf(src[i + k] ?? 'g');
      if (d < 0) throw bad('malformed escape in a quoted string');
      v = v * 16 + (d >= 16 ? d - 6 : d);
    }
    i += n;
    return v;
  };
  while (i < to) {
    const c = src[i++]!;
    if (c !== '\\') { out.push(c); continue; }
    const e = src[i++];
    switch (e) {
      case 'a': out.push('\x07'); break;
      case 'b': out.push('\b'); break;
      case 'f': out.push('\f'); break;
      case 'n': out.push('\n'); break;
      case 'r': out.push('\r'); break;
      case 't': out.push('\t'); break;
      case 'v': out.push('\v'); break;
      case '\\': out.push('\\'); break;
      case '"': out.push('"'); break;
      case 'x': out.push(String.fromCharCode(hex(2))); break;
      case 'u': case 'U': {
        const cp = hex(e === 'u' ? 4 : 8);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) throw bad('escape names an invalid code point');
        out.push(Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1'));
        break;
      }
      default: {
        if (e === undefined || e < '0' || e > '7') throw bad('unknown escape in a quoted string');
        let v = 0;
        i--;
        for (let k = 0; k < 3; k++) {
          const d = src.charCodeAt(i + k) - 0x30;
          if (d < 0 || d > 7) throw bad('malformed octal escape in a quoted string');
          v = v * 8 + d;
        }
        if (v > 255) throw bad('octal escape over \\377');
        i += 3;
        out.push(String.fromCharCode(v));
      }
    }
  }
  return out.join('');
}

/** A field name, Go's rule: after an identifier comes space, `.`, `|`, `(`, `)` or the closing delimiter. */
function atTerminator(src: string, i: number): boolean {
  const c = src.charCodeAt(i);
  return i >= src.length || isSpace(c) || c === 0x2e || c === 0x7c || c === 0x28 || c === 0x29 || (c === 0x7d && src.charCodeAt(i + 1) === 0x7d);
}

/** `.a.b.c` from i (at a `.` followed by an identifier); returns the names and the index after them. */
function fieldChain(src: string, i: number): { names: string[]; end: number } {
  const names: string[] = [];
  while (src.charCodeAt(i) === 0x2e && isIdentStart(src.charCodeAt(i + 1))) {
    let j = i + 2;
    while (isIdentPart(src.charCodeAt(j))) j++;
    names.push(src.slice(i + 1, j));
    i = j;
  }
  return { names, end: i };
}

/**
 * Lexes the action whose `{{` is at `start`. Comments (`{{/* … *\/}}`) give no tokens. Every character is looked at
 * a bounded number of times.
 */
export function lexAction(src: string, start: number, bad: (why: string) => TemplateError): Action {
  let i = start + 2;
  let trimLeft = false;
  if (src.charCodeAt(i) === 0x2d /* - */ && isSpace(src.charCodeAt(i + 1))) { trimLeft = true; i += 2; }
  if (trimLeft) while (isSpace(src.charCodeAt(i))) i++;
  if (src.startsWith('/*', i)) {
    const close = src.indexOf('*/', i + 2);
    if (close < 0) throw bad('unclosed comment');
    i = close + 2;
    if (src.startsWith('}}', i)) return { tokens: [], trimLeft, trimRight: false, comment: true, end: i + 2 };
    if (src.startsWith(' -}}', i)) return { tokens: [], trimLeft, trimRight: true, comment: true, end: i + 4 };
    throw bad('comment ends before closing delimiter');
  }
  const tokens: Token[] = [];
  const needTerminator = (j: number) => { if (!atTerminator(src, j)) throw bad(`unexpected character after "${shown(src.slice(i, j))}"`); };
  for (;;) {
    if (i >= src.length) throw bad('unterminated action');
    const c = src.charCodeAt(i);
    if (isSpace(c)) {
      if (src.startsWith('-}}', i + 1)) return { tokens, trimLeft, trimRight: true, end: i + 4 };
      i++;
    } else if (c === 0x7d /* } */ && src.charCodeAt(i + 1) === 0x7d) {
      return { tokens, trimLeft, trimRight: false, end: i + 2 };
    } else if (c === 0x2e /* . */) {
      if (isIdentStart(src.charCodeAt(i + 1))) {
        const { names, end } = fieldChain(src, i);
        needTerminator(end);
        tokens.push({ kind: 'field', names });
        i = end;
      } else {
        tokens.push({ kind: 'dot' });
        i++;
      }
    } else if (c === 0x24 /* $ */) {
      if (isIdentPart(src.charCodeAt(i + 1))) throw bad('template variables ($name) are not supported');
      const { names, end } = fieldChain(src, i + 1);
      needTerminator(end);
      tokens.push({ kind: 'root', names });
      i = end;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentPart(src.charCodeAt(j))) j++;
      needTerminator(j);
      tokens.push({ kind: 'ident', name: src.slice(i, j) });
      i = j;
    } else if (isDigit(c) || ((c === 0x2d || c === 0x2b) && isDigit(src.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (isDigit(src.charCodeAt(j))) j++;
      needTerminator(j);
      const text = src.slice(i, j);
      if (j - i > 15) throw bad(`number ${shown(text)} is too large`);
      tokens.push({ kind: 'number', value: Number(text) });
      i = j;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      for (;;) {
        const d = src.charCodeAt(j);
        if (j >= src.length || d === 0x0a) throw bad('unterminated quoted string');
        if (d === 0x22) break;
        j += d === 0x5c /* \ */ ? 2 : 1;
      }
      tokens.push({ kind: 'string', value: unquote(src, i + 1, j, bad) });
      i = j + 1;
    } else if (c === 0x60 /* ` */) {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw bad('unterminated raw string');
      tokens.push({ kind: 'string', value: src.slice(i + 1, j).replaceAll('\r', '') });
      i = j + 1;
    } else if (c === 0x7c /* | */) {
      tokens.push({ kind: 'pipe' });
      i++;
    } else if (c === 0x28 /* ( */) {
      tokens.push({ kind: 'lparen' });
      i++;
    } else if (c === 0x29 /* ) */) {
      tokens.push({ kind: 'rparen' });
      i++;
    } else if (c === 0x3a /* : */ || c === 0x3d /* = */) {
      throw bad('variable declarations are not supported');
    } else {
      throw bad(`unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
    }
  }
}
