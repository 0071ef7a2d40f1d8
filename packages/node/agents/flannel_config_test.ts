import test from "ava";
import { checkFlannelConfig } from "./flannel_config.ts";

test("kube-flannel.yml's default config is accepted with flannel's defaults filled in", (t) => {
  t.deepEqual(checkFlannelConfig({ Network: "10.244.0.0/16", Backend: { Type: "vxlan" } }), {
    network: "10.244.0.0/16",
    subnetLen: 24,
    subnetMin: "10.244.1.0",
    subnetMax: "10.244.255.0",
    backend: "vxlan",
  });
  const small = checkFlannelConfig({ Network: "10.244.0.0/26", Backend: { Type: "host-gw" } });
  t.is(typeof small === "object" ? small.subnetLen : small, 28);
});

test("bad configs are refused with flannel's messages", (t) => {
  t.is(checkFlannelConfig({ Backend: { Type: "vxlan" } }), "please define a correct Network parameter in the flannel config");
  t.is(checkFlannelConfig({ Network: "10.244.0.0/16", SubnetLen: 31 }), "SubnetLen must be less than /31");
  t.is(checkFlannelConfig({ Network: "10.244.0.0/24", SubnetLen: 25 }), "network must be able to accommodate at least four subnets");
  t.is(checkFlannelConfig({ Network: "10.244.0.0/29" }), "Network is too small. Minimum useful network prefix is /28");
  t.is(checkFlannelConfig({ Network: "10.244.0.0/16", SubnetMin: "10.245.0.0" }), "SubnetMin is not in the range of the Network");
  t.is(checkFlannelConfig({ Network: "10.244.0.0/16", SubnetMax: "10.244.3.7" }), "SubnetMax is not on a SubnetLen boundary: 10.244.3.7");
  t.is(checkFlannelConfig({ Network: "10.244.0.0/16", Backend: { Type: "wireguard2" } }), "Error fetching backend: unknown backend type: wireguard2");
  t.is(checkFlannelConfig({ Network: "10.244.0.0/16", Backend: "vxlan" }), "error decoding Backend property of config: json: cannot unmarshal into Go value of type struct { Type string }");
});

test("a pod network overlapping the hosts' or the Services' networks is refused", (t) => {
  t.is(checkFlannelConfig({ Network: "10.96.0.0/16", Backend: { Type: "vxlan" } }), "Network 10.96.0.0/16 overlaps the service network 10.96.0.0/12");
  t.is(checkFlannelConfig({ Network: "192.168.0.0/16", Backend: { Type: "vxlan" } }), "Network 192.168.0.0/16 overlaps the node network 192.168.0.0/23");
});
