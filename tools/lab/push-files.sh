#!/usr/bin/env bash
# Copy the lab's node files into running lab containers: lab-node and its VPN configs, the PPP
# stand-in and the protocol probes (tests/lab/probes). Usage: push-files.sh CONTAINER...
# One process with plain `podman cp` calls: a module call per file costs a second each.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
for c in "$@"; do
  podman exec "$c" mkdir -p /usr/local/share/lab-node /opt/netpolicy-probes
  podman cp "$root/tools/lab/node/." "$c:/usr/local/share/lab-node/"
  podman cp "$root/tools/lab/ppp_standin.py" "$c:/usr/local/share/lab-node/ppp_standin.py"
  podman cp "$root/tools/lab/node/lab-node.sh" "$c:/usr/local/sbin/lab-node"
  podman cp "$root/tests/lab/probes/." "$c:/opt/netpolicy-probes/"
done
