/**
 * Which webhook targets are refused: hosts that reach this machine or a private network (SSRF).
 * The API checks literal hosts at save with `checkTargetUrl`; delivery re-checks every resolved
 * address with `isPrivateAddress`, because a public name may resolve to a private address.
 * Pure (no Node built-ins), so any layer may import it.
 */

/** An IPv4 address as four octets, or null when the text is not a dotted quad. */
function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return octets.every((o) => o >= 0 && o <= 255) ? octets : null;
}

/** An IPv6 address as eight 16-bit groups (an embedded dotted IPv4 tail allowed), or null. */
function parseIPv6(text: string): number[] | null {
  let s = text.replace(/^\[|\]$/g, '');
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hex(v4[0], v4[1])}:${hex(v4[2], v4[3])}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const group = (g: string) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN);
  const head = halves[0] ? halves[0].split(':').map(group) : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':').map(group) : [];
  const explicit = head.length + rest.length;
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1) return explicit === 8 ? head : null;
  if (explicit > 7) return null;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
}

const inV4 = (o: number[], base: number[], bits: number) => {
  const toInt = (a: number[]) => ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(o) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
};

/** IPv4 ranges that are not globally routable unicast (RFC 6890 and friends). */
const V4_BLOCKED: [number[], number][] = [
  [[0, 0, 0, 0], 8], // "this network", including the unspecified 0.0.0.0
  [[10, 0, 0, 0], 8], // private
  [[100, 64, 0, 0], 10], // carrier-grade NAT
  [[127, 0, 0, 0], 8], // loopback
  [[169, 254, 0, 0], 16], // link-local, including cloud metadata 169.254.169.254
  [[172, 16, 0, 0], 12], // private
  [[192, 0, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2, 0], 24], // documentation
  [[192, 88, 99, 0], 24], // 6to4 relay anycast
  [[192, 168, 0, 0], 16], // private
  [[198, 18, 0, 0], 15], // benchmarking
  [[198, 51, 100, 0], 24], // documentation
  [[203, 0, 113, 0], 24], // documentation
  [[224, 0, 0, 0], 4], // multicast
  [[240, 0, 0, 0], 4], // reserved, including broadcast 255.255.255.255
];

const isPrivateV4 = (o: number[]) => V4_BLOCKED.some(([base, bits]) => inV4(o, base, bits));

const v4From = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];

function isPrivateV6(g: number[]): boolean {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return true; // :: unspecified
  if (zeroUpTo(7) && g[7] === 1) return true; // ::1 loopback
  if (zeroUpTo(5) && g[5] === 0xffff) return isPrivateV4(v4From(g[6], g[7])); // ::ffff:a.b.c.d mapped
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return isPrivateV4(v4From(g[6], g[7])); // translated
  if (zeroUpTo(6)) return true; // ::a.b.c.d, deprecated IPv4-compatible
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return isPrivateV4(v4From(g[6], g[7])); // NAT64 well-known prefix
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return true; // local-use NAT64
  if (g[0] === 0x2002) return isPrivateV4(v4From(g[1], g[2])); // 6to4
  if (g[0] === 0x2001 && g[1] === 0) return isPrivateV4(v4From(g[6] ^ 0xffff, g[7] ^ 0xffff)); // Teredo
  if (g[0] === 0x2001 && g[1] === 0xdb8) return true; // documentation
  if (g[0] === 0x100 && zeroUpTo(4)) return true; // discard-only 100::/64
  if ((g[0] & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g[0] & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g[0] & 0xffc0) === 0xfec0) return true; // site-local fec0::/10 (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  return false;
}

/** True when the text is an IPv4 or IPv6 address literal (brackets allowed around IPv6). */
export function isIpAddress(text: string): boolean {
  return parseIPv4(text) !== null || parseIPv6(text) !== null;
}

/**
 * Is this address one a webhook must not reach: loopback, link-local, private, ULA, unspecified,
 * multicast, reserved or documentation, also when wrapped in IPv6 (mapped, NAT64, 6to4, Teredo)?
 * Text that is not an IP address counts as private, so a caller that passes garbage fails closed.
 */
export function isPrivateAddress(ip: string): boolean {
  const v4 = parseIPv4(ip);
  if (v4) return isPrivateV4(v4);
  const v6 = parseIPv6(ip);
  if (v6) return isPrivateV6(v6);
  return true;
}

export const MAX_URL_LENGTH = 2048;

/**
 * Why a webhook URL is refused, or null when it may be saved: it must be an absolute http(s) URL
 * without credentials, and, unless `allowPrivate`, its host must not be `localhost` (or a
 * `*.localhost` name) or a literal private address. Names are resolved only at delivery.
 */
export function checkTargetUrl(url: string, allowPrivate: boolean): string | null {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must use http or https';
  if (!parsed.hostname) return 'must name a host';
  if (parsed.username || parsed.password) {
    return 'must not contain credentials; send them in a header (e.g. Authorization) instead';
  }
  if (allowPrivate) return null;
  const host = parsed.hostname.replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return 'must not point at localhost (set ALLOW_PRIVATE_TARGETS=true for local demos)';
  }
  if (isIpAddress(host) && isPrivateAddress(host)) {
    return 'must not point at a loopback, link-local, private or reserved address (set ALLOW_PRIVATE_TARGETS=true for local demos)';
  }
  return null;
}
