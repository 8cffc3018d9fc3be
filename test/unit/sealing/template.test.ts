// The template scanner against hostile input: property tests (fast-check) that any string either renders or is a
// TemplateError, that valid templates render as a model says, that the old regex-based renderer and the scanner agree
// wherever the old one rendered, and generous time bounds on adversarial inputs at and over the size cap (the old
// regex took 45 s on 6 KB).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_RENDERED_BYTES, MAX_TEMPLATE_BYTES, TemplateError, renderTemplate, renderTemplates } from '../../../src/sealing/template.js';
import { cpuMs } from '../../support/props.js';

const values = new Map([['user', Buffer.from('admin')], ['pass', Buffer.from('pw')], ['my.key', Buffer.from('dotted')], ['a', Buffer.from('A')], ['}}', Buffer.from('braces')]]);

/** The renderer this module replaced (regex-based, cubic on `{{` + spaces): the reference on short inputs only. */
function oldRender(template: string): Buffer {
  const ACTION = /\{\{(-\s)?\s*([\s\S]*?)\s*(\s-)?\}\}/g;
  const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
  const INDEX = /^index\s+\.\s+("(?:[^"\\]|\\.)*"|`[^`]*`)$/;
  const keyOf = (body: string): string => {
    const f = FIELD.exec(body);
    if (f) return f[1]!;
    const x = INDEX.exec(body);
    if (x) { const lit = x[1]!; if (lit.startsWith('`')) return lit.slice(1, -1); try { return JSON.parse(lit) as string; } catch { /* below */ } }
    throw new TemplateError('unsupported');
  };
  const parts: Buffer[] = [];
  let last = 0;
  let trim = false;
  for (const m of template.matchAll(ACTION)) {
    let lit = template.slice(last, m.index);
    if (trim) lit = lit.replace(/^\s+/, '');
    if (m[1]) lit = lit.replace(/\s+$/, '');
    parts.push(Buffer.from(lit));
    const v = values.get(keyOf(m[2]!));
    if (v === undefined) throw new TemplateError('missing');
    parts.push(v);
    trim = !!m[3];
    last = m.index + m[0].length;
  }
  let tail = template.slice(last);
  if (trim) tail = tail.replace(/^\s+/, '');
  if (tail.includes('{{')) throw new TemplateError('unterminated');
  parts.push(Buffer.from(tail));
  return Buffer.concat(parts);
}

/** Renders, or returns the TemplateError; anything else thrown fails the property. */
function attempt(t: string): Buffer | TemplateError {
  try { return renderTemplate('k', t, values); } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
}

// Template-ish text: the characters the lexer branches on, with ASCII white space only (Go's definition).
const piece = fc.constantFrom('{{', '}}', '{', '}', '-', ' ', '  ', '\t', '\n', '.', '.user', '.a', 'index', ' . ', '"', '"a"', '`', '`pass`', '\\', 'x', 'é', '|', '$');
const templateish = fc.array(piece, { maxLength: 24 }).map((xs) => xs.join(''));

// Valid templates with their expected output (the model): literal text and actions in every supported spelling.
const ws = fc.constantFrom('', ' ', '  ', '\n', '\t ');
const lit = fc.stringMatching(/^[a-z :/@\n }-]{0,8}$/).filter((s) => !s.includes('{{'));
const action = fc.record({
  key: fc.constantFrom('user', 'pass', 'a', 'my.key', '}}'),
  form: fc.constantFrom('field', 'quoted', 'raw'), trimL: fc.boolean(), trimR: fc.boolean(), w1: ws, w2: ws,
}).filter((a) => a.form !== 'field' || /^[a-z]+$/.test(a.key)).map((a) => {
  const body = a.form === 'field' ? `.${a.key}` : a.form === 'quoted' ? `index . ${JSON.stringify(a.key)}` : `index . \`${a.key}\``;
  const open = a.trimL ? `{{-${a.w1 || ' '}` : `{{${a.w1}`;
  const close = a.trimR ? `${a.w2 || ' '}-}}` : `${a.w2}}}`;
  return { text: `${open}${body}${close}`, key: a.key, trimL: a.trimL, trimR: a.trimR };
});
const validTemplate = fc.array(fc.tuple(lit, action), { maxLength: 5 }).chain((pairs) => lit.map((tail) => ({ pairs, tail })));
const isGoSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const trimEndGo = (s: string) => { let e = s.length; while (e > 0 && isGoSpace(s[e - 1]!)) e--; return s.slice(0, e); };
const trimStartGo = (s: string) => { let b = 0; while (b < s.length && isGoSpace(s[b]!)) b++; return s.slice(b); };

describe('template scanner (properties)', () => {
  it('never throws anything but TemplateError, on any string', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), templateish), (t) => { attempt(t); }), { numRuns: 3000 });
  });

  it('renders every valid template as the model says', () => {
    fc.assert(fc.property(validTemplate, ({ pairs, tail }) => {
      let template = '';
      let expected = '';
      let trimNext = false;
      for (const [text, a] of pairs) {
        let l = trimNext ? trimStartGo(text) : text;
        if (a.trimL) l = trimEndGo(l);
        expected += l + values.get(a.key)!.toString();
        template += text + a.text;
        trimNext = a.trimR;
      }
      expected += trimNext ? trimStartGo(tail) : tail;
      template += tail;
      assert.equal(renderTemplate('k', template, values).toString(), expected);
    }), { numRuns: 2000 });
  });

  it('agrees with the old renderer wherever the old one rendered', () => {
    fc.assert(fc.property(templateish, (t) => {
      let old: Buffer;
      try { old = oldRender(t); } catch { return; }
      const now = attempt(t);
      assert.ok(Buffer.isBuffer(now), `old rendered ${JSON.stringify(t)}, new refused: ${(now as Error).message}`);
      assert.deepEqual(now, old);
    }), { numRuns: 5000 });
  });
});

describe('template scanner (bounds)', () => {
  const adversarial = (n: number): Record<string, string> => ({
    'open + spaces': `{{${' '.repeat(n - 2)}`,
    'open + spaces + dash': `{{${' -'.repeat((n - 2) / 2)}`,
    'many opens': '{{'.repeat(n / 2),
    'unterminated string': `{{ index . "${'a'.repeat(n - 14)}`,
    'escapes': `{{ index . "${'\\"'.repeat((n - 14) / 2)}`,
    'spaces before trim': `x${' '.repeat(n - 10)}{{- .a}}`,
    'actions': '{{.a}}'.repeat(Math.floor(n / 6)),
    'trim pairs': '{{- .a -}} '.repeat(Math.floor(n / 11)),
  });

  it('scans 64 KiB of adversarial input in linear time (generous bound)', () => {
    for (const [name, t] of Object.entries(adversarial(MAX_TEMPLATE_BYTES))) {
      const t0 = cpuMs();
      attempt(t);
      const ms = cpuMs() - t0;
      assert.ok(ms < 500, `${name}: ${ms.toFixed(0)} ms for 64 KiB`);
    }
  });

  it('refuses a template over 64 KiB at once, even 1 MiB of "{{" + spaces', () => {
    const t0 = cpuMs();
    assert.throws(() => renderTemplate('k', `{{${' '.repeat(1024 * 1024)}`, values), /is over 65536 bytes/);
    assert.throws(() => renderTemplate('k', 'é'.repeat(MAX_TEMPLATE_BYTES / 2 + 1), values), /is over 65536 bytes/); // bytes, not characters
    assert.ok(cpuMs() - t0 < 1000);
    assert.equal(renderTemplate('k', 'x'.repeat(MAX_TEMPLATE_BYTES), values).length, MAX_TEMPLATE_BYTES);
  });

  it('caps the rendered size: a small template cannot multiply a large value', () => {
    const big = new Map([['v', Buffer.alloc(64 * 1024)]]);
    assert.throws(() => renderTemplate('k', '{{.v}}'.repeat(17), big), /renders to over 1048576 bytes/);
    assert.throws(() => renderTemplates({ a: '{{.v}}'.repeat(10), b: '{{.v}}'.repeat(10) }, big), /spec.template.data\["b"\] renders to over/);
    assert.equal(renderTemplates({ a: '{{.v}}'.repeat(8), b: '{{.v}}'.repeat(8) }, big).get('b')!.length, MAX_RENDERED_BYTES / 2);
  });

  it('names the data key (shortened), never a value', () => {
    const e = attempt(`{{ .${'k'.repeat(500)} }}`) as TemplateError;
    assert.match(e.message, /refers to "k{100}…"/);
    assert.throws(() => renderTemplate('x'.repeat(300), '{{ nope }}', values), (err: Error) => err.message.length < 300 && !err.message.includes('admin'));
  });

  it('reads strings as Go does: "}}" inside quotes does not close the action', () => {
    assert.equal(renderTemplate('k', '{{ index . "}}" }}', values).toString(), 'braces');
    assert.equal(renderTemplate('k', 'a\u00a0{{- .a }}', values).toString(), 'a\u00a0A'); // NBSP is not Go white space
  });
});

describe('template Go subset (properties and bounds)', () => {
  const goPiece = fc.constantFrom('{{', '}}', '{{- ', ' -}}', ' ', '|', '(', ')', '.user', '.a', '.', '$', '$.a', 'index . "a"', '"x"', '`y`', '"\\x41"', '"\\u00e9"', '42', '-3',
    'printf', '"%s"', '"%d"', '"%q%x"', 'b64enc', 'b64dec', 'quote', 'squote', 'upper', 'lower', 'trim', 'trimPrefix', 'trimSuffix', 'replace',
    'default', 'toJson', 'indent', 'nindent', 'true', 'if', 'end', '/*', '*/', '.nope', '\n', 'é', '\\');
  const goish = fc.array(goPiece, { maxLength: 30 }).map((xs) => xs.join(''));

  it('never throws anything but TemplateError, on template-like input with functions and pipelines', () => {
    fc.assert(fc.property(goish, (t) => { attempt(t); }), { numRuns: 5000 });
  });

  it('toJson escapes as Go >= 1.22 (the bitnami controller\'s Go): \\b and \\f short, HTML characters as \\u00XX', () => {
    const v = new Map([['c', Buffer.from('\b\f<>&\u2028\x01')]]);
    assert.equal(renderTemplate('k', '{{ toJson .c }}', v).toString(), '"\\b\\f\\u003c\\u003e\\u0026\\u2028\\u0001"');
  });

  it('renders pipelines the same as nested calls', () => {
    const fn = fc.constantFrom('b64enc', 'quote', 'squote', 'upper', 'lower', 'trim', 'toJson', 'indent 2', 'nindent 1', 'replace "a" "b"', 'trimPrefix "ad"', 'default "z"', 'printf "<%s>"');
    fc.assert(fc.property(fc.array(fn, { minLength: 1, maxLength: 6 }), fc.constantFrom('.user', '.pass', '.a', 'index . "my.key"'), (fns, arg) => {
      const piped = renderTemplate('k', `{{ ${arg} | ${fns.join(' | ')} }}`, values);
      const nested = renderTemplate('k', `{{ ${fns.reduce<string>((acc, f) => `${f} (${acc})`, arg)} }}`, values);
      assert.deepEqual(piped, nested);
    }), { numRuns: 500 });
  });

  const big = new Map([['v', Buffer.alloc(512 * 1024, 'a')], ['n', Buffer.from('\n'.repeat(60_000))]]);
  const hostile: Record<string, string> = {
    'deep parentheses': `{{ ${'('.repeat(20_000)}.v${')'.repeat(20_000)} }}`,
    'long pipeline over a large value': `{{ .v${' | upper | lower'.repeat(4_000)} }}`,
    'many actions over a large value': '{{ .v | b64enc | b64dec | trim }}'.repeat(1_800),
    'indent multiplying newlines': '{{ .n | indent 60000 }}',
    'replace multiplying': `{{ .v | replace "a" "${'b'.repeat(1000)}" }}`,
    'empty-pattern replace': '{{ .v | replace "" "xx" }}',
    'printf with many verbs': `{{ printf "${'%s'.repeat(10_000)}" ${'.v '.repeat(10_000)}}}`,
    'quote blow-up': `{{ .v | quote | quote | quote | quote | quote }}`,
    'toJson of everything, repeated': '{{ toJson . }}'.repeat(4_000),
  };
  for (const [name, t] of Object.entries(hostile)) {
    it(`bounds ${name} (64 KiB of template, a large value): TemplateError or output, quickly`, () => {
      assert.ok(t.length <= MAX_TEMPLATE_BYTES, `${name} is ${t.length} bytes`);
      const t0 = performance.now();
      let out: Buffer | TemplateError;
      try { out = renderTemplate('k', t, big); } catch (e) { assert.ok(e instanceof TemplateError, String(e)); out = e; }
      const ms = performance.now() - t0;
      assert.ok(ms < 3000, `${name}: ${ms.toFixed(0)} ms`);
      if (Buffer.isBuffer(out)) assert.ok(out.length <= MAX_RENDERED_BYTES);
    });
  }
});
