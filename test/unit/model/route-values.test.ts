import { describe, expect, it } from 'vitest';
import {
  configWord,
  logFormatLiteral,
  type Parsed,
  parseAllowList,
  parseAuthUsers,
  parseBoolean,
  parseCheckInterval,
  parseCheckPath,
  parseDuration,
  parseHeaderName,
  parseHeaderValue,
  parseMaxconn,
  parsePathPrefix,
  parsePort,
  parseRedirect,
} from '../../../src/model/route-values.js';

/** The reason of a refusal; fails the test if the value was accepted. */
function reasonOf<T>(result: Parsed<T>): string {
  expect(result.ok, `accepted: ${JSON.stringify(result)}`).toBe(false);
  return result.ok ? '' : result.reason;
}

// Pieces every parser must refuse inside a value: they end a config line, start a comment, quote,
// escape, expand an environment variable or a sample fetch.
const INJECTIONS = ['\n', '\r', '\0', '"', "'", '\\', '$', '${HOME}', '%[src]', ' ', '#', 'é', '\u202e'];

describe('parsePathPrefix', () => {
  it.each([
    ['/', '/'],
    [' / ', '/'],
    ['/v1', '/v1'],
    ['/v1/', '/v1'],
    ['  /api/v2  ', '/api/v2'],
    ['/a.b_c~d-e', '/a.b_c~d-e'],
    ['/...', '/...'],
    ['/.well-known', '/.well-known'],
    [`/${'a'.repeat(127)}`, `/${'a'.repeat(127)}`],
    [`/${'a'.repeat(127)}/`, `/${'a'.repeat(127)}`],
    ['/a'.repeat(16), '/a'.repeat(16)],
    // Lower case: requests are routed by their path in lower case, so `/Admin` and `/admin` are one prefix.
    ['/Admin', '/admin'],
    ['/API/V2/', '/api/v2'],
  ])('accepts %j as %j', (raw, expected) => {
    expect(parsePathPrefix(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['v1', /start with \//],
    ['//', /empty segment/],
    ['/v1//', /empty segment/],
    ['/a//b', /empty segment/],
    ['/.', /"\." segment/],
    ['/..', /"\.\." segment/],
    ['/a/../b', /"\.\." segment/],
    ['/a/./b', /"\." segment/],
    [`/${'a'.repeat(128)}`, /longer than 128/],
    ['/a'.repeat(17), /more than 16 segments/],
    ['/a%2e', /found '%'/],
    ['/a?b', /found '\?'/],
    ['/a b', /found U\+0020/],
    ['/a\nbackend evil', /found U\+000A/],
    ['/é', /found U\+00E9/],
    ['/💥', /found U\+1F4A5/],
    ['/a#b', /found '#'/],
    ['/${HOME}', /found '\$'/],
    ['/%[src]', /found '%'/],
    ['/a\\b', /found '\\'/],
    ['/a"b', /found '"'/],
    ["/a'b", /found '''/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parsePathPrefix(raw))).toMatch(reason);
  });

  it.each(INJECTIONS)('refuses the hostile piece %j inside a prefix', (piece) => {
    expect(parsePathPrefix(`/api${piece}x`).ok).toBe(false);
  });
});

describe('parseCheckPath', () => {
  it.each([
    ['/', '/'],
    ['/health', '/health'],
    [' /health ', '/health'],
    ['/health/', '/health/'],
    ['/status?full=1&x=y', '/status?full=1&x=y'],
    ['/a%20b', '/a%20b'],
    ['/a%2Fb%2f', '/a%2Fb%2f'],
    ['/.well-known/ready', '/.well-known/ready'],
    ['/q?a=..', '/q?a=..'],
    [`/${'a'.repeat(255)}`, `/${'a'.repeat(255)}`],
  ])('accepts %j as %j', (raw, expected) => {
    expect(parseCheckPath(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', /empty/],
    ['health', /start with \//],
    ['/a/../etc/passwd', /"\.\." segment/],
    ['/..', /"\.\." segment/],
    ['/%', /%XX/],
    ['/%4', /%XX/],
    ['/%zz', /%XX/],
    ['/%[src]', /found '\['/],
    ['/%%5B', /%XX/],
    ['/a b', /found U\+0020/],
    ['/a\r\nHost: evil', /found U\+000D/],
    ['/a#b', /found '#'/],
    ['/$HOME', /found '\$'/],
    ['/a"b', /found '"'/],
    ['/a;b', /found ';'/],
    ['/ü', /found U\+00FC/],
    [`/${'a'.repeat(256)}`, /longer than 256/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseCheckPath(raw))).toMatch(reason);
  });
});

describe('parseBoolean', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    [' Yes ', true],
    ['1', true],
    ['false', false],
    ['No', false],
    ['0', false],
    ['\tfalse\n', false],
  ])('accepts %j as %j', (raw, expected) => {
    expect(parseBoolean(raw)).toEqual({ ok: true, value: expected });
  });

  it.each(['', 'on', 'off', 'y', 'n', '2', 'truee', 'tru\u212a', 'yes no', '01', '\u0661'])('refuses %j', (raw) => {
    expect(reasonOf(parseBoolean(raw))).toMatch(/is not a boolean \(true\/false, yes\/no, 1\/0\)/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1ms', 1],
    ['500ms', 500],
    [' 5s ', 5000],
    ['2m', 120_000],
    ['24h', 86_400_000],
    ['1440m', 86_400_000],
    ['86400000ms', 86_400_000],
    ['0000000005s', 5000],
  ])('accepts %j as %j ms', (raw, expected) => {
    expect(parseDuration(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['30', /bare number: add a unit/],
    ['0', /bare number: add a unit/],
    ['', /is not a duration \(e\.g\. 500ms, 5s, 2m/],
    ['5 s', /is not a duration/],
    ['5S', /is not a duration/],
    ['1d', /is not a duration/],
    ['100us', /is not a duration/],
    ['-5s', /is not a duration/],
    ['+5s', /is not a duration/],
    ['1.5s', /is not a duration/],
    ['5s5', /is not a duration/],
    ['s', /is not a duration/],
    ['\u0665s', /is not a duration/],
    ['5s\nbackend evil', /is not a duration/],
    ['${T}s', /is not a duration/],
    ['0ms', /out of range \(1ms to 24h\)/],
    ['0s', /out of range/],
    ['25h', /out of range/],
    ['86400001ms', /out of range/],
    ['99999999999ms', /more than 10 digits/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseDuration(raw))).toMatch(reason);
  });
});

describe('parseCheckInterval', () => {
  it.each([
    ['1s', 1000],
    ['1000ms', 1000],
    [' 5s ', 5000],
    ['2m', 120_000],
    ['24h', 86_400_000],
  ])('accepts %j as %j ms', (raw, expected) => {
    expect(parseCheckInterval(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['1ms', /below 1s/],
    ['999ms', /below 1s/],
    ['0s', /below 1s/],
    ['25h', /out of range/],
    ['2', /bare number/],
    ['fast', /is not a duration/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseCheckInterval(raw))).toMatch(reason);
  });
});

describe('parsePort and parseMaxconn', () => {
  it.each([
    ['1', 1],
    ['80', 80],
    [' 8080 ', 8080],
    ['65535', 65535],
    ['0080', 80],
    ['80\n', 80],
  ])('parsePort accepts %j as %j', (raw, expected) => {
    expect(parsePort(raw)).toEqual({ ok: true, value: expected });
  });

  it.each(['', '0', '65536', '-1', '+80', '80.0', '1e3', '0x50', '8 0', 'eighty', '\uff18\uff10', '99999999999', '80\nbackend evil'])(
    'parsePort refuses %j',
    (raw) => {
      expect(reasonOf(parsePort(raw))).toBe('is not a port number (1-65535)');
    },
  );

  it.each([
    ['1', 1],
    ['100', 100],
    ['100000', 100_000],
  ])('parseMaxconn accepts %j as %j', (raw, expected) => {
    expect(parseMaxconn(raw)).toEqual({ ok: true, value: expected });
  });

  it.each(['', '0', '100001', '-5', '+5', '1e5', '10 0', '1_000', 'Infinity'])('parseMaxconn refuses %j', (raw) => {
    expect(reasonOf(parseMaxconn(raw))).toBe('is not a connection limit (1-100000)');
  });
});

describe('parseAllowList', () => {
  it.each([
    ['10.0.0.0/8', ['10.0.0.0/8']],
    ['192.168.1.7', ['192.168.1.7']],
    [' 10.0.0.0/8 , 192.168.1.7 ', ['10.0.0.0/8', '192.168.1.7']],
    ['0.0.0.0/0', ['0.0.0.0/0']],
    ['255.255.255.255/32', ['255.255.255.255/32']],
    ['2001:DB8::/32', ['2001:db8::/32']],
    ['::1', ['::1']],
    ['::/0', ['::/0']],
    ['fe80::1:2/128', ['fe80::1:2/128']],
    ['2001:DB8::0123', ['2001:db8::0123']],
    ['::ffff:10.0.0.0/104', ['::ffff:10.0.0.0/104']],
    ['172.16.0.0/12,2001:db8:1::/48', ['172.16.0.0/12', '2001:db8:1::/48']],
    [Array(48).fill('10.0.0.1').join(','), Array(48).fill('10.0.0.1')],
  ])('accepts %j', (raw, expected) => {
    expect(parseAllowList(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', /is empty/],
    ['10.0.0.0/8,', /empty entry/],
    [',10.0.0.0/8', /empty entry/],
    ['10.0.0.1,,10.0.0.2', /empty entry/],
    ['10.0.0.1/8', /"10\.0\.0\.1\/8", which has bits set beyond the \/8 prefix: write "10\.0\.0\.0\/8"/],
    ['192.168.1.7/24', /write "192\.168\.1\.0\/24"/],
    ['2001:db8::1/32', /write "2001:db8::\/32"/],
    ['2001:db8:0:1:0:0:0:1/64', /write "2001:db8:0:1::\/64"/],
    ['010.0.0.1', /leading zero.*octal/],
    ['10.0.0.01/32', /leading zero/],
    ['::ffff:010.0.0.1', /leading zero/],
    ['10.0.0.256', /not an IPv4 address/],
    ['10.0.0', /not an IPv4 address/],
    ['10.0.0.0/33', /prefix length is not 0-32/],
    ['2001:db8::/129', /prefix length is not 0-128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/08', /prefix length/],
    ['10.0.0.0/8/8', /not an IP address or CIDR range/],
    ['fe80::1%eth0', /not an IP address or CIDR range/],
    ['localhost', /not an IP address or CIDR range/],
    ['10.0.0.0/8 10.1.0.0/16', /not an IP address or CIDR range/],
    ['10.0.0.1\nbackend evil', /has an entry with U\+000A, which is not an IP address or CIDR range/],
    ['10.0.0.1#', /not an IP address or CIDR range/],
    ['${NET}', /not an IP address or CIDR range/],
    ['abc', /not an IP address/],
    ['1:2:3:4:5:6:7:8:9', /not an IP address/],
    ['１0.0.0.1', /has an entry with U\+FF11, which is not an IP address or CIDR range/],
    ['10.0.0.1\u007f', /has an entry with U\+007F/],
    [Array(49).fill('10.0.0.1').join(','), /more than 48 entries/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseAllowList(raw))).toMatch(reason);
  });
});

describe('parseAuthUsers', () => {
  const sha512 = '$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/';
  const sha512Rounds = '$6$rounds=5000$abc$hash./Z09';
  const md5 = '$1$salt$O8pdR3Yqf2CcQNnnQsg0y.';
  const sha256 = '$5$salt$abcdefghij0123456789';
  const bcrypt = `$2y$10$${'a'.repeat(53)}`;
  const yescrypt = '$y$j9T$salt$hashhashhash';
  const scrypt = '$7$CU..../....salt$hash';
  const costly = ['$6$rounds=999999999$abc$hash./Z09', `$2b$31$${'a'.repeat(53)}`, '$y$jFT$salt$hashhashhash', scrypt];

  it.each(costly)('refuses a hash too costly to check on every request: %s', (hash) => {
    expect(parseAuthUsers(`u:${hash}`).ok).toBe(false);
  });

  it.each([
    [`alice:${sha512}`, [{ name: 'alice', hash: sha512 }]],
    [
      ` alice : ${md5} , bob:${bcrypt}`,
      [
        { name: 'alice', hash: md5 },
        { name: 'bob', hash: bcrypt },
      ],
    ],
    [`a.b_c-d:${sha256}`, [{ name: 'a.b_c-d', hash: sha256 }]],
    [`u:${sha512Rounds}`, [{ name: 'u', hash: sha512Rounds }]],
    [`u:${yescrypt}`, [{ name: 'u', hash: yescrypt }]],
    [`${'n'.repeat(64)}:${md5}`, [{ name: 'n'.repeat(64), hash: md5 }]],
  ])('accepts %j', (raw, expected) => {
    expect(parseAuthUsers(raw)).toEqual({ ok: true, value: expected });
  });

  // Each secret is a plain-text password (or a password-looking part) that must never appear in a reason.
  it.each([
    ['alice:hunter2', 'hunter2', /user "alice": the password is plain text.*crypt\(3\) hash.*mkpasswd -m sha-512.*openssl passwd -6/],
    ['alice:Secr3t!pa55', 'Secr3t!pa55', /plain text/],
    ['hunter2', 'hunter2', /entry 1 is not name:hash.*crypt\(3\)/],
    [`bob:${md5},hunter2`, 'hunter2', /entry 2 is not name:hash/],
    ['p@ss:word', 'p@ss', /entry 1: the user name may contain only/],
    ['my secret:$6$x$y', 'my secret', /user name may contain only/],
    ['alice:$notahash$at-all', 'notahash', /not a crypt\(3\) hash/],
    ['alice:$6$short', '$6$short', /not a crypt\(3\) hash/],
    ['alice:$3$salt$hashhashhash', '$3$salt$hashhashhash', /not a supported crypt\(3\) hash/],
    ['alice:abcdefghijklm$', 'abcdefghijklm', /not a supported crypt\(3\) hash/],
    [`alice:$2b$10$${'a'.repeat(52)}`, 'a'.repeat(52), /not a supported crypt\(3\) hash/],
    [`alice:$6$${'a'.repeat(600)}`, 'a'.repeat(40), /not a crypt\(3\) hash/],
    ['alice:$6$salt$h"ash', 'h"ash', /not a crypt\(3\) hash/],
    ["alice:$6$salt$h'ash'", "h'ash", /not a crypt\(3\) hash/],
    ['alice:$6$salt$hash\nbackend evil', 'backend evil', /not a crypt\(3\) hash/],
    ['alice:$6$salt$hash #x', '#x', /not a crypt\(3\) hash/],
  ])('refuses %j without echoing the secret', (raw, secret, reason) => {
    const why = reasonOf(parseAuthUsers(raw));
    expect(why).toMatch(reason);
    expect(why).not.toContain(secret);
  });

  it.each([
    ['', /is empty/],
    [`alice:${md5},`, /empty entry \(number 2\)/],
    [`alice:${md5},alice:${sha256}`, /names user "alice" twice/],
    [`${'n'.repeat(65)}:${md5}`, /user name may contain only/],
    [`:${md5}`, /user name may contain only/],
    [Array.from({ length: 33 }, (_, i) => `u${i}:${md5}`).join(','), /more than 32 users/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseAuthUsers(raw))).toMatch(reason);
  });
});

describe('parseHeaderName', () => {
  it.each([
    ['X-Frame-Options', 'X-Frame-Options'],
    [' x-custom ', 'x-custom'],
    ['Strict-Transport-Security', 'Strict-Transport-Security'],
    ['A', 'A'],
    ['a'.repeat(64), 'a'.repeat(64)],
    ['Host-Name', 'Host-Name'],
  ])('accepts %j as %j', (raw, expected) => {
    expect(parseHeaderName(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    'Host',
    'host',
    'Content-Length',
    'TRANSFER-ENCODING',
    'Connection',
    'Upgrade',
    'TE',
    'Trailer',
    'Keep-Alive',
    'Proxy-Connection',
  ])('refuses the hop-by-hop or framing header %j', (raw) => {
    expect(reasonOf(parseHeaderName(raw))).toMatch(/hop-by-hop or framing header/);
  });

  it('refuses the companion’s own header (the fleet’s hop marker), whatever its case', () => {
    expect(reasonOf(parseHeaderName('X-Companion-Server'))).toMatch(/hop marker/);
    expect(reasonOf(parseHeaderName('x-companion-SERVER'))).toMatch(/hop marker/);
    expect(reasonOf(parseHeaderName('X-Companion-Hops'))).toMatch(/hop marker/);
  });

  it.each([
    ['', /empty/],
    ['a'.repeat(65), /longer than 64/],
    ['X_Custom', /found '_'/],
    ['X-Custom:', /found ':'/],
    ['X Custom', /found U\+0020/],
    ['X-A\r\nX-B', /found U\+000D/],
    ['X-Ä', /found U\+00C4/],
    ['X-$HOME', /found '\$'/],
    ['X-%[src]', /found '%'/],
    ['X-"', /found '"'/],
    ["X-'", /found '''/],
    ['X-#', /found '#'/],
    ['X-\\', /found '\\'/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseHeaderName(raw))).toMatch(reason);
  });
});

describe('parseHeaderValue', () => {
  it.each([
    ['', null],
    ['   ', null],
    ['DENY', 'DENY'],
    ['  max-age=31536000; includeSubDomains  ', 'max-age=31536000; includeSubDomains'],
    ['a "quoted" \'value\' with \\ $HOME ${X} %[src] # and more', 'a "quoted" \'value\' with \\ $HOME ${X} %[src] # and more'],
    ['x'.repeat(1024), 'x'.repeat(1024)],
  ])('accepts %j as %j', (raw, expected) => {
    expect(parseHeaderValue(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['a\nb', /printable ASCII.*U\+000A/],
    ['a\r\nX-Evil: 1', /U\+000D/],
    ['a\0b', /U\+0000/],
    ['a\tb', /U\+0009/],
    ['café', /U\+00E9/],
    ['\u202eevil', /U\+202E/],
    ['x'.repeat(1025), /longer than 1024/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseHeaderValue(raw))).toMatch(reason);
  });
});

describe('parseRedirect', () => {
  it.each([
    ['https://example.com', 'https://example.com'],
    ['https://example.com/', 'https://example.com'],
    ['HTTPS://Example.COM/New/', 'https://example.com/New'],
    ['http://example.com:8080/a/b', 'http://example.com:8080/a/b'],
    ['http://example.com:08080', 'http://example.com:8080'],
    ['https://10.0.0.1/x', 'https://10.0.0.1/x'],
    ['https://[2001:DB8::1]:8443/', 'https://[2001:db8::1]:8443'],
    ['https://localhost', 'https://localhost'],
    ['  https://a-b.example/x.y_z~w-v  ', 'https://a-b.example/x.y_z~w-v'],
  ])('accepts %j as %j', (raw, expected) => {
    expect(parseRedirect(raw)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', /empty/],
    ['example.com', /absolute http:\/\/ or https:\/\/ URL/],
    ['ftp://example.com', /absolute http/],
    ['javascript:alert(1)', /absolute http/],
    ['//example.com', /absolute http/],
    ['https://', /no host/],
    ['https:///path', /no host/],
    ['https://user:pass@example.com', /user info/],
    ['https://good.example@evil.example', /user info/],
    ['https://example.com/?q=1', /query or a fragment/],
    ['https://example.com/#top', /query or a fragment/],
    ['https://example.com/a b', /no spaces.*U\+0020/],
    ['https://example.com/\nbackend evil', /U\+000A/],
    ['https://exämple.com', /U\+00E4/],
    ['https://example.com/"', /quotes, backslashes/],
    ["https://example.com/'", /quotes, backslashes/],
    ['https://example.com\\@evil', /quotes, backslashes/],
    ['https://example.com/$HOME', /path that may contain only.*'\$'/],
    ['https://example.com/%[src]', /path that may contain only.*'%'/],
    ['https://example.com/a/../b', /"\.\." path segment/],
    ['https://example.com//b', /empty path segment/],
    ['https://example.com:0', /port/],
    ['https://example.com:65536', /port/],
    ['https://example.com:', /port/],
    ['https://example.com:80:80', /port/],
    ['https://exa_mple.com', /host "exa_mple\.com"/],
    ['https://-example.com', /RFC 1123/],
    ['https://example..com', /empty label/],
    ['https://example.com.', /ends in a dot/],
    ['https://1.2.3', /neither a DNS name nor an IPv4 address/],
    ['https://010.0.0.1', /neither a DNS name nor an IPv4 address/],
    ['https://example.0x7f', /neither a DNS name nor an IPv4 address/],
    ['https://[::1', /absolute http/],
    ['https://[fe80::1%25eth0]', /not an IPv6 address/],
    ['https://[example.com]', /not an IPv6 address/],
    [`https://example.com/${'a'.repeat(500)}`, /longer than 512/],
  ])('refuses %j', (raw, reason) => {
    expect(reasonOf(parseRedirect(raw))).toMatch(reason);
  });
});

describe('configWord and logFormatLiteral', () => {
  it.each([
    ['abc', "'abc'"],
    ['a b', "'a b'"],
    ["it's", `'it'"'"'s'`],
    ["'", `''"'"''`],
    ['"$HOME" \\n #x', `'"$HOME" \\n #x'`],
    ['${HOME}', "'${HOME}'"],
  ])('writes %j as %s', (value, word) => {
    expect(configWord(value)).toBe(word);
  });

  it.each(['', 'a\nb', 'a\rb', 'a\0b', 'a\tb', '\u007f', 'é', '💥'])('refuses to write %j', (value) => {
    expect(() => configWord(value)).toThrow(/configWord/);
  });

  it.each([
    ['100%', "'100%%'"],
    ['%[src]', "'%%[src]'"],
    ["50% of 'it'", `'50%% of '"'"'it'"'"''`],
    ['no percent', "'no percent'"],
  ])('logFormatLiteral writes %j as %s', (value, word) => {
    expect(logFormatLiteral(value)).toBe(word);
  });
});
