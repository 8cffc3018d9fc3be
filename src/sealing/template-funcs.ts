// The functions templates may call: Go's `index` and `printf`, and the sprig functions sealed-secrets users write
// (b64enc b64dec quote squote upper lower trim trimPrefix trimSuffix replace default toJson indent nindent), with
// Go's byte-level semantics: strings are byte strings (one char per byte), rune-aware functions decode UTF-8 as Go
// does (an invalid byte is one U+FFFD). Every call is charged to a work budget and every result is size-capped, so
// a 64 KiB template cannot make a 1 MiB value cost more than a bounded amount of CPU.

import { TemplateError, shown } from './template-lex.js';

export type Value =
  | { readonly t: 's'; readonly s: string }            // a byte string
  | { readonly t: 'i'; readonly n: number }
  | { readonly t: 'b'; readonly v: boolean }
  | { readonly t: 'map' }                               // `.`: the decrypted values
  | { readonly t: 'none'; readonly key: string };       // a key that is not there (Go's invalid value)

export const str = (s: string): Value => ({ t: 's', s });

/** The CPU and memory bound of one object's rendering. */
export class Work {
  constructor(public left: number, readonly maxValue: number, readonly where: string) {}
  /** Charges n bytes of work; throws when the object has done too much. */
  charge(n: number): void {
    this.left -= n;
    if (this.left < 0) throw new TemplateError(`${this.where} does too much work (functions over large values); simplify the template`);
  }
  /** Refuses a value over the per-value cap before it is built. */
  fits(bytes: number): void {
    if (bytes > this.maxValue) throw new TemplateError(`${this.where} renders to over ${this.maxValue} bytes, more than a Secret may hold`);
  }
}

export interface Env {
  readonly values: ReadonlyMap<string, string>;   // byte strings
  readonly work: Work;
  readonly where: string;
}

// ---- UTF-8 as Go reads it (unicode/utf8.DecodeRuneInString) ----

/** The rune at i of a byte string and its width; -1 for an invalid byte (width 1). */
export function decodeRune(s: string, i: number): [number, number] {
  const b0 = s.charCodeAt(i);
  if (b0 < 0x80) return [b0, 1];
  const cont = (k: number) => { const b = s.charCodeAt(i + k); return b >= 0x80 && b <= 0xbf ? b & 0x3f : -1; };
  if (b0 >= 0xc2 && b0 <= 0xdf) { const c1 = cont(1); return c1 < 0 ? [-1, 1] : [((b0 & 0x1f) << 6) | c1, 2]; }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const b1 = s.charCodeAt(i + 1);
    if ((b0 === 0xe0 && b1 < 0xa0) || (b0 === 0xed && b1 > 0x9f)) return [-1, 1];
    const c1 = cont(1); const c2 = cont(2);
    return c1 < 0 || c2 < 0 ? [-1, 1] : [((b0 & 0x0f) << 12) | (c1 << 6) | c2, 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const b1 = s.charCodeAt(i + 1);
    if ((b0 === 0xf0 && b1 < 0x90) || (b0 === 0xf4 && b1 > 0x8f)) return [-1, 1];
    const c1 = cont(1); const c2 = cont(2); const c3 = cont(3);
    return c1 < 0 || c2 < 0 || c3 < 0 ? [-1, 1] : [((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3, 4];
  }
  return [-1, 1];
}

const utf8Of = (cp: number): string => Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
const REPLACEMENT = utf8Of(0xfffd);

/** Maps every rune (invalid bytes become U+FFFD first, as strings.Map does). */
function mapRunes(s: string, f: (cp: number) => number): string {
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    const [cp, w] = decodeRune(s, i);
    if (cp < 0x80 && cp >= 0) out.push(String.fromCharCode(f(cp)));
    else out.push(cp < 0 ? REPLACEMENT : utf8Of(f(cp)));
    i += w;
  }
  return out.join('');
}

/** unicode.ToUpper/ToLower: one rune to one rune (JavaScript's multi-character mappings are not Go's). */
function caseOf(cp: number, upper: boolean): number {
  if (!upper && cp === 0x130) return 0x69; // İ → i in Go; JavaScript gives i + combining dot
  const c = String.fromCodePoint(cp);
  const m = upper ? c.toUpperCase() : c.toLowerCase();
  const first = m.codePointAt(0)!;
  return m.length === String.fromCodePoint(first).length ? first : cp;
}

const ASCII = /^[\x00-\x7f]*$/;

/** strings.ToUpper/ToLower; ASCII text (the common case) takes JavaScript's own, identical, mapping. */
function changeCase(s: string, upper: boolean): string {
  if (ASCII.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  return mapRunes(s, (c) => caseOf(c, upper));
}

/** unicode.IsSpace as byte sequences: what strings.TrimSpace removes. */
const SPACES = ['\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]
  .map((x) => (typeof x === 'string' ? x : utf8Of(x)));

function trimSpace(s: string): string {
  let b = 0;
  let e = s.length;
  for (let moved = true; moved && b < e;) {
    moved = false;
    for (const sp of SPACES) if (s.startsWith(sp, b) && b + sp.length <= e) { b += sp.length; moved = true; break; }
  }
  for (let moved = true; moved && e > b;) {
    moved = false;
    for (const sp of SPACES) if (e - sp.length >= b && s.startsWith(sp, e - sp.length)) { e -= sp.length; moved = true; break; }
  }
  return s.slice(b, e);
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** Go's IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return PRINT.test(String.fromCodePoint(cp));
}

/** strconv.Quote (what %q and sprig's quote print). */
export function goQuote(s: string): string {
  const out: string[] = ['"'];
  for (let i = 0; i < s.length;) {
    const [cp, w] = decodeRune(s, i);
    if (cp < 0) out.push(`\\x${hex2(s.charCodeAt(i))}`);
    else if (cp === 0x22 || cp === 0x5c) out.push(`\\${String.fromCharCode(cp)}`);
    else if (isPrint(cp)) out.push(s.slice(i, i + w));
    else {
      const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
      if (named[cp]) out.push(named[cp]!);
      else if (cp < 0x20 || cp === 0x7f) out.push(`\\x${hex2(cp)}`);
      else if (cp < 0x10000) out.push(`\\u${cp.toString(16).padStart(4, '0')}`);
      else out.push(`\\U${cp.toString(16).padStart(8, '0')}`);
    }
    i += w;
  }
  out.push('"');
  return out.join('');
}

/** encoding/json's string encoding with HTML escaping (sprig's toJson uses json.Marshal), as Go ≥ 1.22 writes it. */
export function jsonString(s: string): string {
  const out: string[] = ['"'];
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0x22 || c === 0x5c) out.push(`\\${String.fromCharCode(c)}`);
      else if (c === 0x3c || c === 0x3e || c === 0x26) out.push(`\\u00${hex2(c)}`);
      else if (c >= 0x20) out.push(String.fromCharCode(c));
      else out.push(({ 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t' } as Record<number, string>)[c] ?? `\\u00${hex2(c)}`);
      i++;
      continue;
    }
    const [cp, w] = decodeRune(s, i);
    if (cp < 0) out.push('\\ufffd');
    else if (cp === 0x2028 || cp === 0x2029) out.push(`\\u${cp.toString(16)}`);
    else out.push(s.slice(i, i + w));
    i += w;
  }
  out.push('"');
  return out.join('');
}

/** Byte-string key of a JavaScript key (values are keyed by their UTF-8 bytes in Go). */
export const bytesOf = (k: string): string => Buffer.from(k, 'utf8').toString('latin1');

function toJson(v: Value, env: Env): string {
  switch (v.t) {
    case 's': return jsonString(v.s);
    case 'i': return String(v.n);
    case 'b': return String(v.v);
    case 'none': return 'null';
    case 'map': {
      const keys = [...env.values.keys()].map((k) => [bytesOf(k), k] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map(([b, k]) => `${jsonString(b)}:${jsonString(env.values.get(k)!)}`).join(',')}}`;
    }
  }
}

/** Occurrences of a non-empty needle, left to right, non-overlapping (KMP: linear whatever the input). */
function occurrences(hay: string, needle: string): number[] {
  const fail = new Int32Array(needle.length);
  for (let i = 1, k = 0; i < needle.length; i++) {
    while (k > 0 && needle[i] !== needle[k]) k = fail[k - 1]!;
    if (needle[i] === needle[k]) k++;
    fail[i] = k;
  }
  const at: number[] = [];
  for (let i = 0, k = 0; i < hay.length; i++) {
    while (k > 0 && hay[i] !== needle[k]) k = fail[k - 1]!;
    if (hay[i] === needle[k]) k++;
    if (k === needle.length) { at.push(i - k + 1); k = 0; }
  }
  return at;
}

function replaceAll(src: string, old: string, neu: string, work: Work): string {
  if (old === '') {
    // strings.Replace with an empty old: new before every rune and at the end.
    const runes: string[] = [];
    for (let i = 0; i < src.length;) { const [, w] = decodeRune(src, i); runes.push(src.slice(i, i + w)); i += w; }
    work.fits(src.length + (runes.length + 1) * neu.length);
    return neu + runes.map((r) => r + neu).join('');
  }
  const at = occurrences(src, old);
  work.fits(src.length + at.length * (neu.length - old.length));
  const out: string[] = [];
  let last = 0;
  for (const p of at) { out.push(src.slice(last, p), neu); last = p + old.length; }
  out.push(src.slice(last));
  return out.join('');
}

function indent(n: number, s: string, work: Work): string {
  if (n < 0) throw new TemplateError(`${work.where}: indent needs a non-negative width`);
  let lines = 1;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
  work.fits(s.length + lines * n);
  const pad = ' '.repeat(n);
  return pad + s.split('\n').join(`\n${pad}`);
}

/** sprig's strval: how quote and squote print an argument. */
function strval(v: Value, env: Env): string {
  if (v.t === 's') return v.s;
  if (v.t === 'i') return String(v.n);
  if (v.t === 'b') return String(v.v);
  throw new TemplateError(`${env.where}: cannot quote the whole value map`);
}

const isEmpty = (v: Value): boolean => v.t === 'none' || (v.t === 's' && v.s === '') || (v.t === 'i' && v.n === 0) || (v.t === 'b' && !v.v);

function printf(format: string, args: readonly Value[], env: Env): string {
  const out: string[] = [];
  let next = 0;
  const arg = (verb: string): Value => {
    const a = args[next++];
    if (!a) throw new TemplateError(`${env.where}: printf: %${verb} has no argument`);
    if (a.t === 'none') throw new TemplateError(`${env.where} refers to "${shown(a.key)}", which is not in spec.encryptedData`);
    if (a.t === 'map') throw new TemplateError(`${env.where}: printf cannot print the whole value map`);
    return a;
  };
  const mismatch = (verb: string, a: Value) => new TemplateError(`${env.where}: printf: %${verb} cannot print a ${a.t === 'i' ? 'number' : a.t === 'b' ? 'boolean' : 'string'}`);
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') { out.push(c); continue; }
    const verb = format[++i];
    if (verb === '%') { out.push('%'); continue; }
    if (verb === undefined) throw new TemplateError(`${env.where}: printf format ends with %`);
    if (!'svdqxX'.includes(verb)) throw new TemplateError(`${env.where}: printf verb ${shown(JSON.stringify(`%${verb}`))} is not supported (use %s %v %d %q %x %X %%, without width or flags)`);
    const a = arg(verb);
    switch (verb) {
      case 's': case 'v':
        if (verb === 's' && a.t !== 's') throw mismatch(verb, a);
        out.push(a.t === 's' ? a.s : a.t === 'i' ? String(a.n) : String((a as { v: boolean }).v));
        break;
      case 'd':
        if (a.t !== 'i') throw mismatch(verb, a);
        out.push(String(a.n));
        break;
      case 'q':
        if (a.t !== 's') throw mismatch(verb, a);
        out.push(goQuote(a.s));
        break;
      default: {
        const lower = verb === 'x';
        let h: string;
        if (a.t === 's') h = Buffer.from(a.s, 'latin1').toString('hex');
        else if (a.t === 'i') h = (a.n < 0 ? '-' : '') + Math.abs(a.n).toString(16);
        else throw mismatch(verb, a);
        out.push(lower ? h : h.toUpperCase());
      }
    }
  }
  if (next < args.length) throw new TemplateError(`${env.where}: printf has ${args.length - next} argument(s) more than its format uses`);
  return out.join('');
}

type Fn = { readonly arity: number | [number, number]; readonly call: (args: Value[], env: Env) => Value };

/** A string argument: Go refuses a missing key or a number where a function takes a string. */
function s(v: Value, fn: string, env: Env): string {
  if (v.t === 's') return v.s;
  if (v.t === 'none') throw new TemplateError(`${env.where} refers to "${shown(v.key)}", which is not in spec.encryptedData (passed to ${fn})`);
  throw new TemplateError(`${env.where}: ${fn} needs a string argument`);
}

function int(v: Value, fn: string, env: Env): number {
  if (v.t === 'i') return v.n;
  throw new TemplateError(`${env.where}: ${fn} needs a number as its first argument`);
}

const MANY = 1 << 20;

export const FUNCS: Readonly<Record<string, Fn>> = {
  index: { arity: 2, call: ([m, k], env) => {
    if (m!.t !== 'map') throw new TemplateError(`${env.where}: index works on . (the values) only`);
    const key = s(k!, 'index', env);
    const text = Buffer.from(key, 'latin1').toString('utf8');
    const v = env.values.get(text);
    return v === undefined ? { t: 'none', key: text } : str(v);
  } },
  printf: { arity: [1, MANY], call: ([f, ...rest], env) => str(printf(s(f!, 'printf', env), rest, env)) },
  b64enc: { arity: 1, call: ([v], env) => str(Buffer.from(s(v!, 'b64enc', env), 'latin1').toString('base64')) },
  b64dec: { arity: 1, call: ([v], env) => {
    const text = s(v!, 'b64dec', env).replace(/[\r\n]/g, '');
    // Go's StdEncoding: padded standard alphabet. sprig returns Go's error text as the value; a Secret gets an
    // error instead (the text would be silently stored as the secret).
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new TemplateError(`${env.where}: b64dec: the value is not padded standard base64`);
    return str(Buffer.from(text, 'base64').toString('latin1'));
  } },
  quote: { arity: [0, MANY], call: (args, env) => str(args.filter((a) => a.t !== 'none').map((a) => goQuote(strval(a, env))).join(' ')) },
  squote: { arity: [0, MANY], call: (args, env) => str(args.filter((a) => a.t !== 'none').map((a) => `'${strval(a, env)}'`).join(' ')) },
  upper: { arity: 1, call: ([v], env) => str(changeCase(s(v!, 'upper', env), true)) },
  lower: { arity: 1, call: ([v], env) => str(changeCase(s(v!, 'lower', env), false)) },
  trim: { arity: 1, call: ([v], env) => str(trimSpace(s(v!, 'trim', env))) },
  trimPrefix: { arity: 2, call: ([p, v], env) => { const a = s(p!, 'trimPrefix', env); const b = s(v!, 'trimPrefix', env); return str(b.startsWith(a) ? b.slice(a.length) : b); } },
  trimSuffix: { arity: 2, call: ([p, v], env) => { const a = s(p!, 'trimSuffix', env); const b = s(v!, 'trimSuffix', env); return str(a !== '' && b.endsWith(a) ? b.slice(0, b.length - a.length) : b); } },
  replace: { arity: 3, call: ([o, n, v], env) => str(replaceAll(s(v!, 'replace', env), s(o!, 'replace', env), s(n!, 'replace', env), env.work)) },
  default: { arity: [1, 2], call: ([d, given]) => (given === undefined || isEmpty(given) ? d! : given) },
  toJson: { arity: 1, call: ([v], env) => str(toJson(v!, env)) },
  indent: { arity: 2, call: ([n, v], env) => str(indent(int(n!, 'indent', env), s(v!, 'indent', env), env.work)) },
  nindent: { arity: 2, call: ([n, v], env) => str(`\n${indent(int(n!, 'nindent', env), s(v!, 'nindent', env), env.work)}`) },
};

/** Calls a function by name with its arguments; sizes are charged to the budget before and after. */
export function callFunction(name: string, args: Value[], env: Env): Value {
  const fn = Object.hasOwn(FUNCS, name) ? FUNCS[name] : undefined;
  if (!fn) throw new TemplateError(`${env.where}: function "${shown(name)}" is not supported (see "Templates" in the README)`);
  const [min, max] = typeof fn.arity === 'number' ? [fn.arity, fn.arity] : fn.arity;
  if (args.length < min || args.length > max) throw new TemplateError(`${env.where}: wrong number of arguments for ${name}: want ${min === max ? min : `${min} or more`}, got ${args.length}`);
  const size = (v: Value) => (v.t === 's' ? v.s.length : 8);
  env.work.charge(args.reduce((n, a) => n + size(a), 16));
  const out = fn.call(args, env);
  env.work.charge(size(out));
  env.work.fits(size(out));
  return out;
}
