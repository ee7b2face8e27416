/**
 * The network backend: libnetwork's `ContainerNetwork` interface over plain
 * data. It keeps network configurations and wires containers' network
 * namespaces; it never allocates addresses (the engine's IPAM does, as
 * libpod's caller of netavark) and never touches the state store or events.
 * @module
 */
import type { ResultAsync } from 'neverthrow';
import type { LibpodError } from '../define/errors.js';
import type { NetworkConfig } from './network-config.js';

/** Per-network options of a setup: interface, addresses (already allocated) and DNS names. */
export interface SetupNetworkOptions {
  interface_name: string;
  static_ips: string[];
  aliases: string[];
}

/** One port forwarding rule, as netavark takes it. */
export interface SetupPortMapping {
  host_ip: string;
  host_port: number;
  container_port: number;
  protocol: 'tcp' | 'udp';
  range: number;
}

/** What a setup or teardown is about (netavark's stdin). */
export interface SetupRequest {
  container_id: string;
  container_name: string;
  networks: Record<string, SetupNetworkOptions>;
  network_info: Record<string, NetworkConfig>;
  port_mappings: SetupPortMapping[];
}

/** What a setup gave the container on one network (netavark's `StatusBlock`). */
export interface StatusBlock {
  dns_search_domains?: string[];
  dns_server_ips?: string[];
  interfaces: Record<string, { mac_address: string; subnets?: { ipnet: string; gateway?: string }[] }>;
}

/**
 * A teardown another process can run without the backend: conmon's exit
 * command runs it when the container exits with no Runtime open (see
 * `exit-teardown.ts`), holding the run directory's `netavark` lock.
 */
export interface DetachedTeardown {
  /** Program (absolute path) and arguments. */
  argv: string[];
  /** Its stdin. */
  input: string;
  /** Variables set over the caller's environment. */
  env: Record<string, string>;
}

/** Directories a backend works in. */
export interface NetworkBackendDirs {
  /** Where network configs are kept (persistent): `<root>/networks`. */
  configDir: string;
  /** Volatile state (aardvark-dns config, locks): `<runRoot>/networks`. */
  runDir: string;
}

/**
 * A network backend. Implementations: `NetavarkNetworkBackend` (netavark +
 * aardvark-dns) and `FakeNetworkBackend` (in memory, for tests without root).
 */
export interface NetworkBackend {
  /** `'netavark'`, `'fake'`, ... */
  readonly name: string;
  /** Prepares the directories; called once by `Runtime.open`. */
  open(dirs: NetworkBackendDirs): ResultAsync<void, LibpodError>;
  /** Persists a new network. MUST fail with `NetworkExists` when the name is taken. */
  create(config: NetworkConfig): ResultAsync<void, LibpodError>;
  /** Deletes a network's config. MUST fail with `NoSuchNetwork` when absent. */
  remove(name: string): ResultAsync<void, LibpodError>;
  /** Every created network (the default one excluded), by name order. */
  list(): ResultAsync<NetworkConfig[], LibpodError>;
  /** One network by exact name; `NoSuchNetwork` when absent. */
  inspect(name: string): ResultAsync<NetworkConfig, LibpodError>;
  /**
   * Creates a network namespace that outlives every process, bind-mounted
   * on the file `path` (already there: kept).
   */
  createNamespace(path: string): ResultAsync<void, LibpodError>;
  /** Unmounts and deletes the namespace at `path` (absent: nothing to do). */
  removeNamespace(path: string): ResultAsync<void, LibpodError>;
  /**
   * Wires the network namespace at `netnsPath` (which MUST exist) into the
   * networks of `req`, with the addresses it names, and publishes its ports.
   * MUST leave nothing behind when it fails.
   */
  setup(netnsPath: string, req: SetupRequest): ResultAsync<Record<string, StatusBlock>, LibpodError>;
  /** Undoes {@link NetworkBackend.setup} for the networks of `req`; the namespace MUST still exist. */
  teardown(netnsPath: string, req: SetupRequest): ResultAsync<void, LibpodError>;
  /**
   * Optional: {@link NetworkBackend.teardown} as a command another process
   * can run on its own. Without it, a container that exits while no Runtime
   * is open keeps its networking until a Runtime syncs it.
   */
  detachedTeardown?(netnsPath: string, req: SetupRequest): ResultAsync<DetachedTeardown, LibpodError>;
}
