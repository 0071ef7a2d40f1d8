import test from "ava";
import { readFileSync, writeFileSync } from "node:fs";
import { CLUSTER_KEYS, EXPECT_KEYS, SCENARIO_KEYS, STEP_KEYS } from "./scenario.ts";
import { SCENARIO_SCHEMA } from "./scenario_schema.ts";
import { FAULT_KEYS, FLAP_KEYS } from "./fault.ts";

const SCHEMA_FILE = new URL("../scenario.schema.json", import.meta.url);

test("scenario.schema.json is the exported schema (KEMU_UPDATE_SCHEMA=1 npx ava rewrites it)", (t) => {
  const expected = JSON.stringify(SCENARIO_SCHEMA, null, 2) + "\n";
  if (process.env["KEMU_UPDATE_SCHEMA"] === "1") writeFileSync(SCHEMA_FILE, expected);
  t.is(readFileSync(SCHEMA_FILE, "utf8"), expected);
});

test("the schema names the same keys as the validator, level by level", (t) => {
  const s = SCENARIO_SCHEMA.properties;
  t.deepEqual(Object.keys(s).sort(), [...SCENARIO_KEYS].sort());
  t.deepEqual(Object.keys(s.cluster.properties).sort(), Object.keys(CLUSTER_KEYS).sort());
  const stepKeys = new Set(s.steps.items.oneOf.flatMap((kind) => Object.keys(kind.properties)));
  t.deepEqual([...stepKeys].sort(), [...STEP_KEYS].sort());
  t.deepEqual(Object.keys(s.steps.items.oneOf[0].properties.expect.properties).sort(), [...EXPECT_KEYS].sort());
  const fault = s.steps.items.oneOf[2].properties.fault.properties;
  t.deepEqual(Object.keys(fault).sort(), [...FAULT_KEYS].sort());
  t.deepEqual(Object.keys(fault.flap.properties).sort(), [...FLAP_KEYS].sort());
});

test("the schema's location and duration patterns agree with the validator on samples", (t) => {
  const run = SCENARIO_SCHEMA.properties.steps.items.oneOf[0].properties;
  const on = new RegExp(run.on.pattern);
  const inside = new RegExp(run.in.pattern);
  const sleep = new RegExp(SCENARIO_SCHEMA.properties.steps.items.oneOf[1].properties.sleep.oneOf[0].pattern);
  for (const host of ["node1", "node12", "control", "gateway", "outside"]) t.true(on.test(host), host);
  for (const host of ["node0", "nod1", "node01"]) t.false(on.test(host), host);
  for (const target of ["busybox-1", "web:nginx", "kube-system/coredns", "prod/web:nginx"]) t.true(inside.test(target), target);
  for (const target of ["a/b/c", "web:", "has space"]) t.false(inside.test(target), target);
  for (const d of ["500ms", "2s", "1.5s", "1m30s", "2"]) t.true(sleep.test(d), d);
  for (const d of ["2 parsecs", "-1s", "1d"]) t.false(sleep.test(d), d);
});
