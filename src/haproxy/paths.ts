/** Where the companion keeps HAProxy's files, under RUNTIME_DIR. */
import path from 'node:path';

export interface RuntimePaths {
  configPath: string;
  masterSocket: string;
  adminSocket: string;
  /** Host name -> backend, read by the config and edited at run time. */
  hostsMap: string;
  /** Host name and path prefix -> backend, read by the config with `map_beg` and edited at run time. */
  pathsMap: string;
  /** One PEM file per certificate (tls/tls-files.ts). */
  certsDir: string;
  /** The crt-list naming them, read by the HTTPS bind line and edited at run time. */
  certList: string;
  /** The Lua action that holds requests for a service without a server (hold-script.ts). */
  holdScript: string;
  /** The copy of FLEET_CA_FILE the configuration names (config-files.ts). */
  fleetCa: string;
}

export function runtimePaths(runtimeDir: string): RuntimePaths {
  return {
    configPath: path.join(runtimeDir, 'haproxy.cfg'),
    masterSocket: path.join(runtimeDir, 'master.sock'),
    adminSocket: path.join(runtimeDir, 'admin.sock'),
    hostsMap: path.join(runtimeDir, 'hosts.map'),
    pathsMap: path.join(runtimeDir, 'paths.map'),
    certsDir: path.join(runtimeDir, 'certs'),
    certList: path.join(runtimeDir, 'certs.list'),
    holdScript: path.join(runtimeDir, 'hold.lua'),
    fleetCa: path.join(runtimeDir, 'fleet-ca.pem'),
  };
}
