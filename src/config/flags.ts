// The flag vocabulary and a small parser for it: `--name value`, `--name=value`, bare `--bool`, and the
// environment as `KEELSON_<NAME>`. Pure: argv and env come in, values or a UsageError come out.

import { DURATION_FORM, formatDuration, parseDuration } from './duration.js';

export type FlagType = 'string' | 'boolean' | 'int' | 'number' | 'duration' | 'list' | 'enum';

export interface FlagSpec {
  readonly name: string;
  readonly type: FlagType;
  readonly help: string;
  readonly default: string | number | boolean | readonly string[] | undefined;
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly group: string;
}

export type FlagValue = string | number | boolean | readonly string[] | undefined;

/** An error the user fixes by changing the command line; the CLI prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function envName(flag: string): string {
  return `KEELSON_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function form(spec: FlagSpec): string {
  switch (spec.type) {
    case 'boolean': return 'true or false';
    case 'int': return spec.min !== undefined ? `a whole number ≥ ${spec.min}` : 'a whole number';
    case 'number': return spec.min !== undefined ? `a number ≥ ${spec.min}` : 'a number';
    case 'duration': return DURATION_FORM;
    case 'list': return 'a comma-separated list';
    case 'enum': return `one of ${spec.choices!.join(', ')}`;
    case 'string': return 'a string';
  }
}

export function convert(spec: FlagSpec, raw: string, source: string): FlagValue {
  const bad = () => new UsageError(`invalid value for --${spec.name} (from ${source}): expected ${form(spec)}`);
  switch (spec.type) {
    case 'string': return raw;
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (v === 'true' || v === '1' || v === 'yes') return true;
      if (v === 'false' || v === '0' || v === 'no') return false;
      throw bad();
    }
    case 'int': case 'number': {
      const t = raw.trim();
      const n = spec.type === 'int' ? (/^-?\d+$/.test(t) ? Number(t) : NaN) : (t === '' ? NaN : Number(t));
      if (!Number.isFinite(n) || (spec.min !== undefined && n < spec.min)) throw bad();
      return n;
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) throw bad();
      return ms;
    }
    case 'list': return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'enum': {
      if (!spec.choices!.includes(raw)) throw bad();
      return raw;
    }
  }
}

export interface ParsedArgs {
  readonly values: ReadonlyMap<string, FlagValue>;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/** Reads argv against the specs; flags beat the environment, which beats the defaults. Unknown flags are errors. */
export function parseArgs(specs: readonly FlagSpec[], argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, FlagValue>();
  for (const spec of specs) {
    const fromEnv = env[envName(spec.name)];
    const v = fromEnv !== undefined && fromEnv !== '' ? convert(spec, fromEnv, envName(spec.name))
      : spec.type === 'duration' && typeof spec.default === 'string' ? parseDuration(spec.default) : spec.default;
    values.set(spec.name, v);
  }
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (arg === '-h' || arg === '--help') { help = true; continue; }
    if (!arg.startsWith('--') || arg === '-') { positionals.push(arg); continue; }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      spec = byName.get(name.slice(3));
      name = name.slice(3);
      if (inline !== undefined) throw new UsageError(`--no-${name} takes no value`);
      inline = 'false';
    }
    if (!spec) throw new UsageError(`unknown flag --${name} (see --help)`);
    let raw: string;
    if (inline !== undefined) raw = inline;
    else if (spec.type === 'boolean') {
      const next = argv[i + 1];
      raw = next !== undefined && /^(true|false)$/i.test(next) ? (i++, next) : 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(`--${name} needs a value: ${form(spec)}`);
      raw = next;
      i++;
    }
    values.set(name, convert(spec, raw, `--${name}`));
  }
  return { values, positionals, help };
}

function showDefault(spec: FlagSpec): string {
  const d = spec.default;
  if (d === undefined || d === '' || (Array.isArray(d) && d.length === 0)) return '';
  if (spec.type === 'duration' && typeof d === 'number') return ` (default ${formatDuration(d)})`;
  return ` (default ${Array.isArray(d) ? d.join(',') : String(d)})`;
}

/** Help text: one line per flag with its form, default and environment variable, grouped by feature. */
export function formatHelp(usage: string, specs: readonly FlagSpec[]): string {
  const lines = [usage, ''];
  let group = '';
  for (const spec of specs) {
    if (spec.group !== group) { group = spec.group; lines.push(`${group}:`); }
    const arg = spec.type === 'boolean' ? '' : spec.type === 'enum' ? ` <${spec.choices!.join('|')}>` : ` <${spec.type}>`;
    lines.push(`  --${spec.name}${arg}`);
    lines.push(`      ${spec.help}${showDefault(spec)} [$${envName(spec.name)}]`);
  }
  return lines.join('\n') + '\n';
}
