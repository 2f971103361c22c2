/**
 * DNS name validation. Container-supplied names end up in haproxy.cfg and in Route53, so the only
 * characters allowed are those of RFC 1123 host names; everything else is rejected with a reason.
 * A name is relative to the zone, so one that already names something elsewhere (a public name, an IP
 * address, localhost) is refused too: read relative to the zone, it was almost surely not meant that way.
 */

import { domainToASCII } from 'node:url';
// A static import, so that the image's bundle (scripts/bundle.ts) carries the list.
import tlds from 'tlds/index.json' with { type: 'json' };
import { MARKER_PREFIX } from '../dns/records.js';
import { quote } from './reasons.js';

/** IANA's top-level domains (the `tlds` package, kept up to date from IANA's list), those in Unicode as their `xn--` form. */
const TOP_LEVEL_DOMAINS = new Set((tlds as string[]).map((tld) => domainToASCII(tld)).filter(Boolean));
/** A last label that makes a host an IPv4 address for URL parsers (WHATWG "ends in a number") and inet_aton: `1`, `0x7f`. */
const NUMBER = /^(?:[0-9]+|0x[0-9a-f]*)$/;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_NAME_LENGTH = 253;
/** Room for the ownership marker `_hc-owner.<name>` (dns/records.ts) within a DNS name. */
const MAX_SERVICE_NAME_LENGTH = MAX_NAME_LENGTH - MARKER_PREFIX.length;

export type DomainResult = { ok: true; name: string } | { ok: false; reason: string };

/** Validates a full DNS name such as `example.com` (lower-cased, no trailing dot). */
export function parseDnsName(raw: string): DomainResult {
  const trimmed = raw.trim();
  // Checked before lower-casing: some non-ASCII letters lower-case to ASCII ones (the Kelvin sign to `k`).
  if (/[^A-Za-z0-9.-]/.test(trimmed)) {
    return { ok: false, reason: 'may contain only letters a-z, digits and inner hyphens in each dot-separated label (RFC 1123)' };
  }
  const name = trimmed.toLowerCase().replace(/\.$/, '');
  if (name === '') return { ok: false, reason: 'is empty' };
  if (name.length > MAX_NAME_LENGTH) return { ok: false, reason: `is longer than ${MAX_NAME_LENGTH} characters` };
  for (const label of name.split('.')) {
    if (label === '') return { ok: false, reason: 'has an empty label (two dots in a row, or a leading dot)' };
    if (label.length > 63) return { ok: false, reason: `has a label longer than 63 characters (${label.slice(0, 20)}…)` };
    if (!LABEL.test(label)) {
      return {
        ok: false,
        reason: 'may contain only letters a-z, digits and inner hyphens in each dot-separated label (RFC 1123)',
      };
    }
  }
  return { ok: true, name };
}

/**
 * Validates the domain a container asks for and returns it relative to `zone`:
 * `login` and `login.example.com` both mean `login` in zone `example.com`.
 */
export function parseServiceDomain(raw: string, zone: string): DomainResult {
  const parsed = parseDnsName(raw);
  if (!parsed.ok) return parsed;
  if (parsed.name === zone) return { ok: false, reason: `is the zone apex ${zone}, not a name inside it` };
  const writtenInZone = parsed.name.endsWith(`.${zone}`);
  const relative = writtenInZone ? parsed.name.slice(0, -(zone.length + 1)) : parsed.name;
  // `x.example.com.example.com` would answer for `x.example.com`, and `example.com.example.com` for the apex.
  if (relative === zone || relative.endsWith(`.${zone}`)) return { ok: false, reason: `names the zone ${zone} twice` };
  const full = `${relative}.${zone}`;
  // The ownership marker `_hc-owner.<name>` must fit in a DNS name too.
  if (full.length > MAX_SERVICE_NAME_LENGTH) {
    return {
      ok: false,
      reason: `makes more than ${MAX_SERVICE_NAME_LENGTH} characters with the zone ${zone} (DNS allows ${MAX_NAME_LENGTH}, with room for the ownership marker)`,
    };
  }
  const elsewhere = namesSomethingElse(relative, writtenInZone, zone);
  return elsewhere === undefined ? { ok: true, name: relative } : { ok: false, reason: elsewhere };
}

/**
 * A route's name: a service domain ({@link parseServiceDomain}), or a wildcard `*.<domain>` that answers
 * any single label under `<domain>.<zone>` (exact names win over it). `*` alone would take the whole zone.
 */
export function parseRouteDomain(raw: string, zone: string): DomainResult {
  const trimmed = raw.trim();
  if (!trimmed.startsWith('*.')) return parseServiceDomain(trimmed, zone);
  const parent = parseServiceDomain(trimmed.slice(2), zone);
  if (!parent.ok) return parent;
  return { ok: true, name: `*.${parent.name}` };
}

/** Host header values a service answers: `<name>.<zone>`, and the bare name when it is a single label. */
export function hostnamesOf(name: string, zone: string): string[] {
  // A dotted bare name would be one outside the zone (`www.google.com`, `10.0.0.1`); a wildcard is always dotted.
  return name.includes('.') ? [`${name}.${zone}`] : [`${name}.${zone}`, name];
}

/** Why a relative name would answer for something that is not a name in the zone, if it would. */
function namesSomethingElse(relative: string, writtenInZone: boolean, zone: string): string | undefined {
  const labels = relative.split('.');
  const last = labels[labels.length - 1] ?? '';
  if (labels.length === 1) {
    // Answered as the bare Host too, however it was written: a different spelling would not help.
    if (relative === 'localhost') return 'is localhost, the host itself: choose another name';
    if (NUMBER.test(relative)) return 'is a number, which a Host header reads as an IP address: choose a name that is not all digits';
    // A top-level domain alone (`shop`, `app`) is fine: no host name is a bare top-level domain.
    return undefined;
  }
  // `www.google.com.example.com` answers only that name, inside the zone: it says what it means.
  if (writtenInZone) return undefined;
  const hint = `write it relative to the zone, or as ${quote(`${relative}.${zone}`)} to mean that name`;
  if (NUMBER.test(last)) return `looks like an IP address, not a name in ${zone}: ${hint}`;
  if (last === 'localhost') return `is under localhost, the host itself, not a name in ${zone}: ${hint}`;
  if (TOP_LEVEL_DOMAINS.has(last)) return `ends in the top-level domain "${last}", outside ${zone}: ${hint}`;
  return undefined;
}
