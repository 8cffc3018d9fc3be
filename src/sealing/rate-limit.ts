// Who is calling, and may they: a token bucket per client for the sealing endpoints (verify and rotate run
// private-key operations, so a caller cannot turn them into a CPU sink or a decryption oracle at speed), kept in an
// LRU so memory stays bounded under address churn without resetting everyone at once. Behind the API server's
// service proxy (how `keelson seal`, `reencrypt` and kubeseal arrive) every caller shares the proxy's socket address,
// so the client is the last X-Forwarded-For hop, which the proxy appends itself, but only when the socket peer is
// a trusted proxy (--trusted-proxy-cidrs); from anyone else the header is the caller's own text and is ignored.
// Pure; the clock is injectable.

import { BlockList, isIP } from 'node:net';
import { KeyedTokenBucket } from '../server/token-bucket.js';

/** A token bucket per client address for the sealing endpoints. */
export class RateLimiter extends KeyedTokenBucket {
  get clients(): number { return this.size; }
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plainAddress(addr: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(addr);
  return m ? m[1]! : addr;
}

/** The CIDRs (or single addresses) of --trusted-proxy-cidrs as a BlockList; throws naming a bad entry. */
export function trustedProxies(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const slash = entry.indexOf('/');
    const addr = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(addr);
    const prefix = slash < 0 ? (family === 6 ? 128 : 32) : Number(entry.slice(slash + 1));
    if (family === 0 || !/^\d{1,3}$/.test(slash < 0 ? String(prefix) : entry.slice(slash + 1)) || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`"${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
    }
    list.addSubnet(addr, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

function trusted(list: BlockList, addr: string): boolean {
  const family = isIP(addr);
  return family !== 0 && list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The rate-limit key of a request: the socket peer, or, when the peer is a trusted proxy, the last X-Forwarded-For
 * hop (the address the proxy itself saw; earlier hops are whatever the caller sent). A malformed header from a
 * trusted proxy counts as the proxy (one shared bucket), never as a fresh client.
 */
export function clientOf(peer: string | undefined, forwardedFor: string | string[] | undefined, proxies: BlockList | undefined): string {
  const socket = plainAddress(peer ?? 'unknown');
  if (!proxies || forwardedFor === undefined || !trusted(proxies, socket)) return socket;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  if (header.length > 4096) return socket;
  const last = plainAddress(header.slice(header.lastIndexOf(',') + 1).trim());
  return isIP(last) ? last : socket;
}
