import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig, settingsSchema } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { DOMAIN_ENV, Labels } from '../../src/model/labels.js';
import { ROUTE_LABEL_KEYS } from '../../src/model/route-labels.js';

const template = '/app/templates/haproxy.cfg.njk';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({ DOMAIN_NAME: 'Example.com' }, template);
    expect(config).toEqual({
      zone: 'example.com',
      httpPort: 80,
      templatePath: template,
      haproxyBin: 'haproxy',
      runtimeDir: '/var/run/haproxy-companion',
      stateDir: '/var/lib/haproxy-companion',
      debounce: { minMs: 50, maxMs: 1000 },
      resyncIntervalMs: 60_000,
      log: { level: 'info', format: 'json' },
      status: { address: '127.0.0.1', port: 8404 },
      trustedProxies: [],
      proxyProtocol: false,
      listenIpv6: 'auto',
      accessLog: 'off',
      hardStopAfterS: 600,
      maxOldWorkers: 3,
      holdRequestsMs: 10_000,
      shutdownGraceMs: 10_000,
      model: { allowHostNetwork: false, maxDomainsPerContainer: 100, ownershipGraceMs: 300_000, reservedPorts: [80, 8404], tcpPorts: [] },
      dns: {
        ttl: 60,
        mode: 'multivalue',
        deregisterOnExit: false,
        deregisterWaitMs: 0,
        watchLifecycle: false,
        reconcileIntervalMs: 300_000,
        leaseMs: 3_600_000,
        debounce: { minMs: 5_000, maxMs: 60_000 },
        maxNames: 1_000,
        sharedOwners: [],
        imdsEndpoint: 'http://169.254.169.254',
        imdsDisabled: false,
      },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad value at once', () => {
    let error: unknown;
    try {
      loadConfig({ HTTP_PORT: '99999', LOG_LEVEL: 'loud', DEBOUNCE_MIN_MS: 'soon' }, template);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/DOMAIN_NAME: is required/);
    expect(problems).toMatch(/HTTP_PORT/);
    expect(problems).toMatch(/LOG_LEVEL/);
    expect(problems).toMatch(/DEBOUNCE_MIN_MS/);
  });

  it('reads trusted proxies as a list of addresses and CIDRs', () => {
    expect(
      loadConfig({ DOMAIN_NAME: 'example.com', TRUSTED_PROXIES: ' 10.0.0.0/16, 192.0.2.7,2001:db8::/32,' }, template).trustedProxies,
    ).toEqual(['10.0.0.0/16', '192.0.2.7', '2001:db8::/32']);
  });

  it.each(['10.0.0.0/16 if TRUE', '10.0.0.0/16\nglobal', 'example.com', '10.0.0.0/33', '*'])('rejects TRUSTED_PROXIES=%j', (value) => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', TRUSTED_PROXIES: value }, template)).toThrow(/TRUSTED_PROXIES/);
  });

  it('reads FLEET_PEER_CIDRS as the fleet’s networks, with HOSTED_ZONE_ID', () => {
    const env = {
      DOMAIN_NAME: 'example.com',
      HOSTED_ZONE_ID: 'Z1',
      HOST_IP: '10.0.0.1',
      HOST_ID: 'i-1',
      FLEET_PEER_CIDRS: '10.0.0.0/16, 10.1.0.7',
    };
    expect(loadConfig(env, template).fleet).toEqual({ caFile: undefined, peerCidrs: ['10.0.0.0/16', '10.1.0.7'] });
    expect(loadConfig({ ...env, FLEET_FALLBACK: 'false' }, template).fleet).toBeUndefined();
  });

  it.each([
    'relative/ca.pem',
    '/etc/ssl/my ca.pem',
    '/etc/ssl/ca.pem"\nglobal',
    "/etc/ssl/ca'.pem",
    '/etc/ssl/#ca.pem',
    '/etc/ssl\\ca.pem',
  ])('rejects FLEET_CA_FILE=%j: one word of haproxy.cfg, an absolute path', (value) => {
    const env = { DOMAIN_NAME: 'example.com', TLS_CERTS_DIR: '/certs', FLEET_CA_FILE: value };
    expect(() => loadConfig(env, template)).toThrow(/FLEET_CA_FILE/);
  });

  it('refuses FLEET_CA_FILE without HTTPS, naming what it needs', () => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', FLEET_CA_FILE: '/etc/ssl/ca.pem' }, template)).toThrow(
      /FLEET_CA_FILE: needs TLS_CERTS_DIR/,
    );
  });

  it('reads FLEET_SHARED_OWNERS as owners the way the markers name them: an image without its tag', () => {
    const env = {
      DOMAIN_NAME: 'example.com',
      FLEET_SHARED_OWNERS: 'image:registry.example.com:5000/App-A:v2, compose:shop/web,group:payments',
    };
    expect(loadConfig(env, template).dns.sharedOwners).toEqual([
      'image:registry.example.com:5000/app-a',
      'compose:shop/web',
      'group:payments',
    ]);
  });

  it('names every bad FLEET_SHARED_OWNERS entry at once', () => {
    const bad = ['app-a', 'image:', 'compose:shop', 'compose:shop/web/x', 'group:a b', 'container:abc', 'image:"x"'];
    let error: unknown;
    try {
      loadConfig({ DOMAIN_NAME: 'example.com', FLEET_SHARED_OWNERS: bad.join(',') }, template);
    } catch (thrown) {
      error = thrown;
    }
    const problems = (error as { problems?: string[] }).problems ?? [String(error)];
    for (const entry of bad) expect(problems.join('\n')).toContain(`FLEET_SHARED_OWNERS: ${JSON.stringify(entry)} is not an owner`);
  });

  it.each([',', '2001:db8::/32', '10.0.0.0/33', 'example.com'])('rejects FLEET_PEER_CIDRS=%j', (value) => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', FLEET_PEER_CIDRS: value }, template)).toThrow(/FLEET_PEER_CIDRS/);
  });

  it.each(['short', 'has a space in it, sixteen+', 'x'.repeat(257), 'tab\tinside-the-token-here'])('rejects STATUS_TOKEN=%j', (value) => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', STATUS_TOKEN: value }, template)).toThrow(/STATUS_TOKEN/);
  });

  it.each(['exa mple.com', 'example.com\nglobal', 'bad_zone.com'])('rejects DOMAIN_NAME=%j', (zone) => {
    expect(() => loadConfig({ DOMAIN_NAME: zone }, template)).toThrow(/DOMAIN_NAME: must be a DNS name/);
  });

  it('reads the DNS settings', () => {
    const config = loadConfig(
      {
        DOMAIN_NAME: 'example.com',
        HOSTED_ZONE_ID: '/hostedzone/Z123ABC',
        HOST_IP: '10.0.0.5',
        HOST_ID: 'i-0abc',
        DEREGISTER_ON_EXIT: 'TRUE',
        RECORD_MODE: 'simple',
        DNS_MAX_NAMES: '50',
        DNS_LEASE_S: '900',
      },
      template,
    );
    expect(config.dns).toMatchObject({
      hostedZoneId: 'Z123ABC',
      hostIp: '10.0.0.5',
      hostId: 'i-0abc',
      deregisterOnExit: true,
      mode: 'simple',
      maxNames: 50,
      leaseMs: 900_000,
    });
    expect(config.dns.hostIpv6).toBeUndefined();
    // 0: no lease.
    expect(loadConfig({ DOMAIN_NAME: 'example.com', DNS_LEASE_S: '0' }, template).dns.leaseMs).toBe(0);
  });

  it.each([
    ['2001:db8::10', '2001:db8::10'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0010', '2001:db8::10'],
    ['2600:1f18:abcd:1200:0:0:0:1', '2600:1f18:abcd:1200::1'],
    ['fd12:3456:789a::5', 'fd12:3456:789a::5'],
    ['none', false],
    ['None', false],
  ])('reads HOST_IPV6=%j, canonical', (value, expected) => {
    expect(loadConfig({ DOMAIN_NAME: 'example.com', HOST_IPV6: value }, template).dns.hostIpv6).toBe(expected);
  });

  it.each([
    ['10.0.0.5', /must be an IPv6 address other hosts can reach .*, or none$/],
    ['2001:db8::1%eth0', /must be an IPv6 address other hosts can reach .*, or none$/],
    ['2001:db8::/64', /must be an IPv6 address/],
    ['::', /the unspecified address/],
    ['::1', /the loopback address ::1/],
    ['fe80::1', /a link-local address \(fe80::\/10\) is only reachable on its own network link/],
    ['febf:ffff::1', /a link-local address/],
    ['ff02::1', /a multicast address \(ff00::\/8\)/],
    ['::ffff:10.0.0.5', /an IPv4-mapped address \(::ffff:0:0\/96\) is an IPv4 address: set HOST_IP/],
    ['::10.0.0.5', /an IPv4-compatible address/],
    ['fec0::1', /a site-local address/],
  ])('rejects HOST_IPV6=%j, saying why', (value, reason) => {
    const error = (() => {
      try {
        loadConfig({ DOMAIN_NAME: 'example.com', HOST_IPV6: value }, template);
      } catch (thrown) {
        return thrown as ConfigError;
      }
    })();
    expect(error?.problems).toEqual([expect.stringMatching(/^HOST_IPV6: must be an IPv6 address other hosts can reach/)]);
    expect(error?.problems[0]).toMatch(reason);
  });

  it.each([
    ['HOST_IP', '10.0.0.300'],
    ['HOST_IP', 'fd00::1'],
    ['HOST_ID', 'i-0abc; rm'],
    ['HOST_ID', ''.padEnd(70, 'x')],
    ['HOSTED_ZONE_ID', 'zone one'],
    ['RECORD_MODE', 'weighted'],
    ['RECORD_TTL', '-1'],
    ['DEREGISTER_ON_EXIT', 'maybe'],
    ['DNS_MAX_NAMES', '0'],
    ['DNS_MAX_NAMES', 'all'],
    ['DNS_LEASE_S', '60'],
    ['DNS_LEASE_S', '1h'],
    ['HAPROXY_MAX_OLD_WORKERS', '0'],
    ['HAPROXY_MAX_OLD_WORKERS', '3\nglobal'],
    ['HAPROXY_HARD_STOP_AFTER_S', '10s'],
    ['HAPROXY_HARD_STOP_AFTER_S', '0'],
    ['STATUS_ADDRESS', 'localhost'],
    ['ALLOW_HOST_NETWORK', 'sometimes'],
    ['MAX_DOMAINS_PER_CONTAINER', '0'],
    ['MAX_DOMAINS_PER_CONTAINER', 'many'],
    ['PROXY_PROTOCOL', 'v2'],
    ['LISTEN_IPV6', 'maybe'],
    ['LISTEN_IPV6', '::'],
    ['ACCESS_LOG', 'text'],
    ['ACCESS_LOG', 'true'],
  ])('rejects %s=%j', (key, value) => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', [key]: value }, template)).toThrow(new RegExp(`${key}:`));
  });

  it('reserves every port of the companion itself, so the model never targets them on loopback', () => {
    const config = loadConfig({ DOMAIN_NAME: 'example.com', HTTP_PORT: '8080', STATUS_PORT: '9000', HAPROXY_STATS_PORT: '8405' }, template);
    expect(config.model.reservedPorts).toEqual([8080, 9000, 8405]);
    expect(loadConfig({ DOMAIN_NAME: 'example.com', STATUS_PORT: '0' }, template).model.reservedPorts).toEqual([80]);
  });

  it('reads the trust settings', () => {
    const config = loadConfig({ DOMAIN_NAME: 'example.com', ALLOW_HOST_NETWORK: 'true', MAX_DOMAINS_PER_CONTAINER: '5' }, template);
    expect(config.model).toMatchObject({ allowHostNetwork: true, maxDomainsPerContainer: 5 });
  });

  it('reads TCP_PORTS as ranges, and DEFAULT_SERVICE relative to the zone', () => {
    const config = loadConfig({ DOMAIN_NAME: 'example.com', TCP_PORTS: '5432, 7000-7099', DEFAULT_SERVICE: 'www.example.com' }, template);
    expect(config.model.tcpPorts).toEqual([
      [5432, 5432],
      [7000, 7099],
    ]);
    expect(config.defaultService).toBe('www');
  });

  it.each([
    ['TCP_PORTS', '0'],
    ['TCP_PORTS', '70000'],
    ['TCP_PORTS', '7099-7000'],
    ['TCP_PORTS', '22,'],
    ['TCP_PORTS', '22;rm -rf'],
    ['DEFAULT_SERVICE', 'www.google.com'],
    ['DEFAULT_SERVICE', '*.preview'],
    ['DEFAULT_SERVICE', 'a b'],
    ['DEFAULT_SERVICE', 'example.com'],
  ])('refuses %s=%j', (key, value) => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', [key]: value }, template)).toThrow(new RegExp(`${key}: `));
  });

  it('turns HTTPS on with TLS_CERTS_DIR, on 443 unless HTTPS_PORT says otherwise, and reserves its port', () => {
    expect(loadConfig({ DOMAIN_NAME: 'example.com' }, template).tls).toBeUndefined();
    const on = loadConfig({ DOMAIN_NAME: 'example.com', TLS_CERTS_DIR: '/certs' }, template);
    // HSTS for a year and Mozilla's intermediate profile unless set.
    expect(on.tls).toEqual({ port: 443, certsDir: '/certs', defaultCert: undefined, hstsMaxAge: 31_536_000, profile: 'intermediate' });
    expect(on.model.reservedPorts).toEqual([80, 443, 8404]);
    const custom = loadConfig(
      {
        DOMAIN_NAME: 'example.com',
        TLS_CERTS_DIR: '/certs',
        HTTPS_PORT: '8443',
        TLS_DEFAULT_CERT: 'example.com.pem',
        HSTS_MAX_AGE: '300',
        TLS_PROFILE: 'modern',
      },
      template,
    );
    expect(custom.tls).toEqual({ port: 8443, certsDir: '/certs', defaultCert: 'example.com.pem', hstsMaxAge: 300, profile: 'modern' });
    expect(loadConfig({ DOMAIN_NAME: 'example.com', TLS_CERTS_DIR: '/certs', HSTS_MAX_AGE: '0' }, template).tls?.hstsMaxAge).toBe(0);
  });

  it.each([
    [{ HTTPS_PORT: '443' }, /HTTPS_PORT: needs TLS_CERTS_DIR/],
    [{ HSTS_MAX_AGE: '300', TLS_DEFAULT_CERT: 'x' }, /TLS_DEFAULT_CERT: needs TLS_CERTS_DIR.*HSTS_MAX_AGE: needs TLS_CERTS_DIR/s],
    [{ TLS_CERTS_DIR: '/c', HTTPS_PORT: '80' }, /HTTPS_PORT: 80 is HTTP_PORT too/],
    [{ TLS_CERTS_DIR: '/c', HTTPS_PORT: '8404' }, /HTTPS_PORT: 8404 is STATUS_PORT too/],
    [{ TLS_CERTS_DIR: '/c', TLS_DEFAULT_CERT: '../etc/shadow' }, /TLS_DEFAULT_CERT: must name a certificate/],
    [{ TLS_CERTS_DIR: '/c', HSTS_MAX_AGE: '63072001' }, /HSTS_MAX_AGE: /],
    [{ TLS_PROFILE: 'modern' }, /TLS_PROFILE: needs TLS_CERTS_DIR/],
    [{ TLS_CERTS_DIR: '/c', TLS_PROFILE: 'old' }, /TLS_PROFILE: must be one of intermediate, modern/],
  ])('refuses the HTTPS settings %j', (env, message) => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', ...env }, template)).toThrow(message);
  });

  it('turns ACME on with ACME_EMAIL, which needs the zone and a store, and HTTPS with it; ACME_DOMAINS in the zone', () => {
    const env = { DOMAIN_NAME: 'example.com', ACME_EMAIL: 'ops@example.com', HOSTED_ZONE_ID: 'Z123', TLS_STORE: 'secretsmanager:hc/tls' };
    const config = loadConfig(env, template);
    expect(config.tls).toMatchObject({ port: 443, certsDir: undefined });
    expect(config.tls?.acme).toEqual({
      email: 'ops@example.com',
      directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
      names: ['*.example.com', 'example.com'],
      store: { kind: 'secretsmanager', name: 'hc/tls' },
      renewBeforeDays: 30,
      checkIntervalMs: 3_600_000,
    });
    expect(loadConfig({ ...env, ACME_DOMAINS: '*.apps.example.com, www.example.com' }, template).tls?.acme?.names).toEqual([
      '*.apps.example.com',
      'www.example.com',
    ]);
  });

  it.each([
    [{ ACME_EMAIL: 'ops@example.com' }, /ACME_EMAIL: needs HOSTED_ZONE_ID.*ACME_EMAIL: needs TLS_STORE/s],
    [{ ACME_EMAIL: 'not-an-address', HOSTED_ZONE_ID: 'Z1', TLS_STORE: 'file:/data/a.json' }, /ACME_EMAIL: must be an e-mail/],
    [{ TLS_STORE: 'file:/data/a.json' }, /TLS_STORE: needs ACME_EMAIL/],
    [
      { ACME_EMAIL: 'a@b.co', HOSTED_ZONE_ID: 'Z1', TLS_STORE: 'file:/d', ACME_DOMAINS: 'evil.org' },
      /ACME_DOMAINS: "evil.org" is not a name in example.com/,
    ],
    [{ ACME_EMAIL: 'a@b.co', HOSTED_ZONE_ID: 'Z1', TLS_STORE: 's3:bucket' }, /TLS_STORE: must be secretsmanager:/],
    [
      { ACME_EMAIL: 'a@b.co', HOSTED_ZONE_ID: 'Z1', TLS_STORE: 'file:/d', ACME_DIRECTORY_URL: 'http://acme.test/dir' },
      /ACME_DIRECTORY_URL: must be an https/,
    ],
  ])('refuses the ACME settings %j', (env, message) => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', ...env }, template)).toThrow(message);
  });

  it.each([
    // [env, what the config holds]
    [{}, { proxyProtocol: false, listenIpv6: 'auto', accessLog: 'off' }],
    [
      { PROXY_PROTOCOL: 'true', TRUSTED_PROXIES: '10.0.0.0/16' },
      { proxyProtocol: true, trustedProxies: ['10.0.0.0/16'] },
    ],
    [{ PROXY_PROTOCOL: 'false' }, { proxyProtocol: false }],
    [{ LISTEN_IPV6: 'AUTO' }, { listenIpv6: 'auto' }],
    [{ LISTEN_IPV6: 'true' }, { listenIpv6: true }],
    [{ LISTEN_IPV6: 'yes' }, { listenIpv6: true }],
    [{ LISTEN_IPV6: '0' }, { listenIpv6: false }],
    [{ LISTEN_IPV6: 'False' }, { listenIpv6: false }],
    [{ ACCESS_LOG: 'json' }, { accessLog: 'json' }],
    [{ ACCESS_LOG: 'off' }, { accessLog: 'off' }],
  ])('reads the edge settings %j', (env, expected) => {
    expect(loadConfig({ DOMAIN_NAME: 'example.com', ...env }, template)).toMatchObject(expected);
  });

  it('refuses PROXY_PROTOCOL without TRUSTED_PROXIES: from anyone the header would be a client claiming any address', () => {
    for (const env of [{ PROXY_PROTOCOL: 'true' }, { PROXY_PROTOCOL: 'true', TRUSTED_PROXIES: ' , ' }]) {
      expect(() => loadConfig({ DOMAIN_NAME: 'example.com', ...env }, template)).toThrow(/PROXY_PROTOCOL: needs TRUSTED_PROXIES/);
    }
  });

  it('turns the status endpoint off with STATUS_PORT=0', () => {
    expect(loadConfig({ DOMAIN_NAME: 'example.com', STATUS_PORT: '0' }, template).status).toBeUndefined();
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ DOMAIN_NAME: 'example.com', HTTP_PORT: '' }, template).httpPort).toBe(80);
  });

  it('rejects a max debounce below the min', () => {
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', DEBOUNCE_MIN_MS: '500', DEBOUNCE_MAX_MS: '100' }, template)).toThrow(
      /(^|[^_])DEBOUNCE_MAX_MS: must be at least DEBOUNCE_MIN_MS \(500\)/,
    );
    expect(() => loadConfig({ DOMAIN_NAME: 'example.com', DNS_DEBOUNCE_MIN_MS: '5000', DNS_DEBOUNCE_MAX_MS: '100' }, template)).toThrow(
      /DNS_DEBOUNCE_MAX_MS: must be at least DNS_DEBOUNCE_MIN_MS \(5000\)/,
    );
  });
});

describe('README configuration tables', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  /** First-column backticked names and the second column of every table row. */
  const rows = new Map([...readme.matchAll(/^\| `([^`]+)`[^|]*\| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));

  it.each(Object.keys(settingsSchema.shape))('documents %s with its real default', (key) => {
    expect(rows.has(key), `${key} missing from README`).toBe(true);
    const field = settingsSchema.shape[key as keyof typeof settingsSchema.shape];
    const parsed = field.safeParse(undefined);
    const expected = !parsed.success ? 'required' : parsed.data === undefined ? 'unset' : `\`${parsed.data}\``;
    expect(rows.get(key)).toBe(expected);
  });

  it('documents only variables the code reads', () => {
    const envRows = [...rows.keys()].filter((k) => /^[A-Z][A-Z0-9_]+$/.test(k));
    expect(envRows.filter((k) => !(k in settingsSchema.shape) && k !== DOMAIN_ENV)).toEqual([]);
  });

  it.each(Object.values(Labels))('documents the label %s', (label) => {
    expect(rows.has(label)).toBe(true);
  });

  it('documents every route label in the route table, and no other', () => {
    const table = readme.slice(readme.indexOf('| route label ('));
    const documented = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...ROUTE_LABEL_KEYS].sort());
  });
});
