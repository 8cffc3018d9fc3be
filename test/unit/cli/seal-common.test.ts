// The shared CLI plumbing of seal/unseal/reencrypt: short and repeatable flags, KEELSON_<FLAG> fallbacks, YAML/JSON
// documents and Lists in, one object or a List/stream out, and the service-proxy path.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { formatObjects, parseCommandArgs, parseObjects, proxyPath } from '../../../src/cli/seal-common.js';
import { UNSEAL_FLAGS } from '../../../src/cli/unseal.js';

describe('seal-common', () => {
  it('expands -o/-f and collects repeated flags in order', () => {
    const r = parseCommandArgs(UNSEAL_FLAGS, ['--key', 'a.pem', '-o', 'json', '--key=b.yaml', '-f', 'in.yaml'], {}, ['key']);
    assert.deepEqual(r.repeated.get('key'), ['a.pem', 'b.yaml']);
    assert.equal(r.values.get('output'), 'json');
    assert.equal(r.values.get('filename'), 'in.yaml');
    assert.throws(() => parseCommandArgs(UNSEAL_FLAGS, ['--key'], {}, ['key']), /--key needs a value/);
    assert.throws(() => parseCommandArgs(UNSEAL_FLAGS, ['-o', 'xml'], {}, ['key']), /--output/);
  });

  it('reads KEELSON_<FLAG> when the flag is absent', () => {
    const r = parseCommandArgs(UNSEAL_FLAGS, [], { KEELSON_KEY: 'env.pem', KEELSON_OUTPUT: 'json' }, ['key']);
    assert.deepEqual(r.repeated.get('key'), ['env.pem']);
    assert.equal(r.values.get('output'), 'json');
  });

  it('parses YAML streams, JSON and Lists; explains garbage', () => {
    assert.deepEqual(parseObjects('kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b}\n', 'x').map((o) => o.kind), ['A', 'B']);
    assert.deepEqual(parseObjects('{"kind":"List","items":[{"kind":"C","metadata":{}},{"kind":"D","metadata":{}}]}', 'x').map((o) => o.kind), ['C', 'D']);
    assert.deepEqual(parseObjects('', 'x'), []);
    assert.throws(() => parseObjects('a: [1,\n', 'in.yaml'), /in.yaml is neither valid YAML nor JSON/);
    assert.throws(() => parseObjects('- 1\n- 2\n', 'in.yaml'), /other than Kubernetes objects/);
  });

  it('prints one object as itself and several as a stream or a List', () => {
    const a = { kind: 'A', metadata: { name: 'a' } };
    const b = { kind: 'B', metadata: { name: 'b' } };
    assert.deepEqual(JSON.parse(formatObjects([a], 'json')), a);
    assert.deepEqual(JSON.parse(formatObjects([a, b], 'json')).items, [a, b]);
    assert.deepEqual(parse(formatObjects([a], 'yaml')), a);
    assert.deepEqual(parseAllDocuments(formatObjects([a, b], 'yaml')).map((d) => d.toJS()), [a, b]);
  });

  it('builds the service proxy path with the port named http', () => {
    assert.equal(proxyPath('keelson-system', 'keelson', '/v1/cert.pem'), '/api/v1/namespaces/keelson-system/services/http:keelson:http/proxy/v1/cert.pem');
  });
});
