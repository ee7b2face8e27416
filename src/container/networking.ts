/**
 * A container's networking, as libpod's `networking_linux.go`: its own
 * network namespace (bind-mounted, so it outlives every process), addresses
 * from the engine's IPAM, netavark's setup before the OCI create and its
 * teardown at cleanup (stop, exit, removal, refresh), published ports, and
 * the generated `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`
 * (bind-mounted from the container's run directory).
 *
 * The lifecycle calls two functions: {@link networkForSpec} (from the
 * create step) and {@link teardownNetworking} (from cleanup).
 *
 * Order of a setup: namespace, ports checked and picked, addresses
 * allocated, record saved (so a crash from here on leaves a record a
 * teardown can undo), pending teardown written (conmon's exit command can
 * undo it with no Runtime open: `network-exit.ts`), netavark, record saved
 * with the endpoints. A failure undoes every step. The create step runs
 * the netavark half (and the /etc files' content) while the OCI runtime
 * creates the container, unless OCI hooks or a restore need the namespace
 * wired first (`deferWiring`).
 * @module
 */
import { existsSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { attempt, improper, libpodError, type LibpodError } from '../define/errors.js';
import type { ContainerNetworkState, NetworkEndpoint, NetworkSettings, ResolvedPort } from '../define/network.js';
import type { ContainerRecord } from '../define/records.js';
import { inState } from '../define/states.js';
import type { SetupRequest, StatusBlock } from '../network/backend.js';
import { hostnameFile, hostsFile, resolvConfFile } from '../network/etc-files.js';
import type { NetworkConfig } from '../network/network-config.js';
import { attachmentsOf, lookupNetworkConfig } from '../network/network-query.js';
import { netnsPath } from '../network/netns.js';
import { resolvePorts } from '../network/ports.js';
import { logger } from '../util/log.js';
import { failAfter, sequenceAll } from '../util/safe.js';
import type { VolumeMount } from './oci-spec.js';
import { armExitTeardown, dropPendingTeardown, exitHookFor, pendingTeardownOf, rearmExitTeardown, withTeardownLock } from './network-exit.js';
import { save, type CtrSession } from './session.js';

const log = logger('container:network');

/** What the spec needs from networking. */
export interface NetworkSpecPart {
  /** Network namespace to join (own bind mount, or another container's). */
  netnsPath?: string;
  hostname?: string;
  /** /etc/hosts, /etc/resolv.conf, /etc/hostname. */
  mounts: VolumeMount[];
  /** What the OCI runtime runs once the container exited (the network's exit teardown). */
  exitHook?: string[];
  /**
   * With `deferWiring`: the second half of the setup (netavark's, then the
   * /etc files' content), for the caller to run while the OCI runtime
   * creates the container and to settle before anything else; on failure
   * it has released what the setup held.
   */
  wire?: () => ResultAsync<void, LibpodError>;
}

const ETC_FILES = ['hosts', 'resolv.conf', 'hostname'] as const;

function etcDir(runRoot: string, id: string): string {
  return join(runRoot, 'containers', id, 'etc');
}

/** Bind mounts of a container's generated files (those the user does not mount). */
function etcMounts(rec: ContainerRecord, dir: string): VolumeMount[] {
  const taken = new Set([...rec.config.mounts.map((m) => m.destination), ...rec.config.volumes.map((v) => v.dest)]);
  return ETC_FILES.map((f) => ({ source: join(dir, f), destination: `/etc/${f}`, options: ['rbind', 'rprivate'] })).filter((m) => !taken.has(m.destination));
}

/** The container's hostname: its option, the pod's for an infra container, else the short id. */
function hostnameOf(s: CtrSession): ResultAsync<string, LibpodError> {
  if (s.rec.config.hostname) return okAsync(s.rec.config.hostname);
  if (s.rec.isInfra && s.rec.podId) return s.ctx.index.getPod(s.rec.podId).map((p) => p.hostname ?? s.rec.id.slice(0, 12));
  return okAsync(s.rec.id.slice(0, 12));
}

/** DNS names of the container on each network: its aliases, plus the pod's name for an infra container. */
export function aliasesOf(s: CtrSession): ResultAsync<string[], LibpodError> {
  if (s.rec.isInfra && s.rec.podId) return s.ctx.index.getPod(s.rec.podId).map((p) => [p.name]);
  return okAsync([]);
}

/** netavark's request for `names` of the container's networks. */
export function requestFor(s: CtrSession, net: ContainerNetworkState, configs: Record<string, NetworkConfig>, extraAliases: string[], names: readonly string[]): SetupRequest {
  const networks: SetupRequest['networks'] = {};
  const info: SetupRequest['network_info'] = {};
  for (const name of names) {
    const attach = attachmentsOf(s.rec)?.[name];
    const config = configs[name];
    if (!attach || !config) continue;
    networks[name] = { interface_name: attach.interfaceName, static_ips: net.addresses[name] ?? [], aliases: [...new Set([...attach.aliases, ...extraAliases])] };
    info[name] = config;
  }
  return {
    container_id: s.rec.id,
    container_name: s.rec.name,
    networks,
    network_info: info,
    port_mappings: net.ports.map((p) => ({ host_ip: p.hostIP, host_port: p.hostPort, container_port: p.containerPort, protocol: p.protocol, range: 1 })),
  };
}

export function endpointsFrom(s: CtrSession, status: Record<string, StatusBlock>, configs: Record<string, NetworkConfig>): Record<string, NetworkEndpoint> {
  const out: Record<string, NetworkEndpoint> = {};
  for (const [name, block] of Object.entries(status)) {
    const attach = attachmentsOf(s.rec)?.[name];
    const iface = attach ? block.interfaces[attach.interfaceName] : Object.values(block.interfaces)[0];
    const sub = iface?.subnets?.[0];
    const [ip, len] = (sub?.ipnet ?? '/').split('/');
    out[name] = {
      interfaceName: attach?.interfaceName ?? '',
      ipAddress: ip ?? '',
      prefixLen: Number(len) || 0,
      gateway: sub?.gateway ?? configs[name]?.subnets[0]?.gateway ?? '',
      macAddress: iface?.mac_address ?? '',
      aliases: [...(attach?.aliases ?? [])],
      dnsServerIPs: [...(block.dns_server_ips ?? [])],
      dnsSearchDomains: [...(block.dns_search_domains ?? [])],
    };
  }
  return out;
}

/** The configs of networks `names` (a network removed meanwhile is left out). */
export function configsOf(s: CtrSession, names: readonly string[]): ResultAsync<Record<string, NetworkConfig>, LibpodError> {
  return ResultAsync.combine(names.map((n) => lookupNetworkConfig(s.ctx, n).map((c) => [n, c] as const).orElse(() => okAsync(undefined)))).map(
    (pairs) => Object.fromEntries(pairs.filter((p): p is readonly [string, NetworkConfig] => p !== undefined)),
  );
}

/** Ports other containers of this engine publish (while set up). */
function portsInUse(s: CtrSession): ResultAsync<ResolvedPort[], LibpodError> {
  return s.ctx.index.allContainers().map((recs) => recs.filter((r) => r.id !== s.rec.id).flatMap((r) => r.state.network?.ports ?? []));
}

/** Writes the container's /etc files from its live networking. */
export function writeEtcFiles(s: CtrSession): ResultAsync<void, LibpodError> {
  const net = s.rec.state.network;
  const dir = etcDir(s.ctx.runRoot, s.rec.id);
  return hostnameOf(s).andThen((hostname) =>
    attempt(async () => {
      const eps = Object.values(net?.endpoints ?? {});
      const input = {
        hostname,
        name: s.rec.name,
        addresses: eps.map((e) => e.ipAddress).filter((a) => a !== ''),
        ...(eps[0]?.gateway ? { hostGateway: eps[0].gateway } : {}),
        hosts: s.rec.config.hosts ?? {},
        dnsServers: eps.flatMap((e) => e.dnsServerIPs),
        searchDomains: eps.flatMap((e) => e.dnsSearchDomains),
        ...(s.rec.config.dns ? { userDns: s.rec.config.dns } : {}),
      };
      await mkdir(dir, { recursive: true, mode: 0o755 });
      // Written in place (not renamed): a running container sees the new content through its bind mount.
      await writeFile(join(dir, 'hosts'), hostsFile(input), { mode: 0o644 });
      await writeFile(join(dir, 'resolv.conf'), resolvConfFile(input), { mode: 0o644 });
      await writeFile(join(dir, 'hostname'), hostnameFile(hostname), { mode: 0o644 });
    }, 'Internal', `writing /etc files of container ${s.rec.id}`),
  );
}

/** Creates the container's /etc files empty when missing (content: {@link writeEtcFiles}). */
function touchEtcFiles(s: CtrSession): ResultAsync<void, LibpodError> {
  const dir = etcDir(s.ctx.runRoot, s.rec.id);
  return attempt(async () => {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await Promise.all(ETC_FILES.map((f) => writeFile(join(dir, f), '', { flag: 'a', mode: 0o644 })));
  }, 'Internal', `creating /etc files of container ${s.rec.id}`);
}

/**
 * Releases what a (partial) setup holds: namespace, pending teardown,
 * addresses (last: releasing twice is harmless), the record's network state.
 */
function release(s: CtrSession, net: ContainerNetworkState): ResultAsync<void, LibpodError> {
  const names = Object.keys(net.addresses);
  return sequenceAll([() => s.ctx.network.removeNamespace(net.netns), () => dropPendingTeardown(s), ...names.map((n) => () => s.ctx.ipam.release(s.rec.id, n))]).andThen(() => {
    delete s.rec.state.network;
    return save(s);
  });
}

/**
 * A setup in two halves: `net` is what the first half made (namespace,
 * ports, addresses, record saved, exit teardown armed under `token`);
 * `wire` is the second (netavark's setup, record saved with the endpoints),
 * which undoes the first when it fails.
 */
interface PreparedNetworking {
  net: ContainerNetworkState;
  token: string;
  wire: () => ResultAsync<ContainerNetworkState, LibpodError>;
}

/**
 * Sets up bridge networking for an OCI create; returns the token of its
 * exit teardown. Networking already set up is kept (e.g. a restart by the
 * policy) unless its exit command tore it down meanwhile.
 */
export function setupNetworking(s: CtrSession): ResultAsync<{ net: ContainerNetworkState; token: string }, LibpodError> {
  return prepareNetworking(s).andThen(({ token, wire }) => wire().map((net) => ({ net, token })));
}

/** The first half of {@link setupNetworking}. */
function prepareNetworking(s: CtrSession): ResultAsync<PreparedNetworking, LibpodError> {
  const existing = s.rec.state.network;
  if (!existing) return freshSetup(s);
  return rearmExitTeardown(s).andThen((token) =>
    token !== undefined
      ? okAsync({ net: existing, token, wire: () => okAsync(existing) })
      : teardownNetworking(s).andThen(() => (s.rec.state.network ? errAsync(libpodError('Internal', `networking of container ${s.rec.id} could not be torn down`)) : freshSetup(s))),
  );
}

function freshSetup(s: CtrSession): ResultAsync<PreparedNetworking, LibpodError> {
  const names = Object.keys(attachmentsOf(s.rec) ?? {});
  const path = netnsPath(s.ctx.runRoot, s.rec.id);
  return ResultAsync.combine([configsOf(s, names), portsInUse(s), aliasesOf(s)]).andThen(([configs, taken, extra]) => {
    const missing = names.find((n) => !configs[n]);
    if (missing) return lookupNetworkConfig(s.ctx, missing).map(() => undefined as never);
    const net: ContainerNetworkState = { netns: path, addresses: {}, endpoints: {}, ports: [] };
    const undo = <T>(e: LibpodError): ResultAsync<T, LibpodError> => failAfter(e, () => release(s, net));
    const wire = (): ResultAsync<ContainerNetworkState, LibpodError> =>
      s.ctx.network
        .setup(path, requestFor(s, net, configs, extra, names))
        .andThen((status) => {
          net.endpoints = endpointsFrom(s, status, configs);
          return save(s).map(() => net);
        })
        .orElse((e) => undo<ContainerNetworkState>(e));
    return attempt(() => resolvePorts(s.rec.config.ports ?? [], taken), 'Internal', 'publishing ports')
      .andThen((ports) => {
        net.ports = ports;
        return s.ctx.network.createNamespace(path);
      })
      .andThen(() =>
        names.reduce<ResultAsync<void, LibpodError>>(
          (acc, n) => acc.andThen(() => s.ctx.ipam.allocate(s.rec.id, configs[n]!, attachmentsOf(s.rec)?.[n]?.staticIPs ?? []).map((ips) => void (net.addresses[n] = ips))),
          okAsync(undefined),
        ),
      )
      .andThen(() => {
        s.rec.state.network = net;
        return save(s);
      })
      .andThen(() => armExitTeardown(s, requestFor(s, net, configs, extra, names)))
      .map((token): PreparedNetworking => ({ net, token, wire }))
      .orElse((e) => undo<PreparedNetworking>(e));
  });
}

/**
 * Tears networking down (libpod `teardownNetwork`): netavark's teardown,
 * then the namespace and the addresses are released whatever netavark said
 * (its failure is logged, as libpod does). Never while the container runs.
 * Under the teardown lock; netavark's part is skipped when the pending
 * teardown and the namespace are gone (conmon's exit command did it).
 */
export function teardownNetworking(s: CtrSession): ResultAsync<void, LibpodError> {
  const net = s.rec.state.network;
  if (!net || inState(s.rec.state.state, 'running', 'paused')) return okAsync(undefined);
  const names = Object.keys(net.addresses);
  return withTeardownLock(s, () =>
    ResultAsync.combine([configsOf(s, names), aliasesOf(s), pendingTeardownOf(s)])
      .andThen(([configs, extra, pending]) => {
        const req = requestFor(s, net, configs, extra, names);
        // The exit command removes the namespace before the file: a namespace without a file was set up before there were files.
        if ((!pending && !existsSync(net.netns)) || Object.keys(req.networks).length === 0) return okAsync(undefined);
        return s.ctx.network.teardown(net.netns, req).orElse((e) => {
          log('netavark teardown of %s failed (addresses and namespace released anyway): %s', s.rec.id, e.message);
          return okAsync(undefined);
        });
      })
      .andThen(() => release(s, net)),
  );
}


/** The namespace path of a running container, for another container joining it. */
function joinablePath(rec: ContainerRecord): ResultAsync<string, LibpodError> {
  if (rec.state.network) return okAsync(rec.state.network.netns);
  if (inState(rec.state.state, 'running', 'paused', 'created') && rec.state.pid > 0) return okAsync(`/proc/${rec.state.pid}/ns/net`);
  return improper(`cannot get namespace path unless container ${rec.id} is running`);
}

/**
 * What the spec needs from networking, setting bridge networking up first
 * (called by the create step). Another container's namespace is joined
 * with its /etc files; a pod member gets its infra container's files.
 *
 * With `deferWiring`, only the first half of a new setup runs (namespace,
 * ports, addresses, exit teardown: what the spec and the create name); the
 * result's `wire` does the rest. Nothing in the namespace runs before the
 * OCI start, so netavark can wire it while conmon and `runc create` work
 * (the caller decides when that is safe: no OCI hooks, no restore).
 */
export function networkForSpec(s: CtrSession, deferWiring = false): ResultAsync<NetworkSpecPart, LibpodError> {
  const { rec } = s;
  const mode = rec.config.network;
  const hostname = rec.config.hostname ? { hostname: rec.config.hostname } : {};
  if (typeof mode === 'object') {
    return s.ctx.index.getContainer(mode.container).andThen((target) =>
      joinablePath(target).map((p) => ({ netnsPath: p, mounts: target.state.network ? etcMounts(rec, etcDir(s.ctx.runRoot, target.id)) : [] })),
    );
  }
  if (attachmentsOf(rec) && mode === 'bridge') {
    const mounts = etcMounts(rec, etcDir(s.ctx.runRoot, rec.id));
    const wireAll = (wire: PreparedNetworking['wire']): ResultAsync<void, LibpodError> =>
      wire().andThen(() => writeEtcFiles(s).orElse((e) => failAfter(e, () => teardownNetworking(s))));
    return prepareNetworking(s).andThen(({ net, token, wire }) =>
      hostnameOf(s).andThen((hostname) => {
        const exitHook = exitHookFor(s, token);
        const part = { netnsPath: net.netns, hostname, mounts, ...(exitHook ? { exitHook } : {}) };
        if (!deferWiring) return wireAll(wire).map(() => part);
        // The bind mounts' sources must exist at the create; wire() fills them in place.
        return touchEtcFiles(s).map(() => ({ ...part, wire: () => wireAll(wire) }));
      }),
    );
  }
  if (rec.podId && !rec.isInfra) {
    return s.ctx.index.getPod(rec.podId).andThen((pod) => {
      if (!pod.infraContainerId || !pod.share.includes('net')) return okAsync({ ...hostname, mounts: [] });
      return s.ctx.index.getContainer(pod.infraContainerId).map((infra) => ({
        ...hostname,
        mounts: infra.state.network ? etcMounts(rec, etcDir(s.ctx.runRoot, infra.id)) : [],
      }));
    });
  }
  return okAsync({ ...hostname, mounts: [] });
}

/** `inspect().networkSettings`: live endpoints and ports, or the configured networks with empty addresses. */
export function networkSettingsOf(rec: ContainerRecord): NetworkSettings {
  const live = rec.state.network;
  const ports: NetworkSettings['ports'] = {};
  const list = live ? live.ports : (rec.config.ports ?? []).map((p) => ({ hostIP: p.hostIP ?? '', hostPort: p.hostPort ?? 0, containerPort: p.containerPort, protocol: p.protocol ?? 'tcp' }));
  for (const p of list) (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({ hostIP: p.hostIP, hostPort: p.hostPort });
  const networks: NetworkSettings['networks'] = {};
  for (const [name, attach] of Object.entries(attachmentsOf(rec) ?? {})) {
    const ep = live?.endpoints[name];
    networks[name] = {
      ipAddress: ep?.ipAddress ?? '',
      prefixLen: ep?.prefixLen ?? 0,
      gateway: ep?.gateway ?? '',
      macAddress: ep?.macAddress ?? '',
      aliases: [...attach.aliases],
    };
  }
  return { ports, networks };
}

