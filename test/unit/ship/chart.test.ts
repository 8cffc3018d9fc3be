// Invariants of charts/keelson without a helm binary: every object of manifests/ has a template (same kind and, for
// release "keelson" in keelson-system, the same name), CRDs are byte-identical copies, every .Values path a template
// uses exists in values.yaml and values.schema.json, values.yaml validates against the schema, template actions
// are balanced, and the Deployment template keeps the manifests' hardening and passes only real controller flags.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { CONTROLLER_FLAGS, loadOptions } from '../../../src/config/options.js';
import type { KubeObject } from '../../../src/kube/types.js';
import { MANIFESTS, ROOT, manifestObjects } from '../../support/manifests.js';

type Any = any;
const CHART = join(ROOT, 'charts', 'keelson');
const TEMPLATES = join(CHART, 'templates');
const read = (p: string) => readFileSync(p, 'utf8');
const templateFiles = readdirSync(TEMPLATES).filter((f) => /\.(yaml|tpl|txt)$/.test(f)).sort();
const values = parse(read(join(CHART, 'values.yaml'))) as Any;
const schema = JSON.parse(read(join(CHART, 'values.schema.json'))) as Any;

/** What the name helpers give for release "keelson" installed in keelson-system with default values. */
const KNOWN: Record<string, string> = {
  '{{ include "keelson.fullname" . }}': 'keelson',
  '{{ include "keelson.serviceAccountName" . }}': 'keelson',
  '{{ include "keelson.keyNamespace" . }}': 'keelson-system',
  '{{ .Release.Namespace }}': 'keelson-system',
};

/**
 * A template's static skeleton: known name expressions resolved, `.Values` leaves replaced by their defaults, lines
 * that hold only actions (if/with/range/end/include|nindent) dropped, other actions replaced by "X". Every if/with
 * branch is taken and every else branch dropped: everything on, which is what the shape checks compare.
 */
function skeleton(text: string): KubeObject[] {
  let t = text;
  for (const [k, v] of Object.entries(KNOWN)) t = t.split(k).join(v);
  t = t.replace(/\{\{-?\s*\.Values((?:\.\w+)+)\s*(\|\s*quote\s*)?-?\}\}/g, (m, path: string, quote?: string) => {
    const v = lookup(values, path.slice(1).split('.'));
    if (v === undefined || typeof v === 'object') return m;
    return quote ? JSON.stringify(String(v)) : String(v);
  });
  const kept: string[] = [];
  let depth = 0;
  let skipBelow = -1; // while >= 0: inside an else branch that ends when depth drops below this
  for (const line of t.split('\n')) {
    if (!/^\s*(\{\{[^}]*\}\}\s*)+$/.test(line)) { if (skipBelow < 0) kept.push(line); continue; }
    depth += (line.match(/\{\{-?\s*(if|with|range|define)\b/g) ?? []).length - (line.match(/\{\{-?\s*end\b/g) ?? []).length;
    if (skipBelow >= 0 && depth < skipBelow) skipBelow = -1;
    else if (skipBelow < 0 && /\{\{-?\s*else\b/.test(line)) skipBelow = depth;
  }
  t = kept.join('\n');
  t = t.replace(/\{\{[^}]*\}\}/g, 'X');
  return parseAllDocuments(t).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
    return d.toJS() as KubeObject;
  }).filter((o) => o && o.kind);
}

function lookup(obj: Any, path: string[]): unknown {
  let cur = obj;
  for (const p of path) { if (cur === null || typeof cur !== 'object' || !(p in cur)) return undefined; cur = cur[p]; }
  return cur;
}

function schemaAt(s: Any, path: string[]): Any {
  let cur = s;
  for (const p of path) {
    cur = cur?.properties?.[p] ?? (typeof cur?.additionalProperties === 'object' ? cur.additionalProperties : undefined);
    if (!cur) return undefined;
  }
  return cur;
}

/** A small JSON-schema check (the keywords values.schema.json uses); returns the problems found. */
function validate(s: Any, v: unknown, at = 'values'): string[] {
  const errs: string[] = [];
  const types = s.type === undefined ? undefined : [s.type].flat() as string[];
  const typeOf = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x);
  if (types && !types.some((t) => t === typeOf(v) || (t === 'number' && typeOf(v) === 'integer'))) return [`${at}: ${typeOf(v)} is not ${types.join('|')}`];
  if (s.enum && !s.enum.includes(v)) errs.push(`${at}: ${String(v)} not in enum`);
  if (typeof v === 'string') {
    if (s.pattern && !new RegExp(s.pattern).test(v)) errs.push(`${at}: "${v}" does not match ${s.pattern}`);
    if (s.minLength !== undefined && v.length < s.minLength) errs.push(`${at}: too short`);
    if (s.maxLength !== undefined && v.length > s.maxLength) errs.push(`${at}: too long`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) errs.push(`${at}: below ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) errs.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => errs.push(...validate(s.items, x, `${at}[${i}]`)));
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const r of s.required ?? []) if (!(r in v)) errs.push(`${at}.${r}: required`);
    for (const [k, x] of Object.entries(v)) {
      const p = s.properties?.[k];
      if (p) errs.push(...validate(p, x, `${at}.${k}`));
      else if (s.additionalProperties === false) errs.push(`${at}.${k}: not allowed by the schema`);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') errs.push(...validate(s.additionalProperties, x, `${at}.${k}`));
    }
  }
  return errs;
}

/** Leaf paths of values.yaml (objects with keys are descended; empty objects/arrays and scalars are leaves). */
function leaves(obj: Any, prefix: string[] = []): string[][] {
  if (obj && typeof obj === 'object' && !Array.isArray(obj) && Object.keys(obj).length > 0) {
    return Object.entries(obj).flatMap(([k, v]) => leaves(v, [...prefix, k]));
  }
  return [prefix];
}

const rendered = templateFiles.filter((f) => f.endsWith('.yaml')).flatMap((f) => skeleton(read(join(TEMPLATES, f))).map((object) => ({ file: f, object })));
const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };

describe('chart: metadata', () => {
  it('Chart.yaml is a v2 application chart whose appVersion is the package version', () => {
    const chart = parse(read(join(CHART, 'Chart.yaml'))) as Any;
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'keelson');
    assert.equal(chart.type, 'application');
    assert.equal(chart.appVersion, pkg.version);
    assert.match(chart.version, /^\d+\.\d+\.\d+/);
  });

  it('has NOTES.txt and _helpers.tpl', () => {
    assert.ok(templateFiles.includes('NOTES.txt'));
    assert.ok(templateFiles.includes('_helpers.tpl'));
  });
});

describe('chart: templates cover manifests/', () => {
  it('every kind/name of manifests/ (with its overlay) has a template', () => {
    const have = new Set(rendered.map((r) => `${r.object.kind}/${r.object.metadata.name}`));
    for (const { file, object } of manifestObjects(true)) {
      if (object.kind === 'CustomResourceDefinition') continue;
      assert.ok(have.has(`${object.kind}/${object.metadata.name}`), `no template renders ${object.kind} ${object.metadata.name} (from manifests/${file})`);
    }
  });

  it('charts/keelson/crds/ holds byte-identical copies of manifests/crd-*.yaml, and nothing else', () => {
    const fromManifests = readdirSync(MANIFESTS).filter((f) => /^crd-.*\.yaml$/.test(f)).sort();
    const inChart = readdirSync(join(CHART, 'crds')).filter((f) => /\.ya?ml$/.test(f)).sort();
    assert.deepEqual(inChart, fromManifests, 'copy manifests/crd-*.yaml to charts/keelson/crds/');
    for (const f of fromManifests) assert.equal(read(join(CHART, 'crds', f)), read(join(MANIFESTS, f)), `charts/keelson/crds/${f} differs from manifests/${f}`);
  });

  it('optional Prometheus Operator objects exist', () => {
    const kinds = rendered.map((r) => r.object.kind);
    assert.ok(kinds.includes('ServiceMonitor'));
    assert.ok(kinds.includes('PodMonitor'));
  });
});

describe('chart: values', () => {
  const used = new Map<string, string>();
  for (const f of templateFiles) {
    for (const m of read(join(TEMPLATES, f)).matchAll(/\.Values((?:\.[A-Za-z_]\w*)+)/g)) used.set(m[1]!.slice(1), f);
  }

  it('every .Values path a template uses exists in values.yaml and in values.schema.json', () => {
    assert.ok(used.size > 30);
    for (const [path, file] of used) {
      assert.notEqual(lookup(values, path.split('.')), undefined, `${file} uses .Values.${path}, missing from values.yaml`);
      assert.ok(schemaAt(schema, path.split('.')), `${file} uses .Values.${path}, missing from values.schema.json`);
    }
  });

  it('every value in values.yaml is used by a template and described by the schema', () => {
    for (const leaf of leaves(values)) {
      const path = leaf.join('.');
      assert.ok(schemaAt(schema, leaf), `values.yaml ${path} is not in values.schema.json`);
      assert.ok([...used.keys()].some((u) => u === path || u.startsWith(`${path}.`) || path.startsWith(`${u}.`)), `values.yaml ${path} is used by no template`);
    }
  });

  it('values.yaml validates against values.schema.json, which rejects unknown keys', () => {
    assert.deepEqual(validate(schema, values), []);
    assert.deepEqual(validate(schema, { ...values, replicas: 2 }), ['values.replicas: not allowed by the schema']);
    assert.equal(validate(schema, { ...values, leaderElection: { ...values.leaderElection, leaseDuration: 'soon' } }).length, 1);
    assert.equal(validate(schema, { ...values, reload: { ...values.reload, strategy: 'restart' } }).length, 1);
  });

  it('defaults match the controller flag defaults', () => {
    const def = (n: string) => CONTROLLER_FLAGS.find((f) => f.name === n)!.default;
    assert.equal(values.leaderElection.id, def('leader-election-id'));
    assert.equal(values.leaderElection.leaseDuration, def('leader-election-lease-duration'));
    assert.equal(values.leaderElection.renewDeadline, def('leader-election-renew-deadline'));
    assert.equal(values.leaderElection.retryPeriod, def('leader-election-retry-period'));
    assert.equal(values.reload.strategy, def('reload-strategy'));
    assert.equal(values.reload.debounce, def('debounce'));
    assert.equal(values.reload.maxRollsPerSecond, def('max-rolls-per-second'));
    assert.equal(values.reload.rolloutTimeout, def('rollout-timeout'));
    assert.equal(values.sealing.keyRenewPeriod, def('key-renew-period'));
    assert.equal(values.sealing.keySize, def('key-size'));
    assert.equal(values.gitsync.maxConcurrentSyncs, def('max-concurrent-syncs'));
    assert.equal(values.gitsync.allowInsecureGit, def('allow-insecure-git'));
    assert.equal(values.gitsync.maxRevisionBytes, def('max-revision-bytes'));
    assert.equal(values.gitsync.maxRevisionObjects, def('max-revision-objects'));
    assert.equal(values.images.maxConcurrentScans, def('max-concurrent-scans'));
    assert.equal(values.images.allowInsecureRegistries, def('allow-insecure-registries'));
    assert.equal(values.shutdownTimeout, def('shutdown-timeout'));
    assert.equal(values.logLevel, def('log-level'));
    assert.equal(values.gitsync.applyClusterRoleBinding.enabled, false, 'the broad Git-sync binding is opt-in');
  });
});

describe('chart: template syntax and content', () => {
  it('actions are balanced: {{ }} pairs, and one end per if/with/range/define', () => {
    for (const f of templateFiles) {
      const text = read(join(TEMPLATES, f));
      assert.equal((text.match(/\{\{/g) ?? []).length, (text.match(/\}\}/g) ?? []).length, `${f}: unbalanced {{ }}`);
      const opens = (text.match(/\{\{-?\s*(if|with|range|define)\b/g) ?? []).length;
      const ends = (text.match(/\{\{-?\s*end\s*-?\}\}/g) ?? []).length;
      assert.equal(opens, ends, `${f}: ${opens} blocks opened, ${ends} ended`);
    }
  });

  it('no bare .Values inside with/range, where the dot is rebound (use $.Values there)', () => {
    for (const f of templateFiles) {
      const stack: string[] = [];
      for (const m of read(join(TEMPLATES, f)).matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)) {
        const action = m[1]!;
        const word = /^(\w+)/.exec(action)?.[1];
        if (word === 'end') { stack.pop(); continue; }
        if (stack.some((b) => b === 'with' || b === 'range')) assert.ok(!/(^|[^$\w])\.Values\b/.test(action), `${f}: "{{ ${action} }}" reads .Values inside with/range`);
        if (word === 'if' || word === 'with' || word === 'range' || word === 'define') stack.push(word);
      }
      assert.equal(stack.length, 0, `${f}: unclosed block`);
    }
  });

  it('every template object has its labels and, when namespaced, the release namespace', () => {
    for (const { file, object } of rendered) {
      assert.ok(read(join(TEMPLATES, file)).includes('include "keelson.labels"'), `${file}: no standard labels`);
      // The kubeseal forwarder lives where kubeseal looks (kube-system by default), not in the release namespace.
      const ns = file === 'kubeseal-compat.yaml' ? values.sealing.kubesealCompat.namespace : 'keelson-system';
      if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind!)) assert.equal(object.metadata.namespace, ns, `${file}: ${object.kind}`);
    }
  });

  it('RBAC templates have no wildcards and match the manifests rule for rule with every feature on', () => {
    const fromManifests = manifestObjects().filter((m) => m.object.kind === 'ClusterRole' || m.object.kind === 'Role');
    for (const { object } of fromManifests) {
      const t = rendered.find((r) => r.object.kind === object.kind && r.object.metadata.name === object.metadata.name)!.object;
      assert.deepEqual(t.rules, object.rules, `${object.kind} ${object.metadata.name}`);
    }
    for (const { file, object } of rendered) {
      for (const r of (object.rules ?? []) as Any[]) for (const k of ['apiGroups', 'resources', 'verbs']) {
        for (const v of r[k] ?? []) assert.ok(!String(v).includes('*'), `${file}: wildcard in ${k}`);
      }
    }
  });

  it('the Deployment template keeps the hardening, probes, ports, env and volumes of manifests/deployment.yaml', () => {
    const want = manifestObjects().find((m) => m.object.kind === 'Deployment')!.object as Any;
    const got = rendered.find((r) => r.object.kind === 'Deployment')!.object as Any;
    const wp = want.spec.template.spec;
    const gp = got.spec.template.spec;
    assert.deepEqual(gp.securityContext, wp.securityContext);
    assert.equal(gp.terminationGracePeriodSeconds, wp.terminationGracePeriodSeconds);
    const [wc, gc] = [wp.containers[0], gp.containers[0]];
    for (const k of ['securityContext', 'livenessProbe', 'readinessProbe', 'ports', 'env', 'volumeMounts']) assert.deepEqual(gc[k], wc[k], k);
    assert.deepEqual(gp.volumes, wp.volumes);
    assert.equal(got.spec.replicas, want.spec.replicas);
  });

  it('the Deployment passes only real controller flags, and the defaults parse', () => {
    const got = rendered.find((r) => r.object.kind === 'Deployment')!.object as Any;
    const args = got.spec.template.spec.containers[0].args as string[];
    assert.equal(args[0], 'controller');
    const names = new Set(CONTROLLER_FLAGS.map((f) => f.name));
    for (const a of args.slice(1)) {
      const name = /^--([a-z-]+)/.exec(a)?.[1];
      if (a === 'X') continue; // extraArgs
      assert.ok(name && names.has(name), `unknown flag in the Deployment template: ${a}`);
    }
    const resolved = args.slice(1).filter((a) => !a.includes('X'));
    const o = loadOptions(resolved, {});
    assert.equal(o.leaderElection.enabled, true);
    assert.equal(o.leaderElection.leaseDurationMs, 15_000);
    assert.equal(o.sealing.keyNamespace, 'keelson-system');
    assert.equal(o.gitsync.cacheDir, '/tmp/keelson-git');
    assert.deepEqual([o.httpAddr.port, o.metricsAddr?.port], [8080, 9090]);
    const text = read(join(TEMPLATES, 'deployment.yaml'));
    for (const f of ['reload', 'sealing', 'gitsync', 'images']) assert.ok(text.includes(`- --disable-${f}`), `features.${f}=false adds --disable-${f}`);
  });
});
