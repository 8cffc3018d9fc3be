// What a benchmark returns and how a run is written down: figures side by side with their reference, goals with
// pass/miss, the machine they ran on; rendered as one JSON document and as a plain-text table. Pure.

export type Unit = 'ms' | 's' | 'MiB' | 'values/s' | 'count' | 'ratio';

/** One measured figure, with the reference it is compared against when there is one. */
export interface Figure {
  readonly name: string;
  readonly unit: Unit;
  readonly keelson: number;
  readonly reference?: number;
  /** What the reference is, e.g. "ideal controller (watch → PATCH)". */
  readonly referenceName?: string;
  readonly note?: string;
}

export interface Goal {
  readonly goal: string;
  readonly actual: string;
  readonly pass: boolean;
}

export interface BenchResult {
  readonly name: string;
  readonly title: string;
  /** Sizes used (samples, objects, ...), so smoke and full runs are never confused. */
  readonly params: Readonly<Record<string, number | string | boolean>>;
  readonly figures: readonly Figure[];
  readonly goals: readonly Goal[];
  readonly notes: readonly string[];
  readonly durationMs: number;
  /** Set when the benchmark could not finish; figures then hold what was measured before. */
  readonly error?: string;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryMiB: number;
  readonly os: string;
  readonly loadAverage: readonly number[];
}

export interface RunReport {
  readonly schema: 'keelson-bench/v1';
  readonly mode: 'full' | 'smoke';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Machine;
  readonly node: string;
  readonly controlPlane: string;
  readonly kubectl: string | undefined;
  readonly keelson: { readonly version: string; readonly commit: string | undefined };
  readonly results: readonly BenchResult[];
}

/** A goal "actual ≤ limit", written the same way everywhere. */
export function atMost(goal: string, actual: number, limit: number, unit: string): Goal {
  const shown = unit === '×' ? `${actual.toFixed(2)}×` : `${fmt(actual)} ${unit}`;
  return { goal, actual: shown, pass: Number.isFinite(actual) && actual <= limit };
}

export function equals(goal: string, actual: number, expected: number): Goal {
  return { goal, actual: String(actual), pass: actual === expected };
}

export function ratio(keelson: number, reference: number): number {
  return reference > 0 ? keelson / reference : NaN;
}

export function fmt(x: number | undefined): string {
  if (x === undefined) return '';
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** The figures table: one row per figure, with its reference and the ratio. Markdown, also readable as text. */
export function figuresTable(results: readonly BenchResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    if (r.error && r.figures.length === 0) { rows.push([r.name, 'ERROR', r.error.split('\n')[0]!.slice(0, 80), '', '', '']); continue; }
    for (const f of r.figures) {
      const u = f.unit === 'count' ? '' : ` ${f.unit}`;
      rows.push([
        r.name, f.name, `${fmt(f.keelson)}${u}`,
        f.reference === undefined ? '' : `${fmt(f.reference)}${u}`,
        f.reference === undefined ? '' : `${fmt(ratio(f.keelson, f.reference))}×`,
        f.referenceName ?? f.note ?? '',
      ]);
    }
    if (r.error) rows.push([r.name, 'ERROR', r.error.split('\n')[0]!.slice(0, 80), '', '', '']);
  }
  return table(['bench', 'figure', 'Keelson', 'reference', 'ratio', 'reference is / note'], rows);
}

export function goalsTable(results: readonly BenchResult[]): string {
  const rows: string[][] = [];
  for (const r of results) for (const g of r.goals) rows.push([r.name, g.goal, g.actual, g.pass ? 'pass' : 'MISS']);
  return table(['bench', 'goal', 'actual', 'result'], rows);
}

export function environmentLine(report: RunReport): string {
  const m = report.machine;
  return `${report.mode} run ${report.startedAt} · ${m.cpus} × ${m.cpuModel}, ${m.memoryMiB} MiB RAM, ${m.os} · Node ${report.node} · ` +
    `control plane ${report.controlPlane}${report.kubectl ? ` · kubectl ${report.kubectl}` : ''} · Keelson ${report.keelson.version}${report.keelson.commit ? ` (${report.keelson.commit.slice(0, 10)})` : ''}`;
}

export function renderReport(report: RunReport): string {
  return [environmentLine(report), '', figuresTable(report.results), '', goalsTable(report.results), ''].join('\n');
}

const README_START = '<!-- bench-results:start -->';
const README_END = '<!-- bench-results:end -->';

/** Replaces the results block of bench/README.md with this run's tables. */
export function updateReadme(readme: string, report: RunReport, jsonName: string): string {
  const i = readme.indexOf(README_START);
  const j = readme.indexOf(README_END);
  if (i < 0 || j < i) return readme;
  const block = [README_START, '', `Run of ${report.startedAt} (\`bench/results/${jsonName}\`): ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryMiB} MiB RAM, ` +
    `Node ${report.node}, control plane ${report.controlPlane}${report.kubectl ? `, kubectl ${report.kubectl}` : ''}, Keelson ${report.keelson.version}${report.keelson.commit ? ` (${report.keelson.commit.slice(0, 10)})` : ''}.`,
  '', figuresTable(report.results), '', goalsTable(report.results), '', README_END].join('\n');
  return readme.slice(0, i) + block + readme.slice(j + README_END.length);
}
