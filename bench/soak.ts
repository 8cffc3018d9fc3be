// The chaos soak (issue 18): a real control plane, two leader-elected controller processes, N workloads each with
// its own ConfigMap and Secret, and a seeded schedule of config changes and faults. A watch records every pod-template
// roll; the oracle (support/soak-plan.ts) says which rolls had to happen; the report names lost and extra rolls.
// `npm run soak -- --seed S --workloads N --minutes T`, or `--smoke` (60 s, a few workloads).

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isAlreadyExists, type KubeClient } from '../src/kube/client.js';
import { CONFIGMAPS, DAEMONSETS, DEPLOYMENTS, EVENTS, LEASES, NAMESPACES, SECRETS, STATEFULSETS, type ResourceType } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import { contentDigest, keyedForm, type DigestForm } from '../src/reload/digest.js';
import { newDigestKeySecret } from '../src/reload/digest-key.js';
import { type ControlPlane, startControlPlane } from '../test/support/control-plane.js';
import { type FakeKubelet, startFakeKubelet } from '../test/support/fake-kubelet.js';
import { type ControllerProcess, REPO_ROOT, spawnController } from './support/controller-process.js';
import {
  ABSENT, type AppliedChange, type ChangeStep, type ContentState, type FaultKind, type FaultStep, type Schedule, type Strategy, type WorkloadPlan,
  type WorkloadVerdict, FAULT_KINDS, expectedRolls, judge, makeSchedule, stateKey,
} from './support/soak-plan.js';

const NS = 'soak';
const SYSTEM = 'keelson-system';
const LEASE_MS = 3000;
const TIMINGS = ['--leader-election-lease-duration', '3s', '--leader-election-renew-deadline', '2s', '--leader-election-retry-period', '500ms'];
/** After a workload's debounce: time a leader needs to see, decide and write (generous for a loaded 2-core machine). */
const SETTLE_MARGIN_MS = 4000;
/** After a fault: time the new or recovered leader needs to resync its stores before it acts. */
const RESYNC_MS = 2000;
/** bench/results stays small: a result larger than this is written gzipped (`zcat` reads it). */
const RESULT_GZIP_BYTES = 300_000;
const TYPES: Record<WorkloadPlan['kind'], ResourceType> = { Deployment: DEPLOYMENTS, StatefulSet: STATEFULSETS, DaemonSet: DAEMONSETS };

export interface SoakOptions {
  readonly seed: number;
  readonly workloads: number;
  readonly minutes: number;
  readonly faults?: number;
  /** Overrides the seed's pick of --reload-strategy. */
  readonly strategy?: Strategy;
  readonly resultsDir: string;
  readonly log?: (line: string) => void;
}

export interface FaultRecord { readonly kind: FaultKind; readonly at: number; readonly target?: string; readonly outage: readonly [number, number]; readonly note?: string }

export interface SoakReport {
  readonly seed: number;
  readonly strategy: string;
  readonly workloads: number;
  readonly minutes: number;
  readonly faultsInjected: Record<FaultKind, number>;
  readonly changes: Record<string, number>;
  readonly expectedRolls: number;
  readonly rollsSeen: number;
  readonly lostRolls: number;
  readonly extraRolls: number;
  readonly finalMismatches: number;
  readonly untrackedRollouts: readonly string[];
  /** Rolls or baselines a paused replica logged after it woke, when another replica had taken the Lease meanwhile. */
  readonly writesAfterLeaseLoss: readonly string[];
  /** Watches of the controllers that met 410 Gone and relisted (from their logs). */
  readonly relists410: number;
  readonly replicaExits: number;
  readonly verdicts: readonly WorkloadVerdict[];
  readonly faults: readonly FaultRecord[];
  readonly resultFile: string;
  readonly ok: boolean;
}

/** What a controller logs after a successful reload write. */
const WRITE_MSGS = new Set(['rolled', 'baseline recorded without a roll (first sight)', 'baseline updated without a roll', 'pod template already carries this content; baseline updated, nothing to roll', 'no longer a reload target: baseline removed']);
function logLines(file: string): { time?: string; msg?: string; workload?: string; sentAt?: string }[] {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  return text.split('\n').flatMap((l) => { try { return [JSON.parse(l) as { time?: string; msg?: string }]; } catch { return []; } });
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const cmName = (w: WorkloadPlan) => `${w.name}-cm`;
const secretName = (w: WorkloadPlan) => `${w.name}-secret`;
const cmData = (v: number) => ({ v: `cm-${v}` });
const secretPlain = (v: number) => ({ v: `s-${v}` });
const envName = (name: string, kind: 'ConfigMap' | 'Secret') => `KEELSON_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${kind === 'ConfigMap' ? 'CONFIGMAP' : 'SECRET'}`;

/** What a roll to this content writes into the pod template: the config hash, or the KEELSON_* variables. */
function expectedSignature(w: WorkloadPlan, s: ContentState, form: DigestForm, strategy: string): string {
  const present: { kind: 'ConfigMap' | 'Secret'; name: string; digest: string }[] = [];
  if (s.cm !== ABSENT) present.push({ kind: 'ConfigMap', name: cmName(w), digest: contentDigest(cmData(s.cm), undefined) });
  if (s.secret !== ABSENT) {
    const data = Object.fromEntries(Object.entries(secretPlain(s.secret)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    present.push({ kind: 'Secret', name: secretName(w), digest: contentDigest(data, undefined) });
  }
  if (strategy === 'annotations') return form.workload(present.map((p) => ({ ...p, namespace: NS })));
  return present.map((p) => `${envName(p.name, p.kind)}=${form.config(p.digest)}`).sort().join(';');
}

function templateSignature(o: KubeObject, strategy: string): string | undefined {
  const template = (o.spec as { template?: { metadata?: { annotations?: Record<string, string> }; spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } }).template;
  if (strategy === 'annotations') return template?.metadata?.annotations?.['keelson.dev/config-hash'];
  const vars = (template?.spec?.containers ?? []).flatMap((c) => c.env ?? []).filter((e) => e.name.startsWith('KEELSON_')).map((e) => `${e.name}=${e.value ?? ''}`).sort();
  return vars.length > 0 ? vars.join(';') : undefined;
}

function workloadObject(w: WorkloadPlan): KubeObject {
  const annotations: Record<string, string> = { 'keelson.dev/auto': 'true', ...(w.debounce ? { 'keelson.dev/debounce': w.debounce } : {}) };
  const template = {
    metadata: { labels: { app: w.name } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', image: 'example/app:1', volumeMounts: [{ name: 'cm', mountPath: '/cfg/cm' }, { name: 'secret', mountPath: '/cfg/secret' }] }],
      volumes: [{ name: 'cm', configMap: { name: cmName(w) } }, { name: 'secret', secret: { secretName: secretName(w) } }],
    },
  };
  const spec: Record<string, unknown> = { selector: { matchLabels: { app: w.name } }, template, revisionHistoryLimit: 1000 };
  if (w.kind !== 'DaemonSet') spec.replicas = 1;
  if (w.kind === 'StatefulSet') spec.serviceName = w.name;
  return { apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, namespace: NS, annotations }, spec };
}

/** Retries a write until the API answers (it may be restarting); a 404/409 is handed to `tolerate`. */
async function retry<T>(what: string, fn: () => Promise<T>, tolerate: (e: unknown) => boolean = () => false): Promise<T | undefined> {
  for (let i = 0; ; i++) {
    try { return await fn(); } catch (e) {
      if (tolerate(e)) return undefined;
      if (i > 600) throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      await delay(200);
    }
  }
}

interface Slot { readonly id: string; gen: number; proc: ControllerProcess | undefined; pod: string; paused: boolean; nextDelayMs: number }

/** Two controller replicas, each restarted after its slot's delay whenever it exits (killed, terminated, or its own choice). */
class Replicas {
  readonly slots: Slot[] = [{ id: 'a', gen: 0, proc: undefined, pod: '', paused: false, nextDelayMs: 1000 }, { id: 'b', gen: 0, proc: undefined, pod: '', paused: false, nextDelayMs: 1000 }];
  exits = 0;
  private stopping = false;
  constructor(private readonly cp: ControlPlane, private readonly flags: readonly string[], private readonly dir: string, private readonly log: (l: string) => void) {}

  async start(slot: Slot): Promise<void> {
    slot.gen++;
    slot.pod = `keelson-${slot.id}${slot.gen}`;
    slot.paused = false;
    const proc = await spawnController({ kubeconfigPath: this.cp.kubeconfigPath, flags: this.flags, logFile: join(this.dir, `${slot.pod}.log`), env: { POD_NAME: slot.pod } });
    slot.proc = proc;
    void proc.exited.then((code) => {
      if (slot.proc !== proc) return;
      slot.proc = undefined;
      if (this.stopping) return;
      this.exits++;
      const wait = slot.nextDelayMs;
      slot.nextDelayMs = 1000;
      this.log(`  ${slot.pod} exited (${code ?? 'signal'}); restart in ${wait} ms`);
      setTimeout(() => { if (!this.stopping) void this.start(slot).catch((e: unknown) => this.log(`  restart of ${slot.id} failed: ${String(e)}`)); }, wait);
    });
  }

  bySlotPod(pod: string): Slot | undefined { return this.slots.find((s) => s.proc && s.pod === pod); }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.slots) if (s.proc) { try { process.kill(s.proc.pid, 'SIGCONT'); } catch { /* gone */ } }
    await Promise.all(this.slots.map((s) => s.proc?.stop()));
  }
}

interface LeaseView { holder: string; renewMs: number }
async function lease(client: KubeClient): Promise<LeaseView | undefined> {
  const l = await client.tryGet(LEASES, SYSTEM, 'keelson').catch(() => undefined);
  const spec = l?.spec as { holderIdentity?: string; renewTime?: string } | undefined;
  if (!spec?.holderIdentity) return undefined;
  return { holder: spec.holderIdentity.split('_')[0]!, renewMs: spec.renewTime ? Date.parse(spec.renewTime) : 0 };
}

/** A running, unpaused replica holds a fresh Lease. */
async function healthyLeader(client: KubeClient, replicas: Replicas): Promise<Slot | undefined> {
  const l = await lease(client);
  if (!l) return undefined;
  const slot = replicas.bySlotPod(l.holder);
  if (!slot || slot.paused || Date.now() - l.renewMs > 2500) return undefined;
  return slot;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(200);
  }
}

/** Every change of a workload's pod-template signature, by a watch that relists whenever it breaks (410 included). */
function watchRolls(client: KubeClient, plan: Schedule, t0: () => number, signal: AbortSignal): Map<string, { at: number; sig: string | undefined }[]> {
  const rolls = new Map<string, { at: number; sig: string | undefined }[]>(plan.workloads.map((w) => [w.name, []]));
  const last = new Map<string, string | undefined>();
  const see = (o: KubeObject) => {
    const name = o.metadata.name!;
    if (!rolls.has(name)) return;
    const sig = templateSignature(o, plan.strategy);
    if (last.has(name) && last.get(name) === sig) return;
    if (!last.has(name) && sig === undefined) { last.set(name, sig); return; }
    last.set(name, sig);
    rolls.get(name)!.push({ at: t0(), sig });
  };
  for (const t of [DEPLOYMENTS, STATEFULSETS, DAEMONSETS]) {
    void (async () => {
      while (!signal.aborted) {
        try {
          const list = await client.list(t, { namespace: NS });
          for (const o of list.items) see(o);
          await client.watch(t, { namespace: NS, resourceVersion: list.metadata.resourceVersion, signal, timeoutSeconds: 60 }, (ev) => {
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') see(ev.object as KubeObject);
          });
        } catch {
          if (!signal.aborted) await delay(200);
        }
      }
    })();
  }
  return rolls;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? ((l: string) => console.log(l));
  const durationMs = Math.round(o.minutes * 60_000);
  const faultCount = o.faults ?? Math.max(FAULT_KINDS.length, Math.floor(durationMs / 7500));
  const plan = makeSchedule({ seed: o.seed, workloads: o.workloads, durationMs, faults: faultCount, ...(o.strategy ? { strategy: o.strategy } : {}) });
  log(`soak: seed ${o.seed}, ${o.workloads} workloads, ${o.minutes} min, strategy ${plan.strategy}, ${plan.changes.length} changes, ${plan.faults.length} faults`);
  const dir = mkdtempSync(join(tmpdir(), 'keelson-soak-'));
  const cp = await startControlPlane({ controllerManager: true, apiServerFlags: ['--watch-cache=false'] });
  let kubelet: FakeKubelet | undefined;
  let replicas: Replicas | undefined;
  const abort = new AbortController();
  let passed = false;
  try {
    const client = cp.client;
    kubelet = await startFakeKubelet(client);
    for (const ns of [SYSTEM, NS]) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const keySecret = newDigestKeySecret(SYSTEM);
    await client.create(SECRETS, keySecret);
    const form = keyedForm(Buffer.from((keySecret.data as Record<string, string>).key!, 'base64'));
    for (const w of plan.workloads) {
      await client.create(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName(w), namespace: NS }, data: cmData(0) });
      await client.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretName(w), namespace: NS }, type: 'Opaque', stringData: secretPlain(0) });
      await client.create(TYPES[w.kind], workloadObject(w));
    }
    const flags = ['--disable-sealing', '--disable-gitsync', '--disable-images', '--leader-elect', ...TIMINGS, '--debounce', `${plan.defaultDebounceMs}ms`, '--reload-strategy', plan.strategy];
    replicas = new Replicas(cp, flags, dir, log);
    await Promise.all(replicas.slots.map((s) => replicas!.start(s)));
    await until('a leader', () => healthyLeader(client, replicas!), 120_000);
    await until('baselines on every workload', async () => {
      for (const w of plan.workloads) if (!(await client.get(TYPES[w.kind], NS, w.name)).metadata.annotations?.['keelson.dev/observed']) return undefined;
      return true;
    }, 120_000);

    const start = Date.now();
    const t0 = () => Date.now() - start;
    const rolls = watchRolls(client, plan, t0, abort.signal);
    const applied: AppliedChange[] = [];
    const chains = new Map<number, Promise<void>>();
    const apply = async (step: ChangeStep) => {
      const w = plan.workloads[step.workload]!;
      const cm = step.target === 'ConfigMap';
      const type = cm ? CONFIGMAPS : SECRETS;
      const name = cm ? cmName(w) : secretName(w);
      const content = cm ? { data: cmData(step.version) } : { stringData: secretPlain(step.version) };
      let deletedAt: number | undefined;
      switch (step.op) {
        case 'content': case 'identical':
          await retry('patch', () => client.patch(type, NS, name, 'merge', content));
          break;
        case 'metadata':
          await retry('label', () => client.patch(type, NS, name, 'merge', { metadata: { labels: { touched: String(step.at) } } }));
          break;
        case 'recreate':
          await retry('delete', () => client.delete(type, NS, name));
          deletedAt = t0();
          await delay(step.gapMs);
          await retry('create', () => client.create(type, { apiVersion: 'v1', kind: cm ? 'ConfigMap' : 'Secret', metadata: { name, namespace: NS }, ...(cm ? {} : { type: 'Opaque' }), ...content }), isAlreadyExists);
          break;
      }
      applied.push({ step, doneAt: t0(), ...(deletedAt === undefined ? {} : { deletedAt }) });
    };
    const changesDone = Promise.all(plan.changes.map(async (step) => {
      await delay(Math.max(0, step.at - t0()));
      const prev = chains.get(step.workload) ?? Promise.resolve();
      const next = prev.then(() => apply(step));
      chains.set(step.workload, next);
      await next;
    }));

    const faults: FaultRecord[] = [];
    const wakes: { logFile: string; at: number; takenAt: number; pausedAt: number }[] = [];
    const runFault = async (f: FaultStep): Promise<FaultRecord> => {
      const from = t0();
      let target: string | undefined;
      let note: string | undefined;
      const leader = async () => await until('a healthy leader', () => healthyLeader(client, replicas!), 60_000);
      switch (f.kind) {
        case 'kill-leader': case 'term-leader': {
          const l = await leader();
          target = l.pod;
          l.nextDelayMs = f.restartDelayMs;
          const proc = l.proc!;
          process.kill(proc.pid, f.kind === 'kill-leader' ? 'SIGKILL' : 'SIGTERM');
          await proc.exited;
          break;
        }
        case 'kill-standby': {
          const l = await leader();
          const s = await until('a standby', async () => replicas!.slots.find((x) => x !== l && x.proc && !x.paused), 30_000);
          target = s.pod;
          s.nextDelayMs = f.restartDelayMs;
          const proc = s.proc!;
          process.kill(proc.pid, 'SIGKILL');
          await proc.exited;
          break;
        }
        case 'api-restart':
          await cp.restartApiServer();
          break;
        case 'compaction': {
          // Compacted at the head revision, every resourceVersion a watch holds is gone: resuming meets 410 Gone.
          const rev = await cp.compactEtcd();
          await cp.restartApiServer();
          note = `compacted at revision ${rev}`;
          break;
        }
        case 'pause-leader': {
          const l = await leader();
          // A standby that is up and standing by, so the Lease can really change hands while the leader sleeps.
          await until('a standby standing by', async () => replicas!.slots.find((x) => x !== l && x.proc && !x.paused
            && logLines(x.proc.logFile).some((line) => line.msg === 'leader election: lease held by another replica')), 30_000).catch(() => undefined);
          target = l.pod;
          const pid = l.proc!.pid;
          l.paused = true;
          process.kill(pid, 'SIGSTOP');
          const pausedAt = Date.now();
          // Asleep until another replica holds the Lease, or it has expired with nobody to take it.
          let lostAt = 0;
          const passed = await until('the Lease to pass', async () => {
            lostAt = Date.now();
            const v = await lease(client);
            return !v ? undefined : v.holder !== l.pod ? v.holder : Date.now() - v.renewMs > LEASE_MS + 1000 ? '' : undefined;
          }, 30_000);
          await delay(f.restartDelayMs / 2);
          // Expired with nobody to take it, the sleeper may renew it on waking (the Lease update is conditional);
          // once another replica holds it, the sleeper must not write again.
          note = `stopped ${Date.now() - pausedAt} ms; ${passed ? `Lease taken by ${passed}` : 'Lease expired, not taken'}`;
          l.paused = false;
          if (passed) wakes.push({ logFile: l.proc!.logFile, at: Date.now(), takenAt: lostAt, pausedAt });
          try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
          break;
        }
      }
      await leader();
      return { kind: f.kind, at: from, ...(target ? { target } : {}), outage: [from, t0() + RESYNC_MS], ...(note ? { note } : {}) };
    };
    const faultsDone = (async () => {
      for (const f of plan.faults) {
        await delay(Math.max(0, f.at - t0()));
        const r = await runFault(f);
        faults.push(r);
        log(`  fault ${r.kind}${r.target ? ` ${r.target}` : ''} at ${(r.at / 1000).toFixed(1)} s, outage ${((r.outage[1] - r.outage[0]) / 1000).toFixed(1)} s${r.note ? ` (${r.note})` : ''}`);
      }
    })();
    await Promise.all([changesDone, faultsDone]);
    log(`  schedule done at ${(t0() / 1000).toFixed(1)} s; settling`);

    // Settle: wait (bounded) until every workload shows its final content, then a quiet period for late extras.
    const finalSig = (w: WorkloadPlan, i: number) => {
      const exp = expectedRolls(applied.filter((a) => a.step.workload === i), [], 0, t0());
      return exp.contentChanges === 0 ? undefined : exp.finalAccepted.map((s) => expectedSignature(w, s, form, plan.strategy));
    };
    await until('every workload at its final content', async () => {
      for (const [i, w] of plan.workloads.entries()) {
        const want = finalSig(w, i);
        const at = rolls.get(w.name)!.at(-1)?.sig;
        if (want === undefined ? at !== undefined : !want.includes(at ?? '')) return undefined;
      }
      return true;
    }, 90_000).catch((e: unknown) => log(`  ${e instanceof Error ? e.message : String(e)}`));
    await delay(Math.max(...plan.workloads.map((w) => w.debounceMs)) + SETTLE_MARGIN_MS);
    const horizon = t0();
    abort.abort();

    const outages = faults.map((f) => f.outage);
    const verdicts: WorkloadVerdict[] = [];
    for (const [i, w] of plan.workloads.entries()) {
      const exp = expectedRolls(applied.filter((a) => a.step.workload === i), outages, w.debounceMs + SETTLE_MARGIN_MS, horizon);
      const bySig = new Map<string, ContentState>();
      for (const s of [...exp.reached].reverse()) bySig.set(expectedSignature(w, s, form, plan.strategy), s);
      const seen = rolls.get(w.name)!.map((r) => (r.sig === undefined ? undefined : bySig.get(r.sig)));
      const v = judge(w.name, w.kind, exp, seen);
      // A template value matching no state the workload went through: name the pair of contents it does match.
      const grid = new Map<string, string>();
      const top = { cm: Math.max(0, ...exp.reached.map((x) => x.cm)), secret: Math.max(0, ...exp.reached.map((x) => x.secret)) };
      if (seen.includes(undefined)) {
        for (let cm = ABSENT; cm <= top.cm; cm++) for (let sv = ABSENT; sv <= top.secret; sv++) grid.set(expectedSignature(w, { cm, secret: sv }, form, plan.strategy), stateKey({ cm, secret: sv }));
      }
      const decoded = rolls.get(w.name)!.filter((_, k) => seen[k] === undefined).map((r) => `${r.sig === undefined ? 'removed' : grid.get(r.sig) ?? 'unknown'} at ${(r.at / 1000).toFixed(1)} s`);
      verdicts.push(decoded.length > 0 ? { ...v, extra: [...v.extra.filter((e) => !e.startsWith('a template value')), ...decoded.map((d) => `a template value matching no state the workload went through: ${d}`)] } : v);
    }
    // Every rolled workload's rollout followed to its end.
    const events = await client.list(EVENTS, { namespace: NS });
    const completed = new Set(events.items.filter((e) => e.reason === 'RolloutComplete').map((e) => (e.involvedObject as { name: string }).name));
    const untrackedRollouts = verdicts.filter((v) => v.rollsSeen > 0 && !completed.has(v.workload)).map((v) => v.workload);

    // A replica woken after losing the Lease must not write: a roll it logged after the wake counts when the watch
    // saw that workload's template change after the Lease had passed (a request sent before the pause, answered
    // after the wake, was applied while the Lease was still its own). Any write logged after the wake whose request
    // passed the Lease fence before the pause began (`sentAt` is the latest fence time, never earlier than the
    // write's own) was sent before the freeze, while the Lease was its own: only its answer came after.
    const writesAfterLeaseLoss = wakes.flatMap((w) => logLines(w.logFile).filter((l) => {
      if (!(Date.parse(l.time ?? '') > w.at && WRITE_MSGS.has(l.msg ?? ''))) return false;
      if (l.sentAt !== undefined && Date.parse(l.sentAt) < w.pausedAt) return false;
      if (l.msg !== 'rolled' || !l.workload) return true;
      const name = l.workload.split('/')[1] ?? '';
      const seenAt = (rolls.get(name) ?? []).filter((r) => start + r.at <= Date.parse(l.time!) + 50).at(-1)?.at;
      return seenAt === undefined || start + seenAt > w.takenAt;
    }).map((l) => `${w.logFile}: ${l.msg}${l.workload ? ` ${l.workload}` : ''} at ${l.time}`));
    const relists410 = readdirSync(dir).reduce((n, f) => n + logLines(join(dir, f)).filter((l) => l.msg === 'watch resourceVersion expired (410); relisting').length, 0);
    const count = <T extends string>(xs: readonly T[]) => xs.reduce((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {} as Record<T, number>);
    const report: Omit<SoakReport, 'resultFile' | 'ok'> = {
      seed: o.seed, strategy: plan.strategy, workloads: o.workloads, minutes: o.minutes,
      faultsInjected: { ...Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])), ...count(faults.map((f) => f.kind)) } as Record<FaultKind, number>,
      changes: count(applied.map((a) => a.step.op)),
      expectedRolls: verdicts.reduce((n, v) => n + v.expectedRolls, 0),
      rollsSeen: verdicts.reduce((n, v) => n + v.rollsSeen, 0),
      lostRolls: verdicts.reduce((n, v) => n + v.lost.length, 0),
      extraRolls: verdicts.reduce((n, v) => n + v.extra.length, 0),
      finalMismatches: verdicts.filter((v) => !v.finalOk).length,
      untrackedRollouts, writesAfterLeaseLoss, relists410, replicaExits: replicas.exits, verdicts, faults,
    };
    const ok = report.lostRolls === 0 && report.extraRolls === 0 && untrackedRollouts.length === 0 && writesAfterLeaseLoss.length === 0;
    mkdirSync(o.resultsDir, { recursive: true });
    // A full run's JSON is megabytes (every change, roll and fault): above RESULT_GZIP_BYTES it is kept gzipped.
    const text = JSON.stringify({ ...report, ok, schedule: plan, applied, rolls: Object.fromEntries(rolls), logs: dir }, null, 2) + '\n';
    const base = join(o.resultsDir, `soak-seed${o.seed}-n${o.workloads}-t${o.minutes}.json`);
    const resultFile = text.length > RESULT_GZIP_BYTES ? `${base}.gz` : base;
    writeFileSync(resultFile, text.length > RESULT_GZIP_BYTES ? gzipSync(text, { level: 9 }) : text);
    log(`soak seed ${o.seed}: faults ${JSON.stringify(report.faultsInjected)}; changes ${JSON.stringify(report.changes)}`);
    log(`  rolls expected ${report.expectedRolls}, seen ${report.rollsSeen}; lost ${report.lostRolls}, extra ${report.extraRolls}, final mismatches ${report.finalMismatches}, untracked rollouts ${untrackedRollouts.length}, writes after losing the Lease ${writesAfterLeaseLoss.length}; replica exits ${replicas.exits}, 410 relists ${relists410}`);
    for (const w of writesAfterLeaseLoss) log(`  write after losing the Lease: ${w}`);
    for (const v of verdicts) for (const p of [...v.lost, ...v.extra]) log(`  ${v.kind} ${v.workload}: ${p}`);
    log(`  ${ok ? 'PASS' : 'FAIL'} (replay: npm run soak -- --seed ${o.seed} --workloads ${o.workloads} --minutes ${o.minutes}); results ${resultFile}; controller logs ${ok ? '(removed)' : dir}`);
    passed = ok;
    return { ...report, resultFile, ok };
  } finally {
    abort.abort();
    await replicas?.stop();
    await kubelet?.stop();
    await cp.stop();
    // Controller logs are kept for a failed run only (the report names the folder).
    if (passed && !process.env.KEELSON_KEEP_SOAK_LOGS) rmSync(dir, { recursive: true, force: true });
  }
}

function parseArgs(argv: readonly string[]): SoakOptions {
  const get = (flag: string) => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
  const smoke = argv.includes('--smoke');
  const seed = Number(get('--seed') ?? Math.floor(Math.random() * 2 ** 31));
  const workloads = Number(get('--workloads') ?? (smoke ? 6 : 50));
  const minutes = Number(get('--minutes') ?? (smoke ? 1 : 15));
  const faults = get('--faults');
  const strategy = get('--strategy');
  if (strategy !== undefined && strategy !== 'annotations' && strategy !== 'env-vars') throw new Error('--strategy is annotations or env-vars');
  if (![seed, workloads, minutes].every(Number.isFinite) || workloads < 1 || minutes <= 0) throw new Error('usage: soak [--smoke] [--seed S] [--workloads N] [--minutes T] [--faults F] [--strategy annotations|env-vars]');
  return { seed, workloads, minutes, ...(faults ? { faults: Number(faults) } : {}), ...(strategy ? { strategy } : {}), resultsDir: join(REPO_ROOT, 'bench', 'results', ...(smoke ? ['tmp'] : [])) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await runSoak(parseArgs(process.argv.slice(2)));
  process.exit(report.ok ? 0 : 1);
}
