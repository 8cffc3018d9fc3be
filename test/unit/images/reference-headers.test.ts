// Reference normalisation and the registry's response headers (WWW-Authenticate, Link): examples from Docker and
// the Distribution spec, then properties over hostile text (total, own error type only, linear time).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { nextLink, parseChallenges } from '../../../src/images/headers.js';
import { ReferenceError, isValidTag, parseImageRepository } from '../../../src/images/reference.js';
import { KiB, MiB, anyText, assertFast, grammar, onlyThrows, repeated } from '../../support/props.js';

describe('image references', () => {
  const cases: [string, string, string, string][] = [
    ['nginx', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['bitnami/nginx', 'docker.io', 'bitnami/nginx', 'registry-1.docker.io'],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['index.docker.io/library/nginx', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['ghcr.io/org/team/app', 'ghcr.io', 'org/team/app', 'ghcr.io'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000', 'app', '127.0.0.1:5000'],
    ['localhost/app', 'localhost', 'app', 'localhost'],
    ['[::1]:5000/a/b', '[::1]:5000', 'a/b', '[::1]:5000'],
    ['registry.example.com/a_b/c__d/e--f/g.h', 'registry.example.com', 'a_b/c__d/e--f/g.h', 'registry.example.com'],
  ];
  for (const [input, registry, repository, apiHost] of cases) {
    it(`${input} → ${registry}/${repository} (API at ${apiHost})`, () => {
      const r = parseImageRepository(input);
      assert.deepEqual(r, { registry, repository, apiHost, canonical: `${registry}/${repository}` });
    });
  }

  for (const bad of ['', 'nginx:1.0', 'ghcr.io/app:latest', 'app@sha256:abc', 'UPPER/case', 'a//b', 'a/-b', 'a/b-', 'a/b...c', 'a/b___c', 'ex ample.com/a', 'host:99999/a', 'host:/a', 'x'.repeat(300)]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 30))} with a message naming spec.image`, () => {
      assert.throws(() => parseImageRepository(bad), (e: Error) => e instanceof ReferenceError && e.message.includes('spec.image'));
    });
  }

  it('tags follow the OCI grammar', () => {
    for (const t of ['1.0.0', 'v1', 'latest', '_x', 'a-b.c_d', 'A'.repeat(128)]) assert.ok(isValidTag(t), t);
    for (const t of ['', '-a', '.a', 'a/b', 'a:b', 'a b', 'A'.repeat(129), 'é']) assert.ok(!isValidTag(t), t);
  });

  it('any text parses to a valid reference or throws ReferenceError; a parsed one round-trips', () => {
    const pieces = ['a', 'b', '0', '.', '-', '_', '__', '/', ':', '5000', 'localhost', 'docker.io', 'ghcr.io', '@', 'A', '[', ']', '::1', ' '];
    fc.assert(fc.property(fc.oneof(anyText(), grammar(pieces)), (text) => {
      const r = onlyThrows(() => parseImageRepository(text), ReferenceError);
      if (r) {
        assert.deepEqual(parseImageRepository(r.canonical), r);
        assert.ok(!r.canonical.includes('@') && !r.repository.includes(':'));
      }
    }), { numRuns: 5000 });
  });

  it('adversarial long inputs finish fast', () => {
    for (const text of [repeated('a-', 64 * KiB), repeated('a/', MiB), repeated('-', MiB, 'a', 'a'), repeated('a.', 200, 'h/', 'b')]) {
      assertFast('reference', 500, () => parseImageRepository(text));
    }
  });
});

describe('WWW-Authenticate', () => {
  it('parses the Docker Hub Bearer challenge', () => {
    const [c] = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"');
    assert.equal(c!.scheme, 'bearer');
    assert.deepEqual({ ...c!.params }, { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' });
  });

  it('parses several challenges, quoted escapes, token values, case-insensitive keys, first key wins', () => {
    const cs = parseChallenges('Basic realm="Registry \\"x\\", y", Bearer Realm=https://a/token, service=svc ,realm="other"');
    assert.deepEqual(cs.map((c) => [c.scheme, { ...c.params }]), [['basic', { realm: 'Registry "x", y' }], ['bearer', { realm: 'https://a/token', service: 'svc' }]]);
    assert.deepEqual(parseChallenges('Negotiate abc==').map((c) => [c.scheme, { ...c.params }]), [['negotiate', { abc: '' }]]); // token68 is unused: read as an empty parameter
    assert.deepEqual(parseChallenges(''), []);
  });

  it('is total over any text, and parameters never hold a raw quote', () => {
    const pieces = ['Bearer', 'Basic', ' ', ',', '=', '"', '\\', 'realm', 'scope', 'a', ';', '\t'];
    fc.assert(fc.property(fc.oneof(anyText(), grammar(pieces, 60)), (text) => {
      for (const c of parseChallenges(text)) {
        assert.ok(c.scheme.length > 0 && c.scheme === c.scheme.toLowerCase());
        for (const k of Object.keys(c.params)) assert.ok(!k.includes('"') && !k.includes(','));
      }
    }), { numRuns: 5000 });
  });

  it('round-trips generated challenges', () => {
    const value = fc.string({ maxLength: 20 });
    fc.assert(fc.property(fc.constantFrom('Bearer', 'Basic'), fc.dictionary(fc.constantFrom('realm', 'service', 'scope', 'error'), value), (scheme, params) => {
      const text = `${scheme} ${Object.entries(params).map(([k, v]) => `${k}="${v.replace(/[\\"]/g, (m) => `\\${m}`)}"`).join(', ')}`;
      const [c] = parseChallenges(text);
      assert.equal(c!.scheme, scheme.toLowerCase());
      assert.deepEqual({ ...c!.params }, { ...params });
    }), { numRuns: 2000 });
  });

  it('adversarial headers finish fast (input is also capped)', () => {
    for (const text of [repeated('a=', MiB), repeated('"\\', MiB, 'a="'), repeated(',', MiB), repeated('Bearer ', 64 * KiB), repeated('a=b,', 64 * KiB, 'Bearer ')]) {
      assertFast('challenge', 500, () => parseChallenges(text));
    }
  });
});

describe('Link pagination', () => {
  it('finds rel="next" among links and parameters', () => {
    assert.equal(nextLink('</v2/app/tags/list?n=100&last=b>; rel="next"'), '/v2/app/tags/list?n=100&last=b');
    assert.equal(nextLink('</a>; rel="prev", </b>; title="x, y"; rel=next'), '/b');
    assert.equal(nextLink('</a>; rel="prev next"'), '/a');
    assert.equal(nextLink('</a>; rel="prev"'), undefined);
    assert.equal(nextLink('garbage'), undefined);
    assert.equal(nextLink('<unterminated; rel="next"'), undefined);
  });

  it('is total and returns text that was between < and > in the input', () => {
    fc.assert(fc.property(fc.oneof(anyText(), grammar(['<', '>', ';', ',', 'rel', '=', '"', 'next', ' ', '/v2/x'], 60)), (text) => {
      const u = nextLink(text);
      if (u !== undefined) assert.ok(text.includes(`<${u}>`));
    }), { numRuns: 5000 });
  });

  it('adversarial headers finish fast', () => {
    for (const text of [repeated('<a>;', MiB), repeated('<', MiB), repeated('<a>; x="', MiB), repeated('<a>; rel=x,', 64 * KiB)]) {
      assertFast('link', 500, () => nextLink(text));
    }
  });
});
