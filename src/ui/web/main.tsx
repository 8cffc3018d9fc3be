// The dashboard page (preact, bundled by esbuild into dist/ui-web/app.js): hash routes for the overview, a GitSync
// and the seal form. Data comes from the local server's /api; /api/events (server-sent events from watches) says
// which kinds changed and the page re-reads its view: no polling.

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Cell, DiffView } from '../diff-view.js';
import type { GitSyncDetail, GitSyncRow, Overview, SealedSecretDetail, Section, WorkloadDetail } from '../view-models.js';
import { SealForm } from './seal-form.js';
import './style.css';

export const WRITE_HEADERS = { 'X-Keelson-UI': '1', 'Content-Type': 'application/json' };

function useRoute(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    on(); // effects run after paint: a hash changed before that would be missed
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** Changes seen on the server's event stream: a counter that bumps on every notice. */
function useLiveVersion(): { version: number; live: boolean } {
  const [state, setState] = useState({ version: 0, live: false });
  useEffect(() => {
    const es = new EventSource('api/events');
    es.onopen = () => setState((s) => ({ ...s, live: true }));
    es.onerror = () => setState((s) => ({ ...s, live: false }));
    es.addEventListener('change', () => setState((s) => ({ version: s.version + 1, live: true })));
    return () => es.close();
  }, []);
  return state;
}

type Load<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'forbidden' | 'error'; message: string };

function useJson<T>(path: string, version: number): Load<T> {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  useEffect(() => {
    let stop = false;
    fetch(path).then(async (r) => {
      const body = (await r.json()) as T & { error?: string };
      if (stop) return;
      if (r.ok) setLoad({ state: 'ok', data: body });
      else setLoad({ state: r.status === 403 ? 'forbidden' : 'error', message: body.error ?? `HTTP ${r.status}` });
    }).catch((e: unknown) => { if (!stop) setLoad({ state: 'error', message: String(e) }); });
    return () => { stop = true; };
  }, [path, version]);
  return load;
}

const PLURALS: Record<string, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', 'Deployment.apps': 'deployments', 'StatefulSet.apps': 'statefulsets', 'DaemonSet.apps': 'daemonsets' };

/** A link to the workload page for the kinds it knows, plain text otherwise. */
function ObjectLink({ kind, namespace, name, label }: { kind: string; namespace: string; name: string; label: string }) {
  const plural = PLURALS[kind];
  return plural ? <a class="mono nowrap" href={`#/workload/${plural}/${namespace}/${name}`}>{label}</a> : <span class="mono nowrap">{label}</span>;
}

function Badge({ status, label }: { status: string; label?: string }) {
  const cls = status === 'True' ? 'ok' : status === 'False' ? 'bad' : 'unknown';
  return <span class={`badge ${cls}`}>{label ?? (status === 'True' ? 'Ready' : status === 'False' ? 'Not ready' : 'Unknown')}</span>;
}

function SectionView<T>({ title, section, empty, children }: { title: string; section: Section<T>; empty: string; children: (items: readonly T[]) => preact.ComponentChildren }) {
  const id = title.toLowerCase().replace(/[^a-z]+/g, '-');
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {section.state === 'forbidden' && <p class="forbidden" role="status"><strong>Forbidden:</strong> {section.message}.</p>}
      {section.state === 'error' && <p class="error" role="alert">{section.message}</p>}
      {section.state === 'ok' && (section.items.length === 0 ? <p class="muted">{empty}</p> : children(section.items))}
    </section>
  );
}

function GitSyncTable({ rows }: { rows: readonly GitSyncRow[] }) {
  return (
    <table>
      <caption class="sr-only">GitSyncs</caption>
      <thead><tr><th scope="col">GitSync</th><th scope="col">Ready</th><th scope="col">Revision</th><th scope="col">Drift</th><th scope="col">Age</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.namespace}/${r.name}`} data-gitsync={`${r.namespace}/${r.name}`}>
            <td><a href={`#/gitsync/${r.namespace}/${r.name}`}>{r.namespace}/{r.name}</a>{r.suspended && <span class="badge unknown">suspended</span>}</td>
            <td><Badge status={r.ready} /> <span class="muted" title={r.message}>{r.reason}</span></td>
            <td class="mono revision" title={r.revision}>{r.revision || '—'}</td>
            <td>{r.drifted > 0 ? <span class="badge bad">{r.drifted} drifted</span> : '0'}</td>
            <td>{r.age}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OverviewPage({ version }: { version: number }) {
  const load = useJson<Overview>('api/overview', version);
  if (load.state === 'loading') return <p>Loading…</p>;
  if (load.state !== 'ok') return <p class={load.state} role="alert">{load.message}</p>;
  const o = load.data;
  return (
    <>
      <SectionView title="Controller" section={o.controller} empty="No leader Lease: the controller runs without --leader-elect, or is not running.">
        {(rows) => <p class="leader">{rows.map((l) => <span key={l.holder}><Badge status={l.fresh ? 'True' : 'False'} label={l.fresh ? 'Leading' : 'Lease expired'} /> <span class="mono">{l.holder}</span> renewed {l.renewed} ago</span>)}</p>}
      </SectionView>
      <SectionView title="GitSyncs" section={o.gitSyncs} empty="No GitSyncs.">{(rows) => <GitSyncTable rows={rows} />}</SectionView>
      <SectionView title="SealedSecrets not synced" section={o.sealedSecrets} empty="Every SealedSecret is synced.">
        {(rows) => <ul>{rows.map((r) => <li key={`${r.namespace}/${r.name}`}><a class="mono" href={`#/sealedsecret/${r.namespace}/${r.name}`}>{r.namespace}/{r.name}</a> <span class="badge bad">{r.reason}</span> {r.message}</li>)}</ul>}
      </SectionView>
      <SectionView title="Recent Keelson events" section={o.events} empty="No recent events.">
        {(rows) => (
          <table>
            <caption class="sr-only">Recent Keelson events</caption>
            <thead><tr><th scope="col">Age</th><th scope="col">Object</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
            <tbody>{rows.map((e, i) => (
              <tr key={i}><td>{e.age}</td><td><ObjectLink kind={e.object.split('/')[0]!} namespace={e.namespace} name={e.object.split('/')[1] ?? ''} label={e.object} /><br /><span class="muted">{e.namespace}</span></td><td><span class={`badge ${e.type === 'Warning' ? 'bad' : 'ok'}`}>{e.reason}</span></td><td>{e.message}</td></tr>
            ))}</tbody>
          </table>
        )}
      </SectionView>
    </>
  );
}

const ACTIONS: Record<string, string> = { create: 'would be created', update: 'would change', deferred: 'would be applied after its CRD or Namespace exists (cannot be dry-run yet)', prune: 'would be pruned (no longer in Git)' };

function DiffCell({ cell }: { cell: Cell | null }) {
  if (!cell) return <><td class="ln" /><td class="code empty" /></>;
  return <><td class="ln">{cell.n}</td><td class={`code ${cell.kind}`}><span class="sr-only">{cell.kind === 'del' ? 'removed: ' : cell.kind === 'add' ? 'added: ' : ''}</span>{cell.text}</td></>;
}

/** `keelson diff` run by the local server on request, shown as live | Git columns per changed object. */
function DiffPanel({ namespace, name }: { namespace: string; name: string }) {
  const [state, setState] = useState<{ state: 'idle' | 'running' } | { state: 'ok'; view: DiffView } | { state: 'error'; message: string }>({ state: 'idle' });
  const run = async () => {
    setState({ state: 'running' });
    try {
      const r = await fetch(`api/gitsyncs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/diff`, { method: 'POST', headers: WRITE_HEADERS, body: '{}' });
      const body = (await r.json()) as DiffView & { error?: string };
      setState(r.ok ? { state: 'ok', view: body } : { state: 'error', message: `${r.status === 403 ? 'Forbidden: ' : ''}${body.error ?? `HTTP ${r.status}`}` });
    } catch (e) { setState({ state: 'error', message: String(e) }); }
  };
  return (
    <section aria-labelledby="diff" class="diff-panel"><h3 id="diff">Diff: what a sync would change</h3>
      <p><button type="button" onClick={() => void run()} disabled={state.state === 'running'}>{state.state === 'running' ? 'Computing the diff…' : state.state === 'idle' ? 'Show diff' : 'Refresh diff'}</button>
        <span class="muted"> A server-side dry-run of the revision the ref points at, with your kubeconfig (as <span class="mono">keelson diff</span>); Secret values are masked.</span></p>
      {state.state === 'error' && <p class="error" role="alert">{state.message}</p>}
      {state.state === 'ok' && (<div role="region" aria-label="Diff result">
        <p class="diff-summary">Revision <span class="mono">{state.view.revision}</span> (last applied <span class="mono">{state.view.lastApplied}</span>), dry-run as {state.view.as}: {state.view.items.length === 0 ? <strong>no differences</strong> : <strong>{state.view.items.length} object(s) would change</strong>}</p>
        {state.view.items.map((item, k) => (
          <div class="diff-item" key={k} data-diff-object={item.what}>
            <h4><span class={`badge ${item.action === 'prune' ? 'bad' : item.action === 'create' ? 'ok' : 'unknown'}`}>{item.action}</span> <span class="mono">{item.what}</span> {ACTIONS[item.action]}{item.file && <span class="muted"> ({item.file})</span>}</h4>
            {item.hunks.length > 0 && (
              <table class="diff"><caption class="sr-only">{item.what}: live (left) and Git (right)</caption>
                <colgroup><col class="ln" /><col /><col class="ln" /><col /></colgroup>
                <thead><tr><th scope="col" colSpan={2}>Live</th><th scope="col" colSpan={2}>Git</th></tr></thead>
                {item.hunks.map((h, i) => (
                  <tbody key={i}><tr><td colSpan={4} class="hunk mono">{h.header}</td></tr>
                    {h.rows.map((r, j) => <tr key={j}><DiffCell cell={r.left} /><DiffCell cell={r.right} /></tr>)}
                  </tbody>
                ))}
              </table>
            )}
          </div>
        ))}
      </div>)}
    </section>
  );
}

function GitSyncPage({ namespace, name, version }: { namespace: string; name: string; version: number }) {
  const load = useJson<GitSyncDetail>(`api/gitsyncs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, version);
  const [notice, setNotice] = useState('');
  const post = async (action: string, body: unknown, done: string) => {
    setNotice('…');
    const r = await fetch(`api/gitsyncs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${action}`, { method: 'POST', headers: WRITE_HEADERS, body: JSON.stringify(body) });
    const answer = (await r.json()) as { error?: string };
    setNotice(r.ok ? done : `Refused: ${answer.error ?? `HTTP ${r.status}`}`);
  };
  if (load.state === 'loading') return <p>Loading…</p>;
  if (load.state !== 'ok') return <p class={load.state} role="alert">{load.state === 'forbidden' ? 'Forbidden: ' : ''}{load.message}</p>;
  const d = load.data;
  return (
    <>
      <h2>GitSync {namespace}/{name} <Badge status={d.row.ready} /> {d.row.suspended && <span class="badge unknown">suspended</span>}</h2>
      <dl>
        <dt>Source</dt><dd class="mono">{d.url} ({d.ref}, path {d.path})</dd>
        <dt>Applied revision</dt><dd class="mono revision">{d.row.revision || '—'}</dd>
        <dt>Drifted objects (last sync)</dt><dd>{d.row.drifted}</dd>
      </dl>
      <div class="actions">
        <button type="button" onClick={() => void post('sync', {}, 'Sync requested.')} disabled={d.row.suspended}>Sync now</button>
        <button type="button" onClick={() => void post('suspend', { suspend: !d.row.suspended }, d.row.suspended ? 'Resumed.' : 'Suspended.')}>{d.row.suspended ? 'Resume' : 'Suspend'}</button>
        <span role="status" aria-live="polite" class="notice">{notice}</span>
      </div>
      <section aria-labelledby="conditions"><h3 id="conditions">Conditions</h3>
        <table><caption class="sr-only">Conditions</caption>
          <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
          <tbody>{d.conditions.map((c) => <tr key={c.type}><td>{c.type}</td><td>{c.status}</td><td>{c.reason}</td><td>{c.message}</td><td>{c.age}</td></tr>)}</tbody>
        </table>
      </section>
      <DiffPanel namespace={namespace} name={name} />
      <section aria-labelledby="history"><h3 id="history">History of applied revisions</h3>
        {d.history.length === 0 ? <p class="muted">No revision recorded yet (the controller records the last 10 it applies).</p> : (
          <table class="history"><caption class="sr-only">Applied revisions, newest first</caption>
            <thead><tr><th scope="col">Applied</th><th scope="col">Commit</th><th scope="col">Message</th><th scope="col">Objects</th><th scope="col">Result</th></tr></thead>
            <tbody>{d.history.map((h, i) => (
              <tr key={`${i}-${h.revision}`}><td title={h.appliedAt}>{h.age ? `${h.age} ago` : h.appliedAt}</td><td class="mono nowrap" title={h.revision}>{h.commit || h.revision}</td><td>{h.message || <span class="muted">—</span>}</td><td>{h.objects}</td><td>{h.result}</td></tr>
            ))}</tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="inventory"><h3 id="inventory">Inventory ({d.inventoryCount} objects)</h3>
        <ul class="tree">{d.inventory.map((g) => (
          <li key={g.kind}><strong>{g.kind}</strong>
            <ul>{g.namespaces.map((n) => <li key={n.namespace}>{n.namespace}: {n.names.map((x, i) => <>{i > 0 && ', '}<ObjectLink kind={g.kind} namespace={n.namespace} name={x} label={x} /></>)}</li>)}</ul>
          </li>
        ))}</ul>
      </section>
    </>
  );
}

function WorkloadPage({ plural, namespace, name, version }: { plural: string; namespace: string; name: string; version: number }) {
  const load = useJson<WorkloadDetail>(`api/workloads/${encodeURIComponent(plural)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, version);
  if (load.state === 'loading') return <p>Loading…</p>;
  if (load.state !== 'ok') return <p class={load.state} role="alert">{load.state === 'forbidden' ? 'Forbidden: ' : ''}{load.message}</p>;
  const d = load.data;
  const r = d.rollout;
  return (
    <>
      <h2>{d.kind} {d.namespace}/{d.name} <Badge status={r.state === 'Complete' ? 'True' : r.state === 'Failed' ? 'False' : 'Unknown'} label={`Rollout ${r.state}`} /></h2>
      <p class="rollout">{r.message} · desired {r.desired}, updated {r.updated}, ready {r.ready}, available {r.available}</p>
      <section aria-labelledby="last-reload"><h3 id="last-reload">Last reload</h3>
        {d.lastReload ? <p>{d.lastReload.age} ago: {d.lastReload.trigger} — {d.lastReload.change}</p> : <p class="muted">Keelson has not reloaded it.</p>}
      </section>
      <section aria-labelledby="refs"><h3 id="refs">References</h3>
        {d.references.length === 0 ? <p class="muted">No ConfigMaps or Secrets.</p> : <ul>{d.references.map((x) => <li key={`${x.kind}/${x.name}`}>{x.kind} <span class="mono">{x.name}</span></li>)}</ul>}
      </section>
      <section aria-labelledby="wl-events"><h3 id="wl-events">Keelson events</h3>
        {d.events.length === 0 ? <p class="muted">None.</p> : <ul>{d.events.map((e, i) => <li key={i}>{e.age} <span class={`badge ${e.type === 'Warning' ? 'bad' : 'ok'}`}>{e.reason}</span> {e.message}</li>)}</ul>}
      </section>
    </>
  );
}

function SealedSecretPage({ namespace, name, version }: { namespace: string; name: string; version: number }) {
  const load = useJson<SealedSecretDetail>(`api/sealedsecrets/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, version);
  if (load.state === 'loading') return <p>Loading…</p>;
  if (load.state !== 'ok') return <p class={load.state} role="alert">{load.state === 'forbidden' ? 'Forbidden: ' : ''}{load.message}</p>;
  const d = load.data;
  return (
    <>
      <h2>SealedSecret {d.namespace}/{d.name} <Badge status={d.synced.status} label={d.synced.status === 'True' ? 'Synced' : d.synced.reason || 'Not synced'} /></h2>
      <dl>
        <dt>Synced</dt><dd>{d.synced.status} {d.synced.reason} {d.synced.age && `(${d.synced.age})`}: {d.synced.message}</dd>
        <dt>Scope</dt><dd>{d.scope}</dd>
        <dt>Secret type</dt><dd class="mono">{d.secretType}</dd>
        <dt>Sealed keys</dt><dd class="mono">{d.keys.join(', ') || '—'}</dd>
      </dl>
    </>
  );
}

function App() {
  const route = useRoute();
  const { version, live } = useLiveVersion();
  const parts = route.slice(2).split('/').map(decodeURIComponent);
  let page;
  if (parts[0] === 'gitsync' && parts[1] && parts[2]) page = <GitSyncPage namespace={parts[1]} name={parts[2]} version={version} />;
  else if (parts[0] === 'workload' && parts[1] && parts[2] && parts[3]) page = <WorkloadPage plural={parts[1]} namespace={parts[2]} name={parts[3]} version={version} />;
  else if (parts[0] === 'sealedsecret' && parts[1] && parts[2]) page = <SealedSecretPage namespace={parts[1]} name={parts[2]} version={version} />;
  else if (parts[0] === 'seal') page = <SealForm />;
  else page = <OverviewPage version={version} />;
  return (
    <>
      <header>
        <h1>Keelson</h1>
        <nav aria-label="Views"><a href="#/">Overview</a> <a href="#/seal">Seal a Secret</a></nav>
        <span class={`live ${live ? 'on' : 'off'}`} role="status">{live ? 'live' : 'offline'}</span>
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
