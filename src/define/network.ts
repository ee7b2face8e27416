/**
 * Network shapes: the options of `runtime.newNetwork`, what a network's
 * `inspect()` returns, and what a container records about its networking.
 * @module
 */

/** Options of `runtime.newNetwork`. Unknown keys are `InvalidArg`. */
export interface NetworkCreateOptions {
  /** Name; must match `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
  name: string;
  /** IPv4 CIDR; default: the next free /24 of 10.89.0.0/16 (no overlap with other networks or host routes). */
  subnet?: string;
  /** Gateway inside `subnet`; default: its first address. */
  gateway?: string;
  /** No route out of the network (no masquerade, no default route). */
  internal?: boolean;
  /** Containers find each other by name and alias through aardvark-dns (default true). */
  dnsEnabled?: boolean;
  /** Upstream servers aardvark-dns asks for names outside the network (default: the host's resolver). */
  dnsServers?: string[];
  /** The bridge's name; default: the next free `podmanN`. */
  interfaceName?: string;
  /** Labels. */
  labels?: Record<string, string>;
}

/** A subnet of a network. */
export interface NetworkSubnet {
  /** CIDR, e.g. `10.89.0.0/24`. */
  subnet: string;
  /** Gateway address (the bridge's), e.g. `10.89.0.1`. */
  gateway: string;
}

/** What `network.inspect()` returns. */
export interface NetworkInspect {
  name: string;
  /** 64 hex characters. */
  id: string;
  driver: 'bridge';
  /** The bridge's name. */
  networkInterface: string;
  subnets: NetworkSubnet[];
  internal: boolean;
  dnsEnabled: boolean;
  dnsServers: string[];
  labels: Record<string, string>;
  created: Date;
}

/** Filter of `runtime.networks()`: every given field must match. */
export interface NetworkFilter {
  /** Exact name, or any of several. */
  name?: string | string[];
  /** Full id or id prefix. */
  id?: string;
  /** Label values (`{ key: value }`; an empty value matches any value). */
  labels?: Record<string, string>;
  /** Networks some container uses (`true`) or none uses (`false`). */
  inUse?: boolean;
}

/** How a container attaches to one network (`networks` create option, `ctr.connect`). */
export interface NetworkAttachOptions {
  /** Extra DNS names of the container on this network. */
  aliases?: string[];
  /** Addresses to take instead of the next free one (must be free, inside a subnet). */
  staticIPs?: string[];
}

/** A published port (`ports` create option). */
export interface PortMapping {
  /** Host address to listen on (default: all, `0.0.0.0`). */
  hostIP?: string;
  /** Host port; absent or 0: a free port is picked when the container starts. */
  hostPort?: number;
  /** Port inside the container. */
  containerPort: number;
  /** Default `'tcp'`. */
  protocol?: 'tcp' | 'udp';
}

/** A container's attachment to one network, as its record keeps it. */
export interface NetworkAttachment {
  aliases: string[];
  staticIPs: string[];
  /** Interface inside the container (`eth0`, `eth1`, ...). */
  interfaceName: string;
}

/** What setting a network up gave a container on one network. */
export interface NetworkEndpoint {
  interfaceName: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  aliases: string[];
  /** Addresses of the network's DNS server (aardvark-dns), when DNS is on. */
  dnsServerIPs: string[];
  dnsSearchDomains: string[];
}

/** A published port once resolved (host port picked). */
export interface ResolvedPort {
  hostIP: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/** The live networking of a container (in its state record while set up). */
export interface ContainerNetworkState {
  /** Path of the bind-mounted network namespace. */
  netns: string;
  /** Addresses allocated, by network name (kept before netavark runs, so a teardown can release them). */
  addresses: Record<string, string[]>;
  /** Endpoints by network name, once netavark set them up. */
  endpoints: Record<string, NetworkEndpoint>;
  /** Published ports with their host ports. */
  ports: ResolvedPort[];
}

/** `inspect().networkSettings` of a container. */
export interface NetworkSettings {
  /** By `'<containerPort>/<protocol>'`. */
  ports: Record<string, { hostIP: string; hostPort: number }[]>;
  /** By network name. */
  networks: Record<string, { ipAddress: string; prefixLen: number; gateway: string; macAddress: string; aliases: string[] }>;
}
