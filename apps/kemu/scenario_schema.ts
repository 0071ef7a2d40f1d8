/**
 * The scenario format as a JSON Schema (draft 2020-12), for editors: with the
 * YAML language server, a first line
 * `# yaml-language-server: $schema=../apps/kemu/scenario.schema.json`
 * gives completion and checks while typing. `scenario.schema.json` beside
 * this file is this object, kept equal by a test. The validator
 * (`parseScenario`) remains the authority: it also checks what a schema
 * cannot say well, such as hosts against `cluster.nodes`.
 */

const matcher = {
  type: "string",
  minLength: 1,
  description: "A substring the output must contain, or a regular expression written /source/flags (flags i, m, s, u).",
} as const;

const matchers = {
  description: "One pattern, or a list of patterns that must all hold.",
  oneOf: [matcher, { type: "array", items: matcher, minItems: 1 }],
} as const;

const commonStep = {
  name: { type: "string", description: "A label printed instead of the command." },
} as const;

const runStep = {
  type: "object",
  description: "Runs a command on a host or in a container or pod, and checks what it left behind.",
  properties: {
    ...commonStep,
    on: {
      type: "string",
      pattern: "^(node[1-9][0-9]*|control|gateway|outside)$",
      description: "A host's root namespace: node1…nodeN, control (where kubectl runs), gateway (the underlay router), or outside (a host beyond the cluster, behind the gateway).",
    },
    in: {
      type: "string",
      pattern: "^([a-zA-Z0-9][a-zA-Z0-9_.-]*|([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?)$",
      description: "A Docker container by name (or, if there is none, the pod of that name in namespace default), " +
        "or a pod as NAMESPACE/POD, POD:CONTAINER or NAMESPACE/POD:CONTAINER.",
    },
    run: { type: "string", minLength: 1, description: "A shell command line." },
    stdin: { type: "string", description: "Text fed to the command's standard input." },
    expect: {
      type: "object",
      description: "What the command must leave behind. Without it (or without exit), the command must exit 0.",
      properties: {
        exit: { type: "integer", minimum: 0, maximum: 255, default: 0, description: "The exit code." },
        stdout: matchers,
        stderr: matchers,
      },
      additionalProperties: false,
    },
  },
  required: ["run"],
  oneOf: [{ required: ["on"] }, { required: ["in"] }],
  additionalProperties: false,
} as const;

const sleepStep = {
  type: "object",
  description: "Advances the emulated clock.",
  properties: {
    ...commonStep,
    sleep: {
      description: "A duration: 500ms, 2s, 1.5s, 1m, 1h, a sum such as 1m30s, or a bare number of seconds.",
      oneOf: [
        { type: "string", pattern: "^((\\d+(\\.\\d+)?(ms|s|m|h))+|\\d+(\\.\\d+)?)$" },
        { type: "number", minimum: 0 },
      ],
    },
  },
  required: ["sleep"],
  additionalProperties: false,
} as const;

const hostName = { type: "string", pattern: "^(node[1-9][0-9]*|control|gateway|outside)$" } as const;
const percentValue = { oneOf: [{ type: "number", minimum: 0, maximum: 100 }, { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s*%?\\s*$" }] } as const;
const durationValue = { oneOf: [{ type: "number", minimum: 0 }, { type: "string", pattern: "^\\s*(\\d+(\\.\\d+)?\\s*(ms|s|m|h)?\\s*)+$" }] } as const;

const faultStep = {
  type: "object",
  description: "Breaks something on purpose: a node's crash, restart or join, an agent stopped, conntrack flushed, an MTU changed, a faulty or flapping link (tc netem's effects), or a partition.",
  properties: {
    ...commonStep,
    fault: {
      type: "object",
      properties: {
        node: { ...hostName, description: "With crash: true, the host whose worker thread is terminated (a power cut)." },
        crash: { const: true, description: "Terminate the host's worker, as a power cut would." },
        restart: { const: true, description: "Boot the host again (after a crash, or as a reboot): a fresh worker that rejoins." },
        join: { const: true, description: "Boot a spare node (cluster.spare) for the first time: it registers, gets a podCIDR and starts its agents." },
        stop: { enum: ["kubelet", "kube-proxy", "flanneld"], description: "Stop one agent of the node (what it programmed stays)." },
        start: { enum: ["kubelet", "kube-proxy", "flanneld"], description: "Start a stopped agent again." },
        conntrack: { const: "flush", description: "Empty the node's conntrack table (conntrack -F)." },
        mtu: { type: "integer", minimum: 68, maximum: 65535, description: "Set the MTU of the interface named by dev (ip link set dev DEV mtu N)." },
        dev: { type: "string", pattern: "^[^\\s/:]{1,15}$", description: "With mtu: the interface of the node's root namespace to change, such as eth0." },
        link: { type: "string", pattern: "^\\s*[\\w.-]+\\s*(->|-)\\s*[\\w.-]+\\s*$", description: "HOST-HOST (both ways) or HOST->HOST (one way): the frames one host sends towards the other." },
        partition: { type: "array", minItems: 2, items: { type: "array", items: hostName }, description: "Groups of hosts: every link between groups is cut." },
        for: { ...durationValue, description: "How long the fault lasts on the emulated clock (default: until the run ends)." },
        delay: { ...durationValue, description: "Added delay (netem delay)." },
        jitter: { ...durationValue, description: "± uniform jitter around the delay." },
        loss: { ...percentValue, description: "Random loss, %." },
        gemodel: { type: "string", description: "Gilbert–Elliott loss: four percentages \"p r 1-h 1-k\"." },
        duplicate: { ...percentValue, description: "Duplication, %." },
        corrupt: { ...percentValue, description: "One flipped bit per affected frame, %; checksums catch it." },
        reorder: { ...percentValue, description: "With a delay, this share goes at once, out of order, %." },
        rate: { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s*[kmgKMG]?(bit|bps)\\s*$", description: "Rate limit: 1mbit, 64kbit, 10mbps." },
        limit: { type: "integer", minimum: 1, description: "netem's queue length, packets (default 1000)." },
        down: { const: true, description: "The link drops everything (loss 100%)." },
        flap: {
          type: "object",
          description: "The link goes down (drops everything) for `down`, then carries for `up`, over and over, down first, until `for` ends.",
          properties: {
            down: { ...durationValue, description: "How long each down phase lasts." },
            up: { ...durationValue, description: "How long each up phase lasts." },
          },
          required: ["down", "up"],
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
  required: ["fault"],
  additionalProperties: false,
} as const;

/** The JSON Schema of a scenario file. */
export const SCENARIO_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "kemu scenario",
  description: "A cluster and the steps to run in it, checked by `kemu run`. Reference: apps/kemu/SCENARIOS.md.",
  type: "object",
  properties: {
    name: { type: "string", description: "A short title, printed when the scenario runs." },
    description: { type: "string", description: "What the scenario shows, for readers of the file." },
    cluster: {
      type: "object",
      description: "The emulated cluster the steps run in.",
      properties: {
        nodes: {
          type: "integer",
          minimum: 1,
          maximum: 200,
          default: 1,
          description: "How many nodes, named node1…nodeN.",
        },
        spare: {
          type: "integer",
          minimum: 0,
          maximum: 199,
          default: 0,
          description: "Spare nodes after the others (node(N+1)…), wired to the underlay but powered off until a fault: { node, join: true } step boots one.",
        },
        backend: {
          type: "string",
          enum: ["vxlan", "udp", "host-gw"],
          default: "vxlan",
          description: "flannel's backend on the nodes: vxlan (kernel VXLAN, UDP 8472), udp (flanneld forwards through flannel0 on UDP 8285) or host-gw (a route per node).",
        },
        proxyMode: {
          type: "string",
          enum: ["iptables", "ipvs"],
          default: "iptables",
          description: "kube-proxy's --proxy-mode on every node: iptables (KUBE-SVC/KUBE-SEP chains, statistic load balancing) or ipvs (kube-ipvs0 holding every ClusterIP, IPVS virtual servers with rr, ipsets; a ClusterIP answers ping).",
        },
        topology: {
          type: "string",
          enum: ["flat", "routed"],
          default: "flat",
          description: "flat: every node on 192.168.0.0/24. routed: odd nodes on 192.168.0.0/24, even nodes on 192.168.1.0/24, both behind the gateway router.",
        },
        network: {
          type: "object",
          description: "flannel's net-conf.json: the pod network (also the controller manager's cluster CIDR), each node's SubnetLen, and the backend. Checked as flanneld checks it.",
          properties: {
            Network: { type: "string", description: "The pod network, e.g. 10.244.0.0/16." },
            SubnetLen: { type: "integer", description: "Prefix length of each node's subnet (default 24, or Network's + 2 for networks smaller than /22)." },
            SubnetMin: { type: "string" },
            SubnetMax: { type: "string" },
            Backend: { type: "object", properties: { Type: { type: "string", enum: ["vxlan", "udp", "host-gw"] } } },
            EnableNFTables: { type: "boolean" },
          },
          required: ["Network"],
        },
      },
      additionalProperties: false,
    },
    steps: {
      type: "array",
      minItems: 1,
      description: "What to do, in order.",
      items: { oneOf: [runStep, sleepStep, faultStep] },
    },
  },
  required: ["name", "steps"],
  additionalProperties: false,
} as const;
