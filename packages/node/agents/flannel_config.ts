import { formatIpv4Addr, parseCidr, prefixMask } from "@kemu/wire";

/** flannel's backends. */
export const FLANNEL_BACKENDS = ["vxlan", "udp", "host-gw"] as const;

/** A checked flannel network config (net-conf.json) with flannel's defaults filled in. */
export interface FlannelNetwork {
  /** The pod network, e.g. 10.244.0.0/16. */
  readonly network: string;
  readonly subnetLen: number;
  readonly subnetMin: string;
  readonly subnetMax: string;
  readonly backend: (typeof FLANNEL_BACKENDS)[number];
}

/** Networks a pod network must not overlap in a kemu cluster: the hosts' and the Services'. */
const RESERVED: ReadonlyArray<{ cidr: string; what: string }> = [
  { cidr: "192.168.0.0/23", what: "the node network" },
  { cidr: "198.51.100.0/24", what: "the external network" },
  { cidr: "10.96.0.0/12", what: "the service network" },
  { cidr: "172.17.0.0/16", what: "docker0's network" },
];

/**
 * Reads and checks a net-conf.json document as flanneld does (ParseConfig,
 * CheckNetworkConfig, then the backend lookup), with flannel's messages.
 * Returns the config, or the error flanneld would log.
 */
export function checkFlannelConfig(doc: unknown): FlannelNetwork | string {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return "failed to parse network config: json: cannot unmarshal into Go value of type subnet.Config";
  const conf = doc as Record<string, unknown>;
  let backend = "udp";
  if (conf["Backend"] !== undefined) {
    const be = conf["Backend"];
    if (be === null || typeof be !== "object" || Array.isArray(be)) return "error decoding Backend property of config: json: cannot unmarshal into Go value of type struct { Type string }";
    backend = String((be as Record<string, unknown>)["Type"] ?? "");
  }
  const net = typeof conf["Network"] === "string" ? parseCidr(conf["Network"] as string, { mask: true }) : undefined;
  if (!net) return "please define a correct Network parameter in the flannel config";
  let subnetLen = typeof conf["SubnetLen"] === "number" ? (conf["SubnetLen"] as number) : 0;
  if (subnetLen > 0) {
    if (subnetLen > 30) return "SubnetLen must be less than /31";
    if (subnetLen < net.len + 2) return "network must be able to accommodate at least four subnets";
  } else if (net.len > 28) {
    return "Network is too small. Minimum useful network prefix is /28";
  } else {
    subnetLen = net.len <= 22 ? 24 : net.len + 2;
  }
  const size = 2 ** (32 - subnetLen);
  const last = net.addr + 2 ** (32 - net.len);
  const inNet = (a: number) => ((a & prefixMask(net.len)) >>> 0) === net.addr;
  let min = net.addr + size;
  if (conf["SubnetMin"] !== undefined) {
    const m = parseCidr(String(conf["SubnetMin"]));
    if (!m || !inNet(m.addr)) return "SubnetMin is not in the range of the Network";
    min = m.addr;
  }
  let max = last - size;
  if (conf["SubnetMax"] !== undefined) {
    const m = parseCidr(String(conf["SubnetMax"]));
    if (!m || !inNet(m.addr)) return "SubnetMax is not in the range of the Network";
    max = m.addr;
  }
  const mask = prefixMask(subnetLen);
  if (((min & mask) >>> 0) !== min) return `SubnetMin is not on a SubnetLen boundary: ${formatIpv4Addr(min)}`;
  if (((max & mask) >>> 0) !== max) return `SubnetMax is not on a SubnetLen boundary: ${formatIpv4Addr(max)}`;
  if (!(FLANNEL_BACKENDS as readonly string[]).includes(backend)) return `Error fetching backend: unknown backend type: ${backend}`;
  const network = `${formatIpv4Addr(net.addr)}/${net.len}`;
  for (const r of RESERVED) {
    const other = parseCidr(r.cidr, { mask: true })!;
    const shorter = Math.min(net.len, other.len);
    if (((net.addr & prefixMask(shorter)) >>> 0) === ((other.addr & prefixMask(shorter)) >>> 0)) {
      return `Network ${network} overlaps ${r.what} ${r.cidr}`;
    }
  }
  return {
    network,
    subnetLen,
    subnetMin: formatIpv4Addr(min),
    subnetMax: formatIpv4Addr(max),
    backend: backend as FlannelNetwork["backend"],
  };
}
