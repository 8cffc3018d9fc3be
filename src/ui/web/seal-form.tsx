// The seal form: values are encrypted in this page with the controller's public key (fetched as its SPKI by the
// local server); only the resulting SealedSecret YAML is shown. No value is sent anywhere.

import { useEffect, useState } from 'preact/hooks';
import { type SealScope, checkSealRequest, sealedSecretYaml } from '../seal-crypto.js';

interface Entry { key: string; value: string }
interface CertInfo { spki?: string; source?: string; fingerprint?: string; notAfter?: string; expired?: boolean; error?: string }

async function loadCert(): Promise<CertInfo> {
  try {
    const r = await fetch('api/cert');
    const body = (await r.json()) as CertInfo;
    return r.ok && body.spki ? body : { error: body.error ?? `cannot get the sealing certificate (HTTP ${r.status})` };
  } catch (e) { return { error: String(e) }; }
}

export function SealForm() {
  const [namespace, setNamespace] = useState('default');
  const [name, setName] = useState('');
  const [scope, setScope] = useState<SealScope>('strict');
  const [entries, setEntries] = useState<Entry[]>([{ key: '', value: '' }]);
  const [output, setOutput] = useState('');
  const [problem, setProblem] = useState('');
  const [cert, setCert] = useState<CertInfo | undefined>(undefined);
  useEffect(() => { void loadCert().then(setCert); }, []);
  const setEntry = (i: number, patch: Partial<Entry>) => setEntries(entries.map((e, j) => (j === i ? { ...e, ...patch } : e)));

  const seal = async (ev: Event) => {
    ev.preventDefault();
    setOutput('');
    const request = { namespace, name, scope, entries };
    const bad = checkSealRequest(request);
    if (bad) { setProblem(bad); return; }
    // Fetched again: the key may have been renewed since the page opened.
    const body = await loadCert();
    setCert(body);
    if (!body.spki) { setProblem(body.error ?? 'no sealing certificate'); return; }
    if (body.expired) { setProblem(`the sealing certificate expired on ${body.notAfter ?? '?'}: renew the key, or pass a current one with --cert`); return; }
    try {
      setOutput(await sealedSecretYaml(body.spki, request));
      setProblem('');
    } catch (e) { setProblem(String(e)); }
  };

  return (
    <form onSubmit={(e) => void seal(e)} aria-labelledby="seal-title">
      <h2 id="seal-title">Seal a Secret</h2>
      <p class="muted">Values are encrypted in this page with the controller's certificate; they never leave the browser.</p>
      <p class="cert-source" role="status">{!cert ? 'Getting the sealing certificate…'
        : cert.spki ? <>Certificate from {cert.source}; SHA-256 <span class="mono">{cert.fingerprint?.slice(0, 23)}…</span>, valid until {cert.notAfter}{cert.expired && <strong> (expired)</strong>}.</>
          : <span class="error">{cert.error}</span>}</p>
      <div class="grid">
        <label for="seal-ns">Namespace</label><input id="seal-ns" value={namespace} onInput={(e) => setNamespace(e.currentTarget.value)} required autocomplete="off" />
        <label for="seal-name">Name</label><input id="seal-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required autocomplete="off" />
        <label for="seal-scope">Scope</label>
        <select id="seal-scope" value={scope} onChange={(e) => setScope(e.currentTarget.value as SealScope)}>
          <option value="strict">strict (this name and namespace)</option>
          <option value="namespace-wide">namespace-wide</option>
          <option value="cluster-wide">cluster-wide</option>
        </select>
      </div>
      <fieldset><legend>Keys</legend>
        {entries.map((e, i) => (
          <div class="entry" key={i}>
            <label for={`seal-key-${i}`}>Key {i + 1}</label><input id={`seal-key-${i}`} value={e.key} onInput={(ev) => setEntry(i, { key: ev.currentTarget.value })} autocomplete="off" />
            <label for={`seal-value-${i}`}>Value {i + 1}</label><textarea id={`seal-value-${i}`} value={e.value} onInput={(ev) => setEntry(i, { value: ev.currentTarget.value })} rows={2} autocomplete="off" spellcheck={false} />
          </div>
        ))}
        <button type="button" onClick={() => setEntries([...entries, { key: '', value: '' }])}>Add a key</button>
      </fieldset>
      <button type="submit">Seal</button>
      {problem && <p class="error" role="alert">{problem}</p>}
      {output && (<>
        <label for="seal-output">SealedSecret (commit this)</label>
        <textarea id="seal-output" class="mono" readOnly rows={14} value={output} />
      </>)}
    </form>
  );
}
