// `spec.template.data` rendering: the Go text/template subset sealed-secrets users write, over the decrypted values
// (`.key` is the decrypted string): field access (`.key`, `$.key`, `index . "key"`), pipelines, parenthesised
// arguments, comments, trim markers, `printf` and the common sprig functions (template-funcs.ts). Templates are
// tenant input: a linear lexer (template-lex.ts) behind a 64 KiB cap, a recursive-descent parser with a depth cap,
// and an evaluator with a work budget and a 1 MiB output cap; no control flow (if/range/with), no variables. Anything
// else is a TemplateError and a Secret is never written half-rendered. Pure; output is bytes (values may be binary).

import { type Env, FUNCS, type Value, Work, bytesOf, callFunction, str } from './template-funcs.js';
import { type Token, TemplateError, isSpace, lexAction, shown } from './template-lex.js';

export { TemplateError, shown } from './template-lex.js';

/** Largest template value accepted, in UTF-8 bytes. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;
/** Largest rendered output of all templates of one object: the API server's Secret size limit. */
export const MAX_RENDERED_BYTES = 1024 * 1024;
/** Bytes the functions of one object may read and write in all: a few passes over the largest Secret. */
export const MAX_WORK_BYTES = 16 * MAX_RENDERED_BYTES;
/** Nesting of parenthesised pipelines. */
const MAX_DEPTH = 32;

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil']);

type Node =
  | { readonly k: 'field'; readonly root: boolean; readonly names: readonly string[] }
  | { readonly k: 'const'; readonly v: Value }
  | { readonly k: 'fn'; readonly name: string }
  | { readonly k: 'pipe'; readonly cmds: readonly Node[][] };

/** Parses the tokens of one action into a pipeline: commands separated by `|`, each a list of operands. */
function parsePipeline(tokens: readonly Token[], bad: (why: string) => TemplateError): Node[][] {
  let i = 0;
  const pipeline = (depth: number): Node[][] => {
    if (depth > MAX_DEPTH) throw bad(`more than ${MAX_DEPTH} nested parentheses`);
    const cmds: Node[][] = [];
    for (;;) {
      const cmd: Node[] = [];
      for (;;) {
        const t = tokens[i];
        if (!t || t.kind === 'pipe' || t.kind === 'rparen') break;
        i++;
        switch (t.kind) {
          case 'field': case 'root':
            // The values are strings: `.a.b` can only fail, so it fails here, before anything runs.
            if (t.names.length > 1) throw bad(`".${shown(t.names.join('.'))}": values are strings and have no fields`);
            cmd.push({ k: 'field', root: t.kind === 'root', names: t.names });
            break;
          case 'dot': cmd.push({ k: 'field', root: false, names: [] }); break;
          case 'string': cmd.push({ k: 'const', v: str(t.value) }); break;
          case 'number': cmd.push({ k: 'const', v: { t: 'i', n: t.value } }); break;
          case 'lparen': {
            const inner = pipeline(depth + 1);
            if (tokens[i]?.kind !== 'rparen') throw bad('unclosed parenthesis');
            i++;
            cmd.push({ k: 'pipe', cmds: inner });
            break;
          }
          case 'ident':
            if (t.name === 'true' || t.name === 'false') cmd.push({ k: 'const', v: { t: 'b', v: t.name === 'true' } });
            else if (KEYWORDS.has(t.name)) throw bad(`"${t.name}" (control structures) is not supported`);
            else if (!Object.hasOwn(FUNCS, t.name)) throw bad(`function "${shown(t.name)}" is not supported (see "Templates" in the README)`);
            else cmd.push({ k: 'fn', name: t.name });
            break;
        }
      }
      if (cmd.length === 0) throw bad(cmds.length === 0 && !tokens[i] ? 'empty action' : 'missing command in a pipeline');
      cmds.push(cmd);
      if (tokens[i]?.kind !== 'pipe') return cmds;
      i++;
    }
  };
  const cmds = pipeline(0);
  if (i < tokens.length) throw bad('unexpected ")"');
  return cmds;
}

function evalPipeline(cmds: readonly Node[][], env: Env): Value {
  let prev: Value | undefined;
  for (const cmd of cmds) prev = evalCommand(cmd, prev, env);
  return prev!;
}

function evalCommand(cmd: readonly Node[], final: Value | undefined, env: Env): Value {
  const [head, ...rest] = cmd;
  if (head!.k === 'fn') {
    const args = rest.map((n) => evalOperand(n, env));
    if (final !== undefined) args.push(final);
    return callFunction(head!.name, args, env);
  }
  if (rest.length > 0 || final !== undefined) throw new TemplateError(`${env.where}: only a function can take arguments (write "${head!.k === 'field' ? 'index . "key"' : 'printf'}" first)`);
  return evalOperand(head!, env);
}

function evalOperand(n: Node, env: Env): Value {
  switch (n.k) {
    case 'const': return n.v;
    case 'pipe': return evalPipeline(n.cmds, env);
    case 'fn': return callFunction(n.name, [], env);
    case 'field': {
      if (n.names.length === 0) return { t: 'map' };
      const v = env.values.get(n.names[0]!);
      return v === undefined ? { t: 'none', key: n.names[0]! } : str(v);
    }
  }
}

/** How Go prints a pipeline's value into the output (a missing key is refused rather than printed "<no value>"). */
function printed(v: Value, env: Env): string {
  switch (v.t) {
    case 's': return v.s;
    case 'i': return String(v.n);
    case 'b': return String(v.v);
    case 'none': throw new TemplateError(`${env.where} refers to "${shown(v.key)}", which is not in spec.encryptedData`);
    case 'map': throw new TemplateError(`${env.where} prints the whole value map; name a key (.key or index . "key")`);
  }
}

function trimEnd(s: string, from: number, to: number): number {
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return to;
}

function trimStart(s: string, from: number, to: number): number {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  return from;
}

/** The values as byte strings, keyed as the SealedSecret names them. */
function byteValues(values: ReadonlyMap<string, Buffer>): Map<string, string> {
  return new Map([...values].map(([k, v]) => [k, v.toString('latin1')]));
}

function render(dataKey: string, template: string, values: ReadonlyMap<string, string>, maxOutputBytes: number, work: Work): Buffer {
  const where = `spec.template.data["${shown(dataKey)}"]`;
  const bad = (why: string) => new TemplateError(`unsupported template in ${where}: ${why}`);
  // Checked before any scan: the length bound (UTF-16 units) is cheap and implies the byte bound is near.
  if (template.length > MAX_TEMPLATE_BYTES || Buffer.byteLength(template, 'utf8') > MAX_TEMPLATE_BYTES) {
    throw new TemplateError(`${where} is over ${MAX_TEMPLATE_BYTES} bytes; templates are limited to 64 KiB each`);
  }
  const src = bytesOf(template);
  const env: Env = { values, work: new Work(work.left, maxOutputBytes, where), where };
  const parts: string[] = [];
  let size = 0;
  const push = (b: string) => {
    size += b.length;
    if (size > maxOutputBytes) throw new TemplateError(`${where} renders to over ${maxOutputBytes} bytes, more than a Secret may hold`);
    parts.push(b);
  };
  let text = 0; // start of the pending literal text
  let trimNextLeading = false;
  try {
    for (let open = src.indexOf('{{'); open >= 0; open = src.indexOf('{{', text)) {
      const action = lexAction(src, open, bad);
      const from = trimNextLeading ? trimStart(src, text, open) : text;
      const to = action.trimLeft ? trimEnd(src, from, open) : open;
      push(src.slice(from, to));
      if (!action.comment) push(printed(evalPipeline(parsePipeline(action.tokens, bad), env), env));
      trimNextLeading = action.trimRight;
      text = action.end;
    }
    push(src.slice(trimNextLeading ? trimStart(src, text, src.length) : text));
  } finally {
    work.left = env.work.left;
  }
  return Buffer.from(parts.join(''), 'latin1');
}

/** Renders one template against the decrypted values; throws TemplateError naming the data key (never a value). */
export function renderTemplate(dataKey: string, template: string, values: ReadonlyMap<string, Buffer>, maxOutputBytes = MAX_RENDERED_BYTES): Buffer {
  return render(dataKey, template, byteValues(values), maxOutputBytes, new Work(MAX_WORK_BYTES, maxOutputBytes, ''));
}

/** Every template rendered against the decrypted values (templates see the decrypted values, not each other). */
export function renderTemplates(templates: Readonly<Record<string, string>>, values: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const bytes = byteValues(values);
  const work = new Work(MAX_WORK_BYTES, MAX_RENDERED_BYTES, '');
  let budget = MAX_RENDERED_BYTES;
  for (const [k, t] of Object.entries(templates)) {
    if (typeof t !== 'string') throw new TemplateError(`spec.template.data["${shown(k)}"] is not a string`);
    const rendered = render(k, t, bytes, budget, work);
    budget -= rendered.length;
    out.set(k, rendered);
  }
  return out;
}
