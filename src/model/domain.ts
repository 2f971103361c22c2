/**
 * DNS name validation. Container-supplied names end up in haproxy.cfg and in Route53, so the only
 * characters allowed are those of RFC 1123 host names; everything else is rejected with a reason.
 */

import { MARKER_PREFIX } from '../dns/records.js';

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
  const relative = parsed.name.endsWith(`.${zone}`) ? parsed.name.slice(0, -(zone.length + 1)) : parsed.name;
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
  return { ok: true, name: relative };
}
