import test from "ava";
import { testKernel } from "./_testing.ts";

test("a veth pair across namespaces gives each side an id for the other, counted from 0", (t) => {
  const { kernel } = testKernel();
  const root = kernel.root;
  const a = kernel.createNetns();
  const b = kernel.createNetns();
  kernel.createVeth(root, "veth1", "eth0", { peerNs: a });
  kernel.createVeth(root, "veth2", "eth0", { peerNs: b });
  t.is(root.peerNsid(a), 0);
  t.is(root.peerNsid(b), 1);
  t.is(a.peerNsid(root), 0);
  t.is(b.peerNsid(root), 0);
  t.is(a.peerNsid(b), undefined, "no veth joins a and b");
});

test("moving a veth end into a namespace assigns the ids; nsidOf is stable and fills gaps", (t) => {
  const { kernel } = testKernel();
  const root = kernel.root;
  const ns = kernel.createNetns();
  const [, peer] = kernel.createVeth(root, "vethx", "tmp");
  t.is(root.peerNsid(ns), undefined);
  root.moveDevice(peer, ns);
  t.is(root.peerNsid(ns), 0);
  t.is(ns.peerNsid(root), 0);
  const other = kernel.createNetns();
  t.is(root.nsidOf(other), 1);
  t.is(root.nsidOf(other), 1);
  root.forgetNsid(ns);
  t.is(root.nsidOf(kernel.createNetns()), 0, "a freed id is reused");
  t.false(root.setNsid(other, 5), "an id is assigned once");
  const fresh = kernel.createNetns();
  t.true(root.setNsid(fresh, 7));
  t.is(root.peerNsid(fresh), 7);
});
