"""Drive the lab's containers from the controller with `podman exec` (shared by traffic.py).

Only containers named in molecule/default/vars/topology.yml are touched; the router's ruleset is
only ever changed inside the router container.
"""
import concurrent.futures
import json
import os
import subprocess
import time

import yaml

TABLE = "inet netpolicy_vpn_passthrough"
PROBES_DIR = "/opt/netpolicy-probes"


class Lab:
    def __init__(self, topology_path, log_dir):
        with open(topology_path, encoding="utf-8") as handle:
            self.topo = yaml.safe_load(handle)
        self.router = self.topo["lab_router"]["name"]
        self.router_wan_ip = next(n["ip"] for n in self.topo["lab_router"]["nics"]
                                  if n["ifname"].startswith("wan"))
        self.server = self.topo["lab_server"]
        self.probe_server = self.topo["lab_probe_server"]
        self.clients = self.topo["lab_clients"]
        self.log_dir = log_dir
        os.makedirs(log_dir, exist_ok=True)

    # -- running things -------------------------------------------------------------------
    def run(self, container, argv, timeout=60, stdin=None):
        """(rc, stdout, stderr) of argv inside container; rc 124 when it timed out."""
        cmd = ["podman", "exec"] + (["-i"] if stdin is not None else []) + [container] + argv
        try:
            proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            return 124, _text(exc.stdout), _text(exc.stderr) + "\n(timed out)"
        return proc.returncode, proc.stdout, proc.stderr

    def sh(self, container, script, timeout=60):
        return self.run(container, ["sh", "-c", script], timeout=timeout)

    def must(self, container, argv, timeout=60):
        rc, out, err = self.run(container, argv, timeout=timeout)
        if rc != 0:
            raise RuntimeError("%s: %s failed (rc=%d): %s%s" % (
                container, " ".join(argv), rc, out, err))
        return out

    @staticmethod
    def parallel(func, items):
        """func(item) for every item at the same time; results in item order."""
        items = list(items)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
            return list(pool.map(func, items))

    # -- router ---------------------------------------------------------------------------
    def flush_conntrack(self):
        """Established flows bypass newly added rules; phases start from an empty table."""
        self.run(self.router, ["conntrack", "-F"])
        self.run(self.router, ["conntrack", "-F", "expect"])

    def ruleset(self):
        return self.run(self.router, ["nft", "-a", "list", "table"] + TABLE.split())[1]

    def delete_rules_matching(self, chain, needle):
        """Delete every rule of chain whose text contains needle; returns how many."""
        rc, out, err = self.run(self.router, ["nft", "-a", "list", "chain"] + TABLE.split()
                                + [chain])
        if rc != 0:
            raise RuntimeError("cannot list chain %s: %s" % (chain, err))
        handles = [line.rsplit("# handle ", 1)[1].strip() for line in out.splitlines()
                   if needle in line and "# handle " in line and "type " not in line]
        for handle in handles:
            self.must(self.router, ["nft", "delete", "rule"] + TABLE.split()
                      + [chain, "handle", handle])
        return len(handles)

    # -- diagnostics ----------------------------------------------------------------------
    def dump_logs(self, tag):
        """Write every daemon log, the router's table and conntrack state under log_dir."""
        paths = []
        names = [c["name"] for c in self.clients] + [self.server["name"]]
        for name in names:
            text = self.run(name, ["lab-node", "logs"])[1]
            paths.append(self._write("%s-%s.log" % (tag, name), text))
        router = "\n".join("$ %s\n%s%s" % (" ".join(a), *self.run(self.router, a)[1:]) for a in (
            ["nft", "list", "table"] + TABLE.split(), ["nft", "list", "ruleset"],
            ["conntrack", "-L"], ["conntrack", "-L", "expect"], ["conntrack", "-S"]))
        paths.append(self._write("%s-%s.log" % (tag, self.router), router))
        probe = self.sh(self.probe_server["name"],
                        "for f in /run/probes/*.log; do echo \"== $f\"; tail -n 40 \"$f\"; done")
        paths.append(self._write("%s-%s.log" % (tag, self.probe_server["name"]), probe[1]))
        return paths

    def _write(self, name, text):
        path = os.path.join(self.log_dir, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path


def _text(value):
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def last_json(text):
    """The last line of text that parses as a JSON object, else None."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


class Timer:
    def __init__(self):
        self.steps = []

    def step(self, name):
        return _Step(self, name)


class _Step:
    def __init__(self, timer, name):
        self.timer, self.name = timer, name

    def __enter__(self):
        self.start = time.monotonic()
        print("lab: %s ..." % self.name, flush=True)
        return self

    def __exit__(self, *exc):
        seconds = round(time.monotonic() - self.start, 2)
        self.timer.steps.append({"name": self.name, "seconds": seconds})
        print("lab: %s done in %.1f s" % (self.name, seconds), flush=True)
        return False
