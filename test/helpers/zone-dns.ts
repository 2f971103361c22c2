/**
 * A DNS server for tests that answers from a Route53 zone in moto: what an ACME server's DNS-01 check
 * reads is what the companion wrote through the Route53 API, nothing switched off. UDP on 127.0.0.1; TXT
 * answers come from ListResourceRecordSets, anything else gets an empty NOERROR.
 */
import dgram from 'node:dgram';
import { ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import dnsPacket from 'dns-packet';

export interface ZoneDns {
  /** `127.0.0.1:<port>`, for `pebble -dnsserver`. */
  address: string;
  /** Every TXT name asked, in order. */
  asked: string[];
  close(): Promise<void>;
}

export async function startZoneDns(client: Route53Client, zoneId: string): Promise<ZoneDns> {
  const socket = dgram.createSocket('udp4');
  const asked: string[] = [];
  socket.on('message', (message, peer) => {
    void (async () => {
      const query = dnsPacket.decode(message);
      const question = query.questions?.[0];
      const answers: dnsPacket.Answer[] = [];
      if (question?.type === 'TXT') {
        asked.push(question.name);
        const page = await client.send(
          new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: question.name, StartRecordType: 'TXT', MaxItems: 1 }),
        );
        const set = page.ResourceRecordSets?.find(
          (r) => r.Name?.replace(/\.$/, '').toLowerCase() === question.name.toLowerCase() && r.Type === 'TXT',
        );
        for (const record of set?.ResourceRecords ?? []) {
          answers.push({
            type: 'TXT',
            name: question.name,
            ttl: set?.TTL ?? 60,
            class: 'IN',
            data: (record.Value ?? '').replace(/^"|"$/g, ''),
          });
        }
      }
      const response = dnsPacket.encode({
        type: 'response',
        id: query.id,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flags ?? 0 & dnsPacket.RECURSION_DESIRED),
        questions: query.questions,
        answers,
      });
      socket.send(response, peer.port, peer.address);
    })().catch(() => undefined);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    asked,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
