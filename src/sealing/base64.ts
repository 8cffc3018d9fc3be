// Strict base64 as the sealed-secrets wire format uses it: the standard alphabet with '=' padding (Go's
// base64.StdEncoding). CR and LF inside a value are ignored, as Go's decoder does; anything else is an error, so
// URL-safe, unpadded or truncated input is refused instead of decoded into garbage.

const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

/** Decodes padded standard base64; throws Base64Error saying what is wrong (never echoing the input). */
export function decodeStrictBase64(text: string): Buffer {
  const compact = text.replace(/[\r\n]/g, '');
  if (!STRICT.test(compact)) {
    const why = /[-_]/.test(compact) ? 'URL-safe characters (- or _) are not allowed'
      : /[^A-Za-z0-9+/=]/.test(compact) ? 'characters outside the base64 alphabet'
      : compact.length % 4 !== 0 ? 'length is not a multiple of 4 (unpadded or truncated)'
      : 'misplaced padding';
    throw new Base64Error(`invalid base64: ${why}`);
  }
  const out = Buffer.from(compact, 'base64');
  // Non-canonical trailing bits (e.g. "QR==") decode leniently in Node; Go's StdEncoding is not strict about them
  // either, so accepting them keeps compatibility.
  return out;
}

export function encodeBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
