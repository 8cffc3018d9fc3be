// `spec.template.data` rendering: the two Go text/template forms sealed-secrets users write, `{{ .key }}` and
// `{{ index . "key" }}` (with optional `{{-`/`-}}` trim markers), over the decrypted values. Anything else is an
// UnsupportedTemplate error, so a Secret is never written half-rendered. Pure; output is bytes (values may be binary).

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const ACTION = /\{\{(-\s)?\s*([\s\S]*?)\s*(\s-)?\}\}/g;
const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const INDEX = /^index\s+\.\s+("(?:[^"\\]|\\.)*"|`[^`]*`)$/;

function keyOfAction(body: string, dataKey: string): string {
  const field = FIELD.exec(body);
  if (field) return field[1]!;
  const index = INDEX.exec(body);
  if (index) {
    const lit = index[1]!;
    if (lit.startsWith('`')) return lit.slice(1, -1);
    try { return JSON.parse(lit) as string; } catch { /* fall through */ }
  }
  throw new TemplateError(`unsupported template in spec.template.data["${dataKey}"]: only {{ .key }} and {{ index . "key" }} are supported`);
}

/** Renders one template against the decrypted values; throws TemplateError naming the data key (never a value). */
export function renderTemplate(dataKey: string, template: string, values: ReadonlyMap<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  let trimNextLeading = false;
  for (const m of template.matchAll(ACTION)) {
    let literal = template.slice(last, m.index);
    if (trimNextLeading) literal = literal.replace(/^\s+/, '');
    if (m[1]) literal = literal.replace(/\s+$/, '');
    parts.push(Buffer.from(literal, 'utf8'));
    const key = keyOfAction(m[2]!, dataKey);
    const value = values.get(key);
    if (value === undefined) throw new TemplateError(`spec.template.data["${dataKey}"] refers to "${key}", which is not in spec.encryptedData`);
    parts.push(value);
    trimNextLeading = !!m[3];
    last = m.index + m[0].length;
  }
  let tail = template.slice(last);
  if (trimNextLeading) tail = tail.replace(/^\s+/, '');
  if (tail.includes('{{')) throw new TemplateError(`unsupported template in spec.template.data["${dataKey}"]: unterminated action`);
  parts.push(Buffer.from(tail, 'utf8'));
  return Buffer.concat(parts);
}

/** Every template rendered against the decrypted values (templates see the decrypted values, not each other). */
export function renderTemplates(templates: Readonly<Record<string, string>>, values: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, t] of Object.entries(templates)) out.set(k, renderTemplate(k, t, values));
  return out;
}
