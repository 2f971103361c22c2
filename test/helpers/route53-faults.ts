/**
 * An HTTP proxy in front of moto that adds what moto lacks: Route53's account-wide rate limit, injected
 * errors (Throttling, PriorRequestNotComplete, 503, InvalidChangeBatch), an outage switch, a count of
 * requests per operation, and, opt-in, Route53's refusal of a CREATE over an existing record set (moto
 * silently adds a duplicate). Point a Route53Client's `endpoint` at `proxy.endpoint`; everything not rejected
 * reaches moto unchanged (method, path, query, headers, body) and moto's answer streams back.
 *
 * Error bodies are Route53's own XML; the AWS SDK v3 turns them into errors named after the code
 * (test/unit/helpers/route53-faults.test.ts checks each one).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { listenOnLoopback } from './loopback.js';
import { listRecords } from './moto.js';

export type Operation =
  | 'ChangeResourceRecordSets'
  | 'ListResourceRecordSets'
  | 'GetHostedZone'
  | 'GetChange'
  | 'CreateHostedZone'
  | 'DeleteHostedZone'
  | 'ListHostedZones'
  | 'ListHostedZonesByName'
  | 'Other';

const OPERATIONS: readonly Operation[] = [
  'ChangeResourceRecordSets',
  'ListResourceRecordSets',
  'GetHostedZone',
  'GetChange',
  'CreateHostedZone',
  'DeleteHostedZone',
  'ListHostedZones',
  'ListHostedZonesByName',
  'Other',
];

export type Fault = 'Throttling' | 'PriorRequestNotComplete' | 'ServiceUnavailable' | 'InvalidChangeBatch';

export interface FaultOptions {
  /** Only requests of this operation take the fault; others pass (default: any operation). */
  operation?: Operation;
  /** InvalidChangeBatch only: the problems Route53 lists (default: one naming the injection). */
  messages?: string[];
  /**
   * InvalidChangeBatch only: the old `<InvalidChangeBatch><Messages>` body instead of today's `<ErrorResponse>`.
   * AWS SDK v3 cannot read that shape (the error comes out named `Unknown`, message lost); Route53 stopped
   * sending it (aws/aws-sdk-kotlin#1435), but code that must survive it can be tested with this.
   */
  legacyBody?: boolean;
}

/** Why the proxy answered a request itself instead of forwarding it. */
export type Rejection = 'rate-limit' | 'injected' | 'outage' | 'create-conflict';

export interface RequestRecord {
  operation: Operation;
  method: string;
  path: string;
  /** Date.now() on arrival. */
  at: number;
  /** Set when the proxy answered itself; absent when the request went to moto. */
  rejected?: { by: Rejection; fault: Fault };
}

export interface ProxyStats {
  /** Requests received per operation, rejected ones included. */
  requests: Record<Operation, number>;
  /** Of those, the ones the proxy answered itself (rate limit, injected fault, outage). */
  rejected: Record<Operation, number>;
  /** Every request in arrival order. */
  log: RequestRecord[];
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:41235; give it to the SDK as `endpoint`. */
  readonly endpoint: string;
  stats(): ProxyStats;
  resetStats(): void;
  /** The next `count` requests (of `options.operation`, if given) get `fault`. Calls queue up in order. */
  failNext(count: number, fault: Fault, options?: FaultOptions): void;
  /** While on, every request gets 503 ServiceUnavailable. */
  outage(on: boolean): void;
  /** Changes or (undefined) lifts the rate limit; the bucket starts full. */
  setRateLimit(ratePerSecond: number | undefined): void;
  /**
   * While on, a ChangeResourceRecordSets whose CREATE names a record set (name, type, SetIdentifier) that
   * exists by then is refused with InvalidChangeBatch, as Route53 does, and nothing of it reaches moto.
   */
  refuseCreateOverExisting(on: boolean): void;
  close(): Promise<void>;
}

/**
 * Starts the proxy on a free 127.0.0.1 port in front of `target` (moto's endpoint).
 * `ratePerSecond`: Route53's limit is 5 requests a second per account, shared by every client; beyond it the
 * answer is 400 Throttling "Rate exceeded". A token bucket that holds at most `ratePerSecond` tokens.
 */
export async function startFaultProxy(
  target: string,
  options: { ratePerSecond?: number; refuseCreateOverExisting?: boolean } = {},
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const bucket = { rate: undefined as number | undefined, tokens: 0, updatedAt: 0 };
  const setRateLimit = (rate: number | undefined): void => {
    if (rate !== undefined && !(rate > 0)) throw new Error(`ratePerSecond must be > 0, got ${rate}`);
    Object.assign(bucket, { rate, tokens: rate ?? 0, updatedAt: performance.now() });
  };
  setRateLimit(options.ratePerSecond);

  const takeToken = (): boolean => {
    if (bucket.rate === undefined) return true;
    const now = performance.now();
    bucket.tokens = Math.min(bucket.rate, bucket.tokens + ((now - bucket.updatedAt) / 1000) * bucket.rate);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  let stats = emptyStats();
  let down = false;
  let refuseCreates = options.refuseCreateOverExisting ?? false;
  const queued: { remaining: number; fault: Fault; options: FaultOptions }[] = [];

  /** The answer the proxy gives itself, or undefined to forward. Order: outage, injected faults, rate limit. */
  const decide = (operation: Operation, path: string): { by: Rejection; fault: Fault; options: FaultOptions } | undefined => {
    // moto's own control API (reset, data) is test plumbing, not Route53: never rejected.
    if (path.startsWith('/moto-api/')) return undefined;
    if (down) return { by: 'outage', fault: 'ServiceUnavailable', options: {} };
    const rule = queued.find((candidate) => candidate.options.operation === undefined || candidate.options.operation === operation);
    if (rule) {
      if (--rule.remaining === 0) queued.splice(queued.indexOf(rule), 1);
      return { by: 'injected', fault: rule.fault, options: rule.options };
    }
    // Rejected requests take no token: a client hammering through throttling still gets its share later.
    if (!takeToken()) return { by: 'rate-limit', fault: 'Throttling', options: {} };
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const operation = operationOf(method, path);
    const record: RequestRecord = { operation, method, path, at: Date.now() };
    stats.requests[operation]++;
    stats.log.push(record);

    const rejection = decide(operation, path);
    if (rejection) {
      record.rejected = { by: rejection.by, fault: rejection.fault };
      stats.rejected[operation]++;
      // Read the whole request before answering, so the client's keep-alive connection stays usable.
      req.resume();
      req.once('end', () => answerFault(res, rejection.fault, rejection.options));
      return;
    }
    if (refuseCreates && operation === 'ChangeResourceRecordSets') {
      void checkCreates(req, upstream, path).then(
        ({ body, conflicts }) => {
          if (conflicts.length === 0) return forward(req, res, upstream, url, body);
          record.rejected = { by: 'create-conflict', fault: 'InvalidChangeBatch' };
          stats.rejected[operation]++;
          answerFault(res, 'InvalidChangeBatch', { messages: conflicts });
        },
        (error: Error) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`route53-faults: checking the CREATEs failed: ${error.message}\n`);
        },
      );
      return;
    }
    forward(req, res, upstream, url);
  });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = emptyStats();
    },
    failNext: (count, fault, faultOptions = {}) => {
      if (!Number.isInteger(count) || count < 1) throw new Error(`failNext: count must be a positive integer, got ${count}`);
      queued.push({ remaining: count, fault, options: faultOptions });
    },
    outage: (on) => {
      down = on;
    },
    setRateLimit,
    refuseCreateOverExisting: (on) => {
      refuseCreates = on;
    },
    close: listening.close,
  };
}

/** The Route53 (REST API 2013-04-01) operation a request is, from its method and path. */
export function operationOf(method: string, path: string): Operation {
  const match = /\/2013-04-01\/(hostedzone|hostedzonesbyname|change)(?:\/([^/]+))?(\/rrset)?\/?$/.exec(path);
  if (!match) return 'Other';
  const [, kind, id, rrset] = match;
  if (kind === 'hostedzone' && id && rrset) {
    if (method === 'GET') return 'ListResourceRecordSets';
    if (method === 'POST') return 'ChangeResourceRecordSets';
  } else if (kind === 'hostedzone' && id) {
    if (method === 'GET') return 'GetHostedZone';
    if (method === 'DELETE') return 'DeleteHostedZone';
  } else if (kind === 'hostedzone' && !rrset) {
    if (method === 'GET') return 'ListHostedZones';
    if (method === 'POST') return 'CreateHostedZone';
  } else if (kind === 'hostedzonesbyname' && !id && !rrset && method === 'GET') {
    return 'ListHostedZonesByName';
  } else if (kind === 'change' && id && !rrset && method === 'GET') {
    return 'GetChange';
  }
  return 'Other';
}

function emptyStats(): ProxyStats {
  const zeros = () => Object.fromEntries(OPERATIONS.map((operation) => [operation, 0])) as Record<Operation, number>;
  return { requests: zeros(), rejected: zeros(), log: [] };
}

// Hop-by-hop headers belong to one connection, not to the message: never passed on.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

/**
 * Reads a ChangeResourceRecordSets body and returns it with Route53's message for each CREATE of a record set
 * that exists by then (moto's listing, the batch's own earlier changes applied in order).
 */
async function checkCreates(req: http.IncomingMessage, upstream: URL, path: string): Promise<{ body: Buffer; conflicts: string[] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const zoneId = /\/hostedzone\/([^/]+)\/rrset/.exec(path)?.[1] ?? '';
  const key = (name: string, type: string, setIdentifier: string | undefined) =>
    `${name.toLowerCase().replace(/\.$/, '')}|${type}|${setIdentifier ?? ''}`;
  const existing = new Set((await listRecords(upstream.origin, zoneId)).map((r) => key(r.Name ?? '', r.Type ?? '', r.SetIdentifier)));
  const conflicts: string[] = [];
  for (const change of body.toString('utf8').match(/<Change>[\s\S]*?<\/Change>/g) ?? []) {
    const field = (tag: string) => {
      const value = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(change)?.[1];
      return value === undefined ? undefined : unescapeXml(value);
    };
    const [action, name, type, setIdentifier] = [field('Action'), field('Name') ?? '', field('Type') ?? '', field('SetIdentifier')];
    const k = key(name, type, setIdentifier);
    if (action === 'DELETE') existing.delete(k);
    else if (action === 'CREATE' && existing.has(k)) {
      const id = setIdentifier === undefined ? '' : `, set-identifier='${setIdentifier}'`;
      conflicts.push(
        `Tried to create resource record set [name='${name.replace(/\.?$/, '.')}', type='${type}'${id}] but it already exists`,
      );
    } else existing.add(k);
  }
  return { body, conflicts };
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[e] ?? '');
}

/**
 * Sends the request on to moto as it came (Host included: it is part of the SigV4 signature) and streams back;
 * `body`: the request's body, when it has been read already.
 */
function forward(req: http.IncomingMessage, res: http.ServerResponse, upstream: URL, url: string, body?: Buffer): void {
  const outgoing = http.request(
    {
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: url,
      headers: endToEnd(req.headers),
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      answer.pipe(res);
      answer.once('error', () => res.destroy());
    },
  );
  outgoing.once('error', (error) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`route53-faults: moto at ${upstream.origin} did not answer: ${error.message}\n`);
  });
  // A client that gives up (SDK timeout) must not leave the request to moto dangling.
  res.once('close', () => {
    if (!res.writableFinished) outgoing.destroy();
  });
  if (body) outgoing.end(body);
  else req.pipe(outgoing);
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

function answerFault(res: http.ServerResponse, fault: Fault, options: FaultOptions): void {
  const requestId = randomUUID();
  const { status, body } = faultResponse(fault, options, requestId);
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function faultResponse(fault: Fault, options: FaultOptions, requestId: string): { status: number; body: string } {
  switch (fault) {
    case 'Throttling':
      return { status: 400, body: errorResponse('Sender', 'Throttling', 'Rate exceeded', requestId) };
    case 'PriorRequestNotComplete':
      return {
        status: 400,
        body: errorResponse(
          'Sender',
          'PriorRequestNotComplete',
          'The request was rejected because Route 53 was still processing a prior request.',
          requestId,
        ),
      };
    case 'ServiceUnavailable':
      return { status: 503, body: errorResponse('Receiver', 'ServiceUnavailable', 'Service Unavailable', requestId) };
    case 'InvalidChangeBatch': {
      const messages = options.messages ?? ['Injected by route53-faults: InvalidChangeBatch'];
      if (options.legacyBody) {
        const items = messages.map((message) => `<Message>${escapeXml(message)}</Message>`).join('');
        return {
          status: 400,
          body: `<?xml version="1.0"?>\n<InvalidChangeBatch xmlns="${NS}"><Messages>${items}</Messages><RequestId>${requestId}</RequestId></InvalidChangeBatch>`,
        };
      }
      // What Route53 sends today: every problem of the batch in one Message, as "[first, second]".
      return { status: 400, body: errorResponse('Sender', 'InvalidChangeBatch', `[${messages.join(', ')}]`, requestId) };
    }
  }
}

function errorResponse(type: 'Sender' | 'Receiver', code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}
