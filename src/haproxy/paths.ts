/** Where the companion keeps HAProxy's files, under RUNTIME_DIR. */
import path from 'node:path';

export interface RuntimePaths {
  configPath: string;
  masterSocket: string;
  adminSocket: string;
}

export function runtimePaths(runtimeDir: string): RuntimePaths {
  return {
    configPath: path.join(runtimeDir, 'haproxy.cfg'),
    masterSocket: path.join(runtimeDir, 'master.sock'),
    adminSocket: path.join(runtimeDir, 'admin.sock'),
  };
}
