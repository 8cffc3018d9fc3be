// The protobuf PartialObjectMetadataList reader (metadata-list.ts): any list the wire writer encodes (with fields
// it must skip: other ObjectMeta fields, unknown fields of every wire type, the envelope's type and content fields)
// reads back as the same names, namespaces and resourceVersions in order; any truncation or garbage throws
// MetadataListError, never hangs and never yields an item past the damage.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { MetadataListError, decodeMetadataList, isProtobuf } from '../../../src/kube/metadata-list.js';

interface Item { name: string; namespace: string; resourceVersion: string; uid: string; annotations: [string, string][] }

function encodeObjectMeta(i: Item): Uint8Array {
  const w = new BinaryWriter();
  if (i.name) w.tag(1, WireType.LengthDelimited).string(i.name);
  w.tag(5, WireType.LengthDelimited).string(i.uid);
  if (i.namespace) w.tag(3, WireType.LengthDelimited).string(i.namespace);
  w.tag(7, WireType.Varint).int64(3); // generation
  for (const [k, v] of i.annotations) w.tag(12, WireType.LengthDelimited).bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).string(k).tag(2, WireType.LengthDelimited).string(v).finish());
  if (i.resourceVersion) w.tag(6, WireType.LengthDelimited).string(i.resourceVersion);
  w.tag(99, WireType.Bit64).fixed64(7); // a field from the future
  w.tag(98, WireType.Bit32).fixed32(7);
  return w.finish();
}

function encodeList(items: Item[], cont: string, rv: string): Uint8Array {
  const list = new BinaryWriter();
  list.tag(1, WireType.LengthDelimited).bytes(new BinaryWriter().tag(2, WireType.LengthDelimited).string(rv).tag(3, WireType.LengthDelimited).string(cont).tag(4, WireType.Varint).int64(5).finish());
  for (const i of items) list.tag(2, WireType.LengthDelimited).bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(encodeObjectMeta(i)).finish());
  const envelope = new BinaryWriter()
    .tag(1, WireType.LengthDelimited).bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).string('meta.k8s.io/v1').tag(2, WireType.LengthDelimited).string('PartialObjectMetadataList').finish())
    .tag(2, WireType.LengthDelimited).bytes(list.finish())
    .tag(3, WireType.LengthDelimited).string('')
    .tag(4, WireType.LengthDelimited).string('')
    .finish();
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...envelope]);
}

const text = fc.string({ maxLength: 30 });
const item = fc.record({ name: text, namespace: text, resourceVersion: fc.stringMatching(/^[0-9]{0,12}$/), uid: fc.uuid(), annotations: fc.array(fc.tuple(text, fc.string({ maxLength: 300 })), { maxLength: 3 }) });

describe('protobuf metadata lists', () => {
  it('reads back what was encoded, in order, skipping every other field', () => {
    fc.assert(fc.property(fc.array(item, { maxLength: 40 }), text, fc.stringMatching(/^[0-9]{1,9}$/), (items, cont, rv) => {
      const seen: unknown[] = [];
      const page = decodeMetadataList(encodeList(items, cont, rv), (i) => seen.push(i));
      assert.deepEqual(seen, items.map((i) => ({ name: i.name, namespace: i.namespace, resourceVersion: i.resourceVersion })));
      assert.deepEqual(page, { resourceVersion: rv, continue: cont });
    }));
  });

  it('throws MetadataListError on any truncation, and never reports an item it could not read whole', () => {
    fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 10 }), fc.nat(), (items, cut) => {
      const full = encodeList(items, 'c', '1');
      const at = cut % full.length;
      const seen: unknown[] = [];
      try {
        decodeMetadataList(full.subarray(0, at), (i) => seen.push(i));
      } catch (err) {
        assert.ok(err instanceof MetadataListError, String(err));
      }
      // Whatever came out before the cut is a prefix of the real items.
      assert.deepEqual(seen, items.slice(0, seen.length).map((i) => ({ name: i.name, namespace: i.namespace, resourceVersion: i.resourceVersion })));
    }));
  });

  it('throws MetadataListError (never anything else, never a hang) on arbitrary bytes after the prefix', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      try {
        decodeMetadataList(new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...bytes]), () => undefined);
      } catch (err) {
        assert.ok(err instanceof MetadataListError, String(err));
      }
    }));
  });

  it('refuses an answer without the "k8s\\0" prefix, and knows the protobuf content type', () => {
    assert.throws(() => decodeMetadataList(new TextEncoder().encode('{"items":[]}'), () => undefined), MetadataListError);
    assert.equal(isProtobuf('application/vnd.kubernetes.protobuf'), true);
    assert.equal(isProtobuf('application/vnd.kubernetes.protobuf;stream=watch'), true);
    assert.equal(isProtobuf('application/json'), false);
    assert.equal(isProtobuf(undefined), false);
  });
});
