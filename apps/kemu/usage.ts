/**
 * The help texts of the `kemu` command, one per subcommand.
 */

/** `kemu --help`. */
export const MAIN_HELP = `kemu: a container and Kubernetes networking emulator

Usage:
  kemu run FILE.yaml [--seed N] [--pcap DIR] [--json]   run a scenario and check what it expects
  kemu up [--nodes N] [--spare N] [--seed N]            boot a cluster and open a shell on node1
  kemu experiment FILE.yaml [--out DIR] [--jobs N]      run a scenario over a parameter grid and seeds
  kemu help [COMMAND]                                   show the help of a command
  kemu --version                                        print kemu's version

The scenario format is described in apps/kemu/SCENARIOS.md.
`;

/** `kemu help run`. */
export const RUN_HELP = `Usage: kemu run FILE.yaml [--seed N] [--pcap DIR] [--json] [--proxy-mode M]

Checks a scenario file, boots its cluster on the emulated clock, runs its
steps in order and prints each one with its output and verdict. Nothing runs
if the file has an error.

Options:
  --seed N     seed of every random choice (MACs, names, losses); default 1.
               The same scenario and seed replay the same run.
  --pcap DIR   write one pcap file per interface that carried traffic into DIR,
               named <host>-<netns>-<ifname>.pcap
  --json       print one JSON document instead of the report:
               { "passed", "steps": [{ "location", "command", "exit",
               "stdout", "stderr", "passed" }] }
  --proxy-mode M
               run kube-proxy in mode M (iptables or ipvs) whatever the
               file's cluster.proxyMode says
  -h, --help   show this help

Exit status: 0 when every step passed, 1 when a step failed or the emulator
failed, 2 for a usage error or an invalid scenario.
`;

/** `kemu help up`. */
export const UP_HELP = `Usage: kemu up [--nodes N] [--spare N] [--seed N] [--backend B] [--proxy-mode M]

Boots a cluster on the wall clock and opens a login shell on node1. Leave
with "exit" or Ctrl-D. With standard input not a terminal, its lines are
run one by one, and kemu exits with the shell's exit status.

The cluster's Kubernetes API is served on https://127.0.0.1 (a port chosen
at start) for your own kubectl: kemu up prints the path of a kubeconfig
(context "kemu", a bearer token made for this run), as kind does.

On every host, "kemu fault …" breaks something in the cluster now, in the
words of a scenario's fault: steps ("kemu fault link node1-node2 loss 10%
for 30s", "kemu fault node2 crash"), and prints its event-log line;
"kemu fault --help" lists them.

Options:
  --nodes N    how many nodes, node1 to nodeN (1 to 200; default 1)
  --spare N    spare nodes after them, powered off until "kemu fault nodeK join"
               boots one; default 0
  --seed N     seed of every random choice; default 1
  --backend B  flannel's backend: vxlan (default), udp or host-gw
  --proxy-mode M
               kube-proxy's mode: iptables (default) or ipvs
  -h, --help   show this help
`;

/** `kemu help help`. */
export const HELP_HELP = `Usage: kemu help [COMMAND]

Shows the help of COMMAND (run, up), or of kemu itself.
`;
