/**
 * The human status page: one self-contained HTML document (inline CSS, no scripts, no external
 * assets) rendered on the server from the same snapshot as /status. Every value is escaped: container
 * names and skip reasons come from containers, which are untrusted.
 */
import type { TlsStatus } from '../tls/certificate-source.js';
import type { StatusSnapshot } from './status-snapshot.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

const badge = (text: string, ok: boolean | undefined) =>
  `<span class="badge ${ok === undefined ? 'neutral' : ok ? 'ok' : 'bad'}">${escapeHtml(text)}</span>`;

type ServiceStatus = StatusSnapshot['services'][number];

/** `shop.example.com/api`, or `TCP :5432`. */
function routeTitle(service: ServiceStatus): string {
  if (service.kind === 'tcp') return `TCP :${service.tcpPort}`;
  return `${service.hostnames[0] ?? service.domain}${service.path === '/' ? '' : service.path}`;
}

/** The other host names, the route's label name, the policy keys it set, its traffic right now, and the other hosts it falls back on. */
function routeDetails(service: ServiceStatus): string {
  const policy = Object.keys(service.policy);
  const t = service.traffic;
  const traffic = t && `${t.requestsPerSecond} req/s · ${t.responseTimeMs} ms · ${t.responses5xx} 5xx of ${t.requestsTotal}`;
  const fleet = service.fleet?.length && `other hosts: ${service.fleet.map((h) => `${h.hostId} (${h.haproxy ?? 'unknown'})`).join(', ')}`;
  return [
    service.hostnames.slice(1).join(', '),
    `route ${service.route}`,
    policy.length > 0 ? `policy: ${policy.join(', ')}` : '',
    traffic,
    fleet,
  ]
    .filter(Boolean)
    .join(' · ');
}

export function renderStatusPage(status: StatusSnapshot): string {
  const services = status.services
    .map(
      (service) => `
      <tr>
        <td rowspan="${Math.max(1, service.servers.length)}"><strong>${escapeHtml(routeTitle(service))}</strong><br><small>${escapeHtml(routeDetails(service))}</small></td>
        ${service.servers
          .map(
            (
              server,
              i,
            ) => `${i > 0 ? '<tr>' : ''}<td>${escapeHtml(server.containerName)} <small>${escapeHtml(server.containerId)}</small></td>
        <td><code>${escapeHtml(server.address)}:${escapeHtml(server.port)}</code></td>
        <td>${badge(server.haproxy ?? 'unknown', server.haproxy === undefined ? undefined : server.haproxy.startsWith('UP'))}</td></tr>`,
          )
          .join('')}`,
    )
    .join('');
  const skipped = status.skipped
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.containerName)} <small>${escapeHtml(s.containerId)}</small>${s.ownedBy ? `<br><small>held by ${escapeHtml(s.ownedBy.containerName)} ${escapeHtml(s.ownedBy.containerId)}</small>` : ''}</td><td>${s.route !== undefined ? `${escapeHtml(s.route)}: ` : ''}${escapeHtml(s.domain ?? '')}</td><td>${escapeHtml(s.reason)}</td></tr>`,
    )
    .join('');
  const apply = status.lastApply;
  const sync = status.dns.lastSync;
  const conflicts = Object.entries(status.dns.conflicts ?? {})
    .map(([name, reason]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(reason)}</td></tr>`)
    .join('');
  const overCap = status.dns.overCap;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>haproxy-companion: ${escapeHtml(status.zone)}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
  table { border-collapse: collapse; margin-bottom: 1.5rem; min-width: 40rem; }
  th, td { border-bottom: 1px solid #ddd; padding: .35rem .6rem; text-align: left; vertical-align: top; }
  th { background: #f4f4f4; }
  small { color: #777; }
  .badge { border-radius: .6rem; padding: .05rem .5rem; font-size: 12px; }
  .ok { background: #d8f5dc; color: #145a1e; } .bad { background: #fbdcdc; color: #8a1313; } .neutral { background: #eee; }
</style>
</head>
<body>
<h1>haproxy-companion <small>${escapeHtml(status.zone)}</small></h1>
<p id="health">${badge(status.healthy ? 'healthy' : 'unhealthy', status.healthy)}
  HAProxy ${badge(status.checks.haproxyRunning ? 'running' : 'down', status.checks.haproxyRunning)}
  Docker events ${badge(status.checks.dockerConnected ? 'connected' : 'disconnected', status.checks.dockerConnected)}</p>

<h2>Services</h2>
<table id="services"><thead><tr><th>Domain</th><th>Container</th><th>Address</th><th>Health</th></tr></thead>
<tbody>${services || '<tr><td colspan="4">No containers declare a domain.</td></tr>'}</tbody></table>

<h2>Skipped containers</h2>
<table id="skipped"><thead><tr><th>Container</th><th>Domain</th><th>Why</th></tr></thead>
<tbody>${skipped || '<tr><td colspan="3">None.</td></tr>'}</tbody></table>

<h2>Last apply</h2>
<p id="last-apply">${apply ? `${badge(apply.ok ? (apply.how ?? 'ok') : 'rejected', apply.ok)} at ${escapeHtml(apply.at)} in ${escapeHtml(apply.durationMs)} ms${apply.error ? ` <br><code>${escapeHtml(apply.error)}</code>` : ''}` : 'Nothing applied yet.'}</p>

<h2>DNS</h2>
<p id="dns">${
    status.dns.enabled
      ? `Route53, ${escapeHtml(status.dns.mode)} records, host ${escapeHtml(status.dns.identity?.id)} → ${escapeHtml(status.dns.identity?.ip)}${status.dns.identity?.ipv6 ? `, ${escapeHtml(status.dns.identity.ipv6)}` : ''}.
  ${sync ? `Last sync ${badge(sync.ok ? 'ok' : 'failed', sync.ok)} at ${escapeHtml(sync.at)}: ${escapeHtml(sync.upserts)} upserts, ${escapeHtml(sync.deletes)} deletes${sync.error ? ` <br><code>${escapeHtml(sync.error)}</code>` : ''}.` : 'Not synced yet.'}
  Pending changes: ${escapeHtml(status.dns.pendingChanges === -1 ? 'unknown until the next listing' : status.dns.pendingChanges)}.`
      : 'DNS registration is off (no HOSTED_ZONE_ID).'
  }</p>
${
  conflicts
    ? `<p>Left out of Route53 (still served here): a record this host did not write holds the name.</p>
<table id="dns-conflicts"><thead><tr><th>Name</th><th>Why</th></tr></thead>
<tbody>${conflicts}</tbody></table>`
    : ''
}${
  overCap
    ? `<p id="dns-over-cap">${escapeHtml(overCap.names.length)} names beyond DNS_MAX_NAMES (${escapeHtml(overCap.limit)}) are served here but not registered: ${escapeHtml(overCap.names.slice(0, 20).join(', '))}${overCap.names.length > 20 ? ', …' : ''}</p>`
    : ''
}${status.tls ? tlsSection(status.tls) : ''}
</body>
</html>
`;
}

/** HTTPS: each certificate with its names and days left, and those refused with why. */
function tlsSection(tls: TlsStatus): string {
  const rows = tls.certificates
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.name)}${c.name === tls.defaultCertificate ? ' <small>default</small>' : ''}</td><td>${escapeHtml(c.hostnames.slice(0, 20).join(', '))}${c.hostnames.length > 20 ? ', …' : ''}</td><td>${badge(`${c.daysLeft} days`, c.daysLeft >= 14)} <small>${escapeHtml(c.notAfter)}</small></td></tr>`,
    )
    .join('');
  const refused = tls.refused.map((r) => `<tr><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.reason)}</td></tr>`).join('');
  return `
<h2>HTTPS</h2>
<p id="tls">Port ${escapeHtml(tls.port)}; ${tls.defaultCertificate ? `default certificate ${escapeHtml(tls.defaultCertificate)}` : 'no default certificate: a client naming no host below is refused at the handshake'}.${tls.readError ? ` <br>${badge('unreadable', false)} <code>${escapeHtml(tls.readError)}</code>: serving the certificates read before.` : ''}</p>
<table id="certificates"><thead><tr><th>Certificate</th><th>Names</th><th>Expires</th></tr></thead>
<tbody>${rows || '<tr><td colspan="3">No certificate in TLS_CERTS_DIR.</td></tr>'}</tbody></table>${
    refused
      ? `
<table id="certificates-refused"><thead><tr><th>Refused</th><th>Why</th></tr></thead>
<tbody>${refused}</tbody></table>`
      : ''
  }`;
}
