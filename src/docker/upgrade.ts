/**
 * `haproxy-companion upgrade <container> [image]`: replaces a running companion with another image, the
 * zero-downtime way (README, "Upgrading the companion"), with nothing but Docker on the host:
 *
 *   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock haproxy-companion:NEW upgrade companion
 *
 * A copy of the container (its settings, mounts, network, restart policy, labels) with the new image starts
 * beside it; once the new HAProxy serves (both share the ports, SO_REUSEPORT), the old one is stopped
 * (SIGTERM: it finishes its in-flight requests and, with DEREGISTER_ON_EXIT, leaves its records to the new
 * one), removed, and the new one takes its name. If the new one does not come up, it is removed and the
 * old one keeps serving. The image defaults to the one this command runs from.
 */
import type { Logger } from '../log.js';

/** What `docker inspect` says of a container, as far as the copy needs it. */
export interface InspectedContainer {
  Id: string;
  Name: string;
  Image: string;
  Config: { Image: string; Env?: string[] | null; Labels?: Record<string, string> | null } & Partial<Record<OperatorKey, unknown>>;
  HostConfig: Record<string, unknown> & { NetworkMode?: string; PortBindings?: Record<string, unknown> | null };
  State: { Running: boolean };
}

export interface InspectedImage {
  Config?: ({ Env?: string[] | null; Labels?: Record<string, string> | null } & Partial<Record<OperatorKey, unknown>>) | null;
}

/**
 * Container settings an operator may give beside the image's (`docker run --health-cmd`, Compose's
 * `stop_grace_period`, which is StopTimeout and which DEREGISTER_ON_EXIT needs): copied when they differ
 * from the old image's own.
 */
const OPERATOR_KEYS = ['Cmd', 'Entrypoint', 'Healthcheck', 'StopSignal', 'StopTimeout', 'User', 'WorkingDir'] as const;
type OperatorKey = (typeof OPERATOR_KEYS)[number];

/**
 * The create options of the successor: what the operator gave the old container (environment and labels
 * beyond the old image's own, the {@link OPERATOR_KEYS} it set, its host configuration), on the new image,
 * whose own environment (NODE_OPTIONS, PATH, ...), labels and defaults come with it. Pure.
 */
export function successorOptions(old: InspectedContainer, oldImage: InspectedImage, image: string, name: string): Record<string, unknown> {
  const imageEnv = new Set(oldImage.Config?.Env ?? []);
  const imageLabels = oldImage.Config?.Labels ?? {};
  const labels = Object.fromEntries(Object.entries(old.Config.Labels ?? {}).filter(([key, value]) => imageLabels[key] !== value));
  const own = OPERATOR_KEYS.filter(
    (key) => old.Config[key] != null && JSON.stringify(old.Config[key]) !== JSON.stringify(oldImage.Config?.[key] ?? null),
  );
  return {
    name,
    Image: image,
    Env: (old.Config.Env ?? []).filter((entry) => !imageEnv.has(entry)),
    Labels: labels,
    ...Object.fromEntries(own.map((key) => [key, old.Config[key]])),
    HostConfig: old.HostConfig,
  };
}

/** Why a container cannot be upgraded side by side; undefined when it can. */
export function cannotUpgrade(old: InspectedContainer): string | undefined {
  if (!old.State.Running) return 'it is not running: start the new image in its place';
  // Two containers cannot publish the same host port: only host networking lets both HAProxies hold it.
  if (old.HostConfig.NetworkMode !== 'host' && Object.keys(old.HostConfig.PortBindings ?? {}).length > 0) {
    return 'it publishes ports (-p): two containers cannot hold the same host port at once; run the companion with --network host (the documented way) to upgrade without a gap';
  }
  return undefined;
}

/** The Docker calls the upgrade makes (dockerode's). */
export interface UpgradeDocker {
  getContainer(id: string): {
    inspect(): Promise<unknown>;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    remove(options?: { force?: boolean }): Promise<unknown>;
    rename(options: { name: string }): Promise<unknown>;
    logs(options: { stdout: boolean; stderr: boolean; follow: false }): Promise<Buffer | string>;
  };
  getImage(name: string): { inspect(): Promise<unknown> };
  createContainer(options: Record<string, unknown>): Promise<{ id: string }>;
}

export interface UpgradeOptions {
  /** How long the new companion may take to start serving. */
  readyTimeoutMs?: number;
  pollMs?: number;
}

/** Replaces `name` with a copy on `image`; resolves once the copy serves under the old name. */
export async function upgradeCompanion(
  docker: UpgradeDocker,
  name: string,
  image: string,
  log: Logger,
  options: UpgradeOptions = {},
): Promise<void> {
  const old = (await docker.getContainer(name).inspect()) as InspectedContainer;
  const oldName = old.Name.replace(/^\//, '');
  const reason = cannotUpgrade(old);
  if (reason) throw new Error(`cannot upgrade ${oldName}: ${reason}`);
  const oldImage = (await docker.getImage(old.Image).inspect()) as InspectedImage;
  const nextName = `${oldName}-next`;
  const created = await docker.createContainer(successorOptions(old, oldImage, image, nextName));
  const next = docker.getContainer(created.id);
  log.info({ old: oldName, next: nextName, image }, 'starting the new companion beside the old one');
  try {
    await next.start();
    await waitUntilServing(next, options);
  } catch (error) {
    // The old one never stopped serving: leave it be, and the half-started new one gone.
    await next.remove({ force: true }).catch(() => undefined);
    throw error;
  }
  log.info({ old: oldName }, 'the new companion serves; stopping the old one (it finishes its in-flight requests)');
  await docker.getContainer(old.Id).stop();
  await docker.getContainer(old.Id).remove();
  await next.rename({ name: oldName });
  log.info({ name: oldName, image }, 'upgraded');
}

/** Until the new companion's log says its HAProxy started; fails if the container exits first. */
async function waitUntilServing(container: ReturnType<UpgradeDocker['getContainer']>, options: UpgradeOptions): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    const logs = String(await container.logs({ stdout: true, stderr: true, follow: false }));
    if (logs.includes('"msg":"haproxy started"')) return;
    const state = ((await container.inspect()) as InspectedContainer).State;
    if (!state.Running) throw new Error(`the new companion exited before serving; its log:\n${logs.slice(-2_000)}`);
    if (Date.now() > deadline) throw new Error('the new companion did not start serving in time');
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}
