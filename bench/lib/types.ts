import type { FaultProxy } from '../../test/helpers/route53-faults.ts';

export type FaultProxyLike = FaultProxy;
export interface Dns {
  endpoint: string;
  zoneId: string;
}
