import test from "ava";
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { INGRESS_NGINX_MANIFEST } from "./addons.ts";

const REPO_FILE = new URL("../../../manifests/ingress-nginx.yaml", import.meta.url);

test("manifests/ingress-nginx.yaml is the add-on the control host carries (KEMU_UPDATE_MANIFESTS=1 npx ava rewrites it)", (t) => {
  if (process.env["KEMU_UPDATE_MANIFESTS"] === "1") writeFileSync(REPO_FILE, INGRESS_NGINX_MANIFEST);
  t.is(readFileSync(REPO_FILE, "utf8"), INGRESS_NGINX_MANIFEST);
});

test("the ingress-nginx add-on holds the real manifest's objects by kind and name", (t) => {
  const objects = parseAllDocuments(INGRESS_NGINX_MANIFEST).map((d) => d.toJSON() as { kind: string; metadata: { name: string; namespace?: string } });
  t.deepEqual(
    objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`),
    ["Namespace /ingress-nginx", "ConfigMap ingress-nginx/ingress-nginx-controller", "Service ingress-nginx/ingress-nginx-controller", "Deployment ingress-nginx/ingress-nginx-controller", "IngressClass /nginx"],
  );
});
