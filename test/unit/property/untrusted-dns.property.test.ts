/**
 * Issue 6, "Untrusted containers", DNS half: nothing a container supplies reaches Route53 unvalidated.
 * The real data flow is containers -> buildServices -> services[].domain -> desiredRecords, so the record
 * properties are fed only domains that buildServices accepted; parseServiceDomain, the gate, is checked
 * on its own over arbitrary strings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOST_ID_PATTERN } from '../../../src/dns/host-identity.js';
import { desiredRecords, MARKER_PREFIX, markerValue, type RecordContext } from '../../../src/dns/records.js';
import { parseServiceDomain } from '../../../src/model/domain.js';
import { buildServices } from '../../../src/model/services.js';
import {
  anyContainer,
  decoratedDomain,
  domainValue,
  hostileString,
  invalidDomain,
  MODEL_OPTIONS,
  PROPERTY_TIMEOUT_MS,
  placement,
  showString,
  toContainer,
  wellBehavedContainers,
  ZONE,
} from './arbitraries.js';

/** RFC 1123 host name: LDH labels of 1-63 characters, no leading/trailing hyphen, at most 253 characters in all. */
const RFC1123_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Route53 SetIdentifier: `<host id>-<10 hex>` (and Route53 allows at most 128 characters). */
const SET_IDENTIFIER = /^[A-Za-z0-9._-]+-[0-9a-f]{10}$/;
const ZONE_SUFFIX = `.${ZONE}`;

const fixed = wellBehavedContainers();

describe('untrusted containers: parseServiceDomain', () => {
  it('accepts only names made of [a-z0-9.-], from input made of [A-Za-z0-9.-] once surrounding whitespace is trimmed', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, () => {
    // Property 3 (gate). Whatever the string, an accepted name contains nothing but [a-z0-9.-] and is an
    // RFC 1123 name inside the zone; and the input it came from had no other characters besides surrounding
    // whitespace, ASCII upper case and one trailing dot (the documented normalisations). In particular no
    // unicode character may be folded into ASCII by toLowerCase (README: unicode skips the container).
    fc.assert(
      fc.property(fc.oneof(domainValue, hostileString, invalidDomain, decoratedDomain), (raw) => {
        const parsed = parseServiceDomain(raw, ZONE);
        if (!parsed.ok) {
          expect(parsed.reason).toMatch(/\S/);
          return;
        }
        expect(parsed.name).toMatch(/^[a-z0-9.-]+$/);
        expect(`${parsed.name}${ZONE_SUFFIX}`).toMatch(RFC1123_NAME);
        expect(raw.trim(), `accepted ${showString(raw)} as ${JSON.stringify(parsed.name)}`).toMatch(/^[A-Za-z0-9.-]+$/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('untrusted containers: desiredRecords', () => {
  it('only ever writes RFC 1123 names under the zone, the host IP or the marker, and well-formed SetIdentifiers', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, () => {
    // Property 3 (records). For any snapshot of containers, the domains buildServices routes become exactly
    // two record sets each: `<d>.<zone>` A -> [host IP] and `_hc-owner.<d>.<zone>` TXT -> [marker]. Both
    // names are valid DNS names (labels ≤ 63, whole name ≤ 253 characters, the marker name included, or
    // Route53 refuses the batch), RFC 1123 apart from the `_hc-owner` label, and inside the zone. In
    // multivalue mode each carries a SetIdentifier `<host id>-<10 hex>` of at most 128 characters; in
    // simple mode none.
    const context = fc.record({
      hostId: fc.stringMatching(HOST_ID_PATTERN),
      hostIp: fc.ipV4(),
      ttl: fc.integer({ min: 1, max: 86_400 }),
      mode: fc.constantFrom('multivalue' as const, 'simple' as const),
    });
    let routedDomains = 0;
    fc.assert(
      fc.property(fc.array(anyContainer, { minLength: 1, maxLength: 4 }), placement, context, (specs, where, host) => {
        const domains = buildServices([...fixed, ...specs.map(toContainer)], where, MODEL_OPTIONS).services.map((s) => s.domain);
        routedDomains += domains.length;
        const ctx: RecordContext = { zone: ZONE, ...host };
        const records = desiredRecords(domains, ctx);
        expect(records).toHaveLength(2 * new Set(domains).size);
        for (const record of records) {
          const isMarker = record.name.startsWith(MARKER_PREFIX);
          const name = isMarker ? record.name.slice(MARKER_PREFIX.length) : record.name;
          expect(name, 'record name').toMatch(RFC1123_NAME);
          expect(name.endsWith(ZONE_SUFFIX) && name !== ZONE, `${name} is not inside ${ZONE}`).toBe(true);
          expect(domains).toContain(name.slice(0, -ZONE_SUFFIX.length));
          expect(record.name.length, `record name longer than 253 characters: ${record.name}`).toBeLessThanOrEqual(253);
          expect(record.type).toBe(isMarker ? 'TXT' : 'A');
          expect(record.values).toEqual(isMarker ? [markerValue(ctx.hostId)] : [ctx.hostIp]);
          if (ctx.mode === 'multivalue') {
            expect(record.setIdentifier).toMatch(SET_IDENTIFIER);
            expect(record.setIdentifier!.startsWith(`${ctx.hostId}-`)).toBe(true);
            expect(record.setIdentifier!.length).toBeLessThanOrEqual(128);
            expect(record.multiValueAnswer).toBe(true);
          } else {
            expect(record.setIdentifier).toBeUndefined();
          }
        }
      }),
      { numRuns: 500 },
    );
    expect(routedDomains).toBeGreaterThan(500 * 5);
  });
});
