import test from "ava";
import { KubectlHarness } from "./_testing.ts";

const CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
`;

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: nginx
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: app-a
            port:
              number: 80
  - host: b.example.com
    http:
      paths:
      - path: /api
        pathType: Exact
        backend:
          service:
            name: app-b
            port:
              name: http
`;

test("apply creates Ingresses and IngressClasses; get ingress prints NAME CLASS HOSTS ADDRESS PORTS AGE", async (t) => {
  const h = new KubectlHarness();
  t.is((await h.kubectl("apply -f -", { stdin: `${CLASS}---\n${INGRESS}` })).stdout, "ingressclass.networking.k8s.io/nginx created\ningress.networking.k8s.io/web created\n");
  h.advance(5_000);
  const r = await h.kubectl("get ing");
  t.is(r.stdout, "NAME   CLASS   HOSTS                         ADDRESS   PORTS   AGE\nweb    nginx   a.example.com,b.example.com             80      5s\n");
  const ing = h.cluster.server.store.get("ingresses", "default", "web")!;
  await h.cluster.server.updateStatus("ingresses", "default", { ...ing, status: { loadBalancer: { ingress: [{ ip: "192.168.0.12" }, { ip: "192.168.0.11" }] } } });
  t.is((await h.kubectl("get ingress web --no-headers")).stdout, "web   nginx   a.example.com,b.example.com   192.168.0.11,192.168.0.12   80    5s\n");
  t.is((await h.kubectl("get ingressclass")).stdout, "NAME    CONTROLLER             PARAMETERS   AGE\nnginx   k8s.io/ingress-nginx   <none>       5s\n");
});

test("an Ingress without a class gets the default IngressClass; without rules HOSTS is *", async (t) => {
  const h = new KubectlHarness();
  await h.kubectl("apply -f -", { stdin: CLASS });
  const r = await h.kubectl("apply -f -", {
    stdin: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: fallback\nspec:\n  defaultBackend:\n    service:\n      name: app-a\n      port:\n        number: 80\n",
  });
  t.is(r.stdout, "ingress.networking.k8s.io/fallback created\n");
  t.is((await h.kubectl(["get", "ing", "fallback", "-o", "jsonpath={.spec.ingressClassName} {.status}"])).stdout, 'nginx {"loadBalancer":{}}');
  t.is((await h.kubectl("get ing fallback --no-headers")).stdout, "fallback   nginx   *           80    0s\n");
});

test("the API server refuses bad Ingresses with its validation messages, creating nothing", async (t) => {
  const h = new KubectlHarness();
  const apply = (spec: string) =>
    h.kubectl("apply -f -", { stdin: `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: bad\nspec:\n${spec}` });
  const empty = await apply("  ingressClassName: nginx\n");
  t.is(empty.exit, 1);
  t.is(
    empty.stderr,
    'The Ingress "bad" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified\n',
  );
  const paths = await apply(
    [
      "  rules:",
      "  - host: a.example.com",
      "    http:",
      "      paths:",
      "      - path: foo",
      "        pathType: Prefix",
      "        backend:",
      "          service:",
      "            name: app",
      "            port:",
      "              number: 80",
      "      - path: /x",
      "        pathType: Regex",
      "        backend:",
      "          service:",
      "            name: app",
      "      - path: /y",
      "        backend:",
      "          service:",
      "            name: app",
      "            port:",
      "              number: 80",
      "      - path: /z",
      "        pathType: Exact",
      "        backend: {}",
      "      - path: /w",
      "        pathType: Exact",
      "        backend:",
      "          service:",
      "            name: app",
      "            port:",
      "              number: 80",
      "          resource:",
      "            kind: Bucket",
      "            name: b",
      "",
    ].join("\n"),
  );
  t.is(paths.exit, 1);
  t.is(
    paths.stderr,
    'The Ingress "bad" is invalid: \n' +
      [
        '* spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path',
        '* spec.rules[0].http.paths[1].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
        "* spec.rules[0].http.paths[1].backend: Required value: port name or number is required",
        "* spec.rules[0].http.paths[2].pathType: Required value: pathType must be specified",
        '* spec.rules[0].http.paths[3].backend: Invalid value: "": resource or service backend is required',
        '* spec.rules[0].http.paths[4].backend: Invalid value: "": cannot set both resource and service backends',
      ].join("\n") +
      "\n",
  );
  const host = await apply("  rules:\n  - host: 10.0.0.1\n  - host: '*.*.example.com'\n");
  t.true(host.stderr.includes('spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'), host.stderr);
  t.true(host.stderr.includes("spec.rules[1].host: Invalid value: \"*.*.example.com\": a wildcard DNS-1123 subdomain must start with '*.'"), host.stderr);
  const unknown = await apply("  rules:\n  - host: a.example.com\n    hostname: x\n");
  t.is(unknown.exit, 1);
  t.regex(unknown.stderr, /unknown field "spec\.rules\[0\]\.hostname"/);
  t.is((await h.kubectl("get ing")).stderr, "No resources found in default namespace.\n");
});

test("an IngressClass's controller must be a domain-prefixed path", async (t) => {
  const h = new KubectlHarness();
  const r = await h.kubectl("apply -f -", { stdin: "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: x\nspec:\n  controller: nginx\n" });
  t.is(r.exit, 1);
  t.is(r.stderr, 'The IngressClass "x" is invalid: spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")\n');
});
