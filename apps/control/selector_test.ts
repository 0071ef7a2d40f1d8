import test from "ava";
import { SelectorError, formatSelector, fromLabelSelector, matches, parseFieldSelector, parseLabelSelector } from "./selector.ts";

test("label selector syntax: =, ==, !=, in, notin, exists, !key", (t) => {
  const sel = parseLabelSelector("app=web, env in (prod,staging), tier notin (db), canary, !legacy, v!=1");
  t.is(formatSelector(sel), "app=web,env in (prod,staging),tier notin (db),canary,!legacy,v!=1");
  t.true(matches(sel, { app: "web", env: "prod", canary: "", v: "2" }));
  t.false(matches(sel, { app: "web", env: "dev", canary: "" }));
  t.false(matches(sel, { app: "web", env: "prod", canary: "", legacy: "yes" }));
  t.true(matches(parseLabelSelector("a==b"), { a: "b" }));
  t.true(matches(parseLabelSelector(""), {}));
  t.true(matches(parseLabelSelector("x!=y"), {}));
});

test("bad label selectors are errors", (t) => {
  t.throws(() => parseLabelSelector("app in web"), { instanceOf: SelectorError });
  t.throws(() => parseLabelSelector("a=b c"), { instanceOf: SelectorError });
  t.throws(() => parseLabelSelector("a=b,"), { instanceOf: SelectorError });
});

test("LabelSelector objects: matchLabels and matchExpressions; nil matches nothing", (t) => {
  const sel = fromLabelSelector({ matchLabels: { app: "x" }, matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }, { key: "old", operator: "DoesNotExist" }] })!;
  t.true(matches(sel, { app: "x", tier: "a" }));
  t.false(matches(sel, { app: "x", tier: "c" }));
  t.is(fromLabelSelector(undefined), undefined);
  t.deepEqual(fromLabelSelector({}), []);
});

test("field selectors name only the fields the API server indexes", (t) => {
  t.deepEqual(parseFieldSelector("spec.nodeName=node1,status.phase!=Running", "pods"), [
    { field: "spec.nodeName", operator: "=", value: "node1" },
    { field: "status.phase", operator: "!=", value: "Running" },
  ]);
  t.deepEqual(parseFieldSelector("metadata.namespace==default", "services"), [{ field: "metadata.namespace", operator: "=", value: "default" }]);
  t.throws(() => parseFieldSelector("spec.nodeName=x", "services"), { message: "field label not supported: spec.nodeName" });
});
