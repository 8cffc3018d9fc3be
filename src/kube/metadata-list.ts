// Reads a PartialObjectMetadataList in the API server's protobuf encoding ("k8s\0" + runtime.Unknown whose `raw`
// holds the list) for what a resync needs: each item's name, namespace and resourceVersion, and the list's continue
// token. @bufbuild/protobuf's wire reader does the decoding (no generated code; unknown fields are skipped).
// Why not JSON: on the test control plane a metadata LIST of 600 ConfigMaps is 188 KB instead of 338 KB and answers
// in 4.4 instead of 6.7 ms, and nothing has to be JSON-parsed here (every item's managedFields included), which
// is CPU the no-op resync shares with git and the API server on a small machine. Pure; a malformed answer throws.

import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export interface MetadataItem {
  readonly name: string;
  readonly namespace: string;
  readonly resourceVersion: string;
}

export interface MetadataListPage {
  readonly resourceVersion: string;
  readonly continue: string;
}

export class MetadataListError extends Error {
  override readonly name = 'MetadataListError';
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"
// Field numbers of k8s.io/apimachinery: runtime.Unknown, meta/v1 PartialObjectMetadataList, ListMeta, ObjectMeta.
const UNKNOWN_RAW = 2;
const LIST_METADATA = 1;
const LIST_ITEMS = 2;
const LISTMETA_RESOURCE_VERSION = 2;
const LISTMETA_CONTINUE = 3;
const ITEM_METADATA = 1;
const META_NAME = 1;
const META_NAMESPACE = 3;
const META_RESOURCE_VERSION = 6;

/** Whether a response Content-Type is the API server's protobuf encoding. */
export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim() === 'application/vnd.kubernetes.protobuf';
}

/** Calls onItem for each item, in order; returns the list's metadata. Throws MetadataListError on malformed input. */
export function decodeMetadataList(body: Uint8Array, onItem: (item: MetadataItem) => void): MetadataListPage {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw new MetadataListError('not a Kubernetes protobuf answer (no "k8s\\0" prefix)');
  try {
    const envelope = new BinaryReader(body.subarray(4));
    let raw: Uint8Array | undefined;
    while (envelope.pos < envelope.len) {
      const [field, wire] = envelope.tag();
      if (field === UNKNOWN_RAW && wire === WireType.LengthDelimited) raw = envelope.bytes();
      else envelope.skip(wire, field);
    }
    if (!raw) throw new MetadataListError('protobuf answer without a body');
    const list = new BinaryReader(raw);
    let page: MetadataListPage = { resourceVersion: '', continue: '' };
    while (list.pos < list.len) {
      const [field, wire] = list.tag();
      if (field === LIST_METADATA && wire === WireType.LengthDelimited) page = listMeta(new BinaryReader(list.bytes()));
      else if (field === LIST_ITEMS && wire === WireType.LengthDelimited) onItem(item(new BinaryReader(list.bytes())));
      else list.skip(wire, field);
    }
    return page;
  } catch (err) {
    if (err instanceof MetadataListError) throw err;
    throw new MetadataListError(`malformed protobuf list: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function listMeta(r: BinaryReader): MetadataListPage {
  let resourceVersion = '';
  let cont = '';
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === LISTMETA_RESOURCE_VERSION && wire === WireType.LengthDelimited) resourceVersion = r.string();
    else if (field === LISTMETA_CONTINUE && wire === WireType.LengthDelimited) cont = r.string();
    else r.skip(wire, field);
  }
  return { resourceVersion, continue: cont };
}

function item(r: BinaryReader): MetadataItem {
  let found: MetadataItem = { name: '', namespace: '', resourceVersion: '' };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === ITEM_METADATA && wire === WireType.LengthDelimited) found = objectMeta(new BinaryReader(r.bytes()));
    else r.skip(wire, field);
  }
  return found;
}

function objectMeta(r: BinaryReader): MetadataItem {
  let name = '';
  let namespace = '';
  let resourceVersion = '';
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (wire === WireType.LengthDelimited && field === META_NAME) name = r.string();
    else if (wire === WireType.LengthDelimited && field === META_NAMESPACE) namespace = r.string();
    else if (wire === WireType.LengthDelimited && field === META_RESOURCE_VERSION) resourceVersion = r.string();
    else r.skip(wire, field);
  }
  return { name, namespace, resourceVersion };
}
