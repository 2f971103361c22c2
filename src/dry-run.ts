/**
 * `haproxy-companion dry-run`: what the companion would do with the containers running now, applying
 * nothing. Prints the rendered haproxy.cfg (checked with `haproxy -c`), then the Route53 change batch.
 * Exit status 1 when the template does not render or HAProxy rejects the result: CI for users' templates.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from './config.js';
import { identityFor, zoneApiFor } from './dns/create-dns-half.js';
import { nameOwners, unitHash } from './dns/fleet-owners.js';
import { nameClaims, ownerConflicts } from './dns/fleet-ownership.js';
import { LeftOutNames } from './dns/left-out-names.js';
import { liveMarkers } from './dns/live-markers.js';
import { type Change, desiredRecords, diffRecords, foreignConflicts, ownedRecords } from './dns/records.js';
import { toSdkChanges } from './dns/route53-changes.js';
import { createContainerSource } from './docker/container-snapshots.js';
import { isHaproxyRefusal } from './errors.js';
import { validateConfig } from './haproxy/config-files.js';
import { writeHoldScript } from './haproxy/hold-script.js';
import { listenOnIpv6 } from './haproxy/listen-ipv6.js';
import { runtimePaths } from './haproxy/paths.js';
import type { Logger } from './log.js';
import { freshLayout } from './model/backend-pool.js';
import { modelOf, registeredDomains } from './model/services.js';
import { loadTemplate, renderFiles } from './render/render-config.js';

export async function dryRun(config: Config, log: Logger, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { selfId, snapshots } = await createContainerSource(config);
  const model = modelOf(await snapshots.snapshot(), { selfId, zone: config.zone, ...config.model });
  for (const s of model.skipped)
    log.warn({ container: s.containerName, route: s.route, domain: s.domain, reason: s.reason }, 'container skipped');

  let status = 0;
  const paths = runtimePaths(config.runtimeDir);
  // With FLEET_FALLBACK, its rules without other hosts: those are known from a running registrar's listings.
  const settings = { ...config, ipv6: await listenOnIpv6(config.listenIpv6) };
  const { files } = renderFiles(await loadTemplate(config.templatePath), model.services, freshLayout(model.services), settings, paths);
  out.write(files.config.endsWith('\n') ? files.config : `${files.config}\n`);
  out.write(`# ---- ${paths.hostsMap} ----\n${files.hostsMap}`);
  // Shown only when there are path routes: without them the output stays what it always was.
  if (files.pathsMap !== '') out.write(`# ---- ${paths.pathsMap} ----\n${files.pathsMap}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'haproxy-companion-'));
  try {
    // Checked in a scratch directory: the copy there reads the maps beside it.
    const scratchHosts = path.join(dir, 'hosts.map');
    const scratchPaths = path.join(dir, 'paths.map');
    const scratchHold = path.join(dir, 'hold.lua');
    await writeFile(scratchHosts, files.hostsMap);
    await writeFile(scratchPaths, files.pathsMap);
    await writeHoldScript(scratchHold);
    const checked = files.config
      .replaceAll(paths.hostsMap, scratchHosts)
      .replaceAll(paths.pathsMap, scratchPaths)
      .replaceAll(paths.holdScript, scratchHold);
    await writeFile(path.join(dir, 'haproxy.cfg'), checked);
    await validateConfig(config.haproxyBin, path.join(dir, 'haproxy.cfg'));
  } catch (error) {
    log.error({ err: error, haproxy: isHaproxyRefusal(error) ? error.haproxyLines : undefined }, 'haproxy rejects this configuration');
    status = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const domains = registeredDomains(model.services);
  const owners = nameOwners(model.services);
  const { dns } = config;
  let changes: Change[];
  let zone: string;
  if (domains.length > dns.maxNames) {
    log.warn(
      { limit: dns.maxNames, count: domains.length - dns.maxNames },
      'more served names than DNS_MAX_NAMES; the rest are served but not registered',
    );
  }
  const leftOut = new LeftOutNames(config.zone, dns.maxNames, log);
  if (dns.hostedZoneId !== undefined) {
    // Read-only: the zone is listed to diff against, never changed.
    const identity = await identityFor(config);
    // A starting registrar takes a fresh lease (DNS_LEASE_S): its markers are written with it.
    const leaseExpiresS = dns.leaseMs > 0 ? Math.ceil((Date.now() + dns.leaseMs) / 1000) : undefined;
    const ctx = {
      zone: config.zone,
      hostId: identity.id,
      hostIp: identity.ip,
      hostIpv6: identity.ipv6,
      ttl: dns.ttl,
      mode: dns.mode,
      leaseExpiresS,
    };
    const zoneApi = await zoneApiFor({ ...config, dns: { ...dns, hostedZoneId: dns.hostedZoneId } });
    const records = await zoneApi.listRecords();
    const owned = ownedRecords(records, ctx);
    // The registrar's own choice, logged as it logs it: names held by a record set this host did not write,
    // served by the fleet for another owner, or beyond DNS_MAX_NAMES, are left out.
    const nowS = Math.floor(Date.now() / 1000);
    const claims = nameClaims(owners, owned, config.zone, nowS);
    leftOut.setListed(foreignConflicts(records, owned, ctx));
    if (dns.mode === 'multivalue') {
      const shared = new Set(dns.sharedOwners.map(unitHash));
      leftOut.setOwnerConflicts(ownerConflicts(liveMarkers(records, ctx, nowS), claims.mine, { hostId: identity.id, shared, nowS }));
    }
    leftOut.report(domains);
    changes = diffRecords(desiredRecords(leftOut.registrable(domains), ctx, claims.markers), owned);
    zone = dns.hostedZoneId;
  } else {
    // Registration off: show what would be written into an empty zone, with placeholders for what is unknown.
    // Instance metadata is not asked, so AAAA records show only with HOST_IPV6; markers without their lease,
    // which is a time of the write.
    const ctx = {
      zone: config.zone,
      hostId: dns.hostId ?? '<host-id>',
      hostIp: dns.hostIp ?? '<host-ip>',
      hostIpv6: dns.hostIpv6 || undefined,
      ttl: dns.ttl,
      mode: dns.mode,
    };
    leftOut.report(domains);
    // `since`, like the lease, is a time of the write.
    const markers = nameClaims(owners, [], config.zone, 0).markers;
    changes = diffRecords(desiredRecords(leftOut.registrable(domains), ctx, markers), []).map((c) =>
      c.record.type === 'TXT'
        ? { ...c, record: { ...c.record, values: c.record.values.map((v) => v.replace(',since=0', ',since=<first write>')) } }
        : c,
    );
    zone = '<HOSTED_ZONE_ID>';
  }
  out.write(`# ---- Route53 change batch (aws route53 change-resource-record-sets --cli-input-json) ----\n`);
  out.write(`${JSON.stringify({ HostedZoneId: zone, ChangeBatch: { Changes: toSdkChanges(changes) } }, null, 2)}\n`);
  return status;
}
