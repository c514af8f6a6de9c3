"""Namespace lab for the protocol probes: clients -> switch -> router (NAT) -> VPN server.

    client1..N (192.168.77.11+)  ┐
    scale (192.168.77.32-231)    ├─ switch (bridge) ── lan0 router wan0 ── eth0 server
                                 ┘        192.168.77.1        198.51.100.1    198.51.100.10

The server has no route back to the LAN: only traffic the router NATs can return. Interface
names (lan0, wan0) and addresses match examples/policies/branch-office.yml.
"""
import ipaddress
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from netns import NetNS

PROBES = Path(__file__).resolve().parents[1] / "lab" / "probes"
LAN_NET = "192.168.77.0/24"
ROUTER_LAN = "192.168.77.1"
ROUTER_WAN = "198.51.100.1"
SERVER = "198.51.100.10"
FIRST_CLIENT = 11          # client addresses 192.168.77.11, .12, ...
TABLE = "netpolicy_vpn_passthrough"
FIRST_SCALE = 32           # scale-mode sources 192.168.77.32 ...


def lan_addr(host):
    return str(ipaddress.IPv4Network(LAN_NET)[host])


class ProbeServer:
    """A probe server running in a namespace until stop() (SIGTERM) returns its JSON report."""

    def __init__(self, ns, probe, args=()):
        fd, self.ready = tempfile.mkstemp(prefix="probe-ready-")
        os.close(fd)
        os.unlink(self.ready)
        argv = ns.argv([sys.executable, str(PROBES / probe), "server", "--listen", SERVER,
                        "--ready-file", self.ready] + list(args))
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out, err = self.proc.communicate(timeout=5) if self.proc.poll() is not None \
                    else ("", "not ready after 10 s")
                self.kill()
                raise AssertionError("%s server did not start: %s %s" % (probe, out, err))
            time.sleep(0.02)

    def stop(self):
        """SIGTERM, then the server's one-line JSON report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=15)
        self._cleanup()
        if self.proc.returncode != 0:
            raise AssertionError("server exited %d: %s %s" % (self.proc.returncode, out, err))
        return json.loads(out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._cleanup()

    def _cleanup(self):
        if os.path.exists(self.ready):
            os.unlink(self.ready)


class Topology:
    """Builds the lab on construction; close() deletes every namespace and process it made."""

    def __init__(self, clients=3, scale_sources=0):
        self.namespaces = []
        self.servers = []
        try:
            self._build(clients, scale_sources)
        except BaseException:
            self.close()
            raise

    def _ns(self, prefix):
        ns = NetNS(prefix)
        self.namespaces.append(ns)
        return ns

    def _build(self, n_clients, scale_sources):
        self.router = self._ns("npr")
        self.server = self._ns("nps")
        self.switch = self._ns("npsw")
        self.switch.run(["ip", "link", "add", "br0", "type", "bridge"])
        self.switch.run(["ip", "link", "set", "br0", "up"])
        # Router LAN side -> switch; router WAN side -> server, point to point.
        self._veth(self.router, "lan0", "%s/24" % ROUTER_LAN, "swr")
        self.router.run(["ip", "link", "add", "wan0", "type", "veth", "peer", "name", "eth0",
                         "netns", self.server.name])
        self._up(self.router, "wan0", "%s/24" % ROUTER_WAN)
        self._up(self.server, "eth0", "%s/24" % SERVER)
        self.router.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        self.clients = []
        for index in range(n_clients):
            ns = self._ns("npc")
            ns.address = lan_addr(FIRST_CLIENT + index)
            ns.label = "client%d" % (index + 1)
            self._veth(ns, "eth0", "%s/24" % ns.address, "swc%d" % index)
            ns.run(["ip", "route", "add", "default", "via", ROUTER_LAN])
            self.clients.append(ns)
        self.scale = None
        self.scale_sources = []
        if scale_sources:
            if FIRST_SCALE + scale_sources > 254:
                raise ValueError("at most %d scale sources on %s" % (254 - FIRST_SCALE, LAN_NET))
            self.scale = self._ns("npx")
            self.scale_sources = [lan_addr(FIRST_SCALE + i) for i in range(scale_sources)]
            self._veth(self.scale, "eth0", "%s/24" % self.scale_sources[0], "swx")
            batch = "".join("address add %s/24 dev eth0\n" % a for a in self.scale_sources[1:])
            self.scale.run(["ip", "-b", "-"], input=batch)
            self.scale.run(["ip", "route", "add", "default", "via", ROUTER_LAN])

    def _veth(self, ns, ifname, cidr, port):
        """veth from ns (ifname, addressed) to a bridge port on the switch."""
        ns.run(["ip", "link", "add", ifname, "type", "veth", "peer", "name", port,
                "netns", self.switch.name])
        self.switch.run(["ip", "link", "set", port, "master", "br0", "up"])
        self._up(ns, ifname, cidr)

    @staticmethod
    def _up(ns, ifname, cidr):
        ns.run(["ip", "address", "add", cidr, "dev", ifname])
        ns.run(["ip", "link", "set", ifname, "up"])

    # ------------------------------------------------------------ router state
    def load_ruleset(self, text):
        """Replace the collection's table in the router (the file deletes/defines it itself)."""
        self.router.nft("-f", "-", input=text)

    def apply_policy(self, protocols=("pptp", "ipsec", "l2tp"), esp=True):
        """Render the lab policy with the collection's engine and renderer, load it, and start
        from an empty conntrack table."""
        self.load_ruleset(render_ruleset(lab_policy(protocols, esp)))
        self.flush_conntrack()

    def remove_helper_assignment(self):
        # Negative control: the table stays, only `ct helper set` in prerouting goes.
        self.router.nft("flush", "chain", "inet", TABLE, "prerouting")
        assert "ct helper set" not in self.router.nft("list", "table", "inet", TABLE).stdout
        self.flush_conntrack()

    def block_natt(self):
        """Negative control: another firewall on the router drops NAT-T (a drop in any table
        wins in nftables), as firewalld or a hand-written table might."""
        self.router.nft("-f", "-", input=(
            "table inet lab_block_natt {\n chain forward {\n"
            "  type filter hook forward priority filter - 10; policy accept;\n"
            "  udp dport 4500 counter drop\n }\n}\n"))
        self.flush_conntrack()

    def unblock_natt(self):
        self.router.nft("delete", "table", "inet", "lab_block_natt")
        self.flush_conntrack()

    def counter_packets(self, name):
        data = json.loads(self.router.nft("-j", "list", "counter", "inet", TABLE, name).stdout)
        return [item["counter"]["packets"] for item in data["nftables"] if "counter" in item][0]

    def wait_conntrack(self, *needles, timeout=10.0):
        """Wait until one router conntrack entry contains every needle; the entry or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.conntrack("-L").splitlines():
                if all(n in line for n in needles):
                    return line
            time.sleep(0.05)
        return None

    def conntrack_stat(self, field):
        """Sum of one `conntrack -S` field over CPUs (the statistics are per namespace)."""
        total = 0
        for word in self.router.run(["conntrack", "-S"]).stdout.split():
            key, _sep, value = word.partition("=")
            if key == field:
                total += int(value)
        return total

    def flush_conntrack(self):
        # Established flows bypass newly loaded rules; every phase starts from a clean table.
        self.router.run(["conntrack", "-F"], check=False)
        self.router.run(["conntrack", "-F", "expect"], check=False)

    def conntrack(self, *args):
        return self.router.run(["conntrack"] + list(args), check=False).stdout

    # ------------------------------------------------------------ probes
    def start_server(self, probe, *args):
        server = ProbeServer(self.server, probe, args)
        self.servers.append(server)
        return server

    def run_clients(self, probe, clients=None, args=(), timeout=60):
        """Run one probe client per namespace at the same time; list of JSON reports."""
        clients = self.clients if clients is None else clients
        procs = []
        for ns in clients:
            argv = ns.argv([sys.executable, str(PROBES / probe), "client", "--server", SERVER,
                            "--name", ns.label] + list(args))
            procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
        return [self._report(proc, timeout) for proc in procs]

    def run_scale(self, probe, args=(), timeout=120):
        """One probe process sending from every scale source address."""
        argv = self.scale.argv([sys.executable, str(PROBES / probe), "client", "--server",
                                SERVER, "--source-range",
                                "%s-%s" % (self.scale_sources[0], self.scale_sources[-1])]
                               + list(args))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self._report(proc, timeout)

    @staticmethod
    def _report(proc, timeout):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError("probe client hung: %s" % err) from None
        try:
            report = json.loads(out)
        except ValueError:
            raise AssertionError("probe printed no JSON (rc=%s): %r %r" % (
                proc.returncode, out, err)) from None
        if proc.returncode != (0 if report["ok"] else 1):
            raise AssertionError("exit status %d disagrees with ok=%s" % (
                proc.returncode, report["ok"]))
        report["stderr"] = err
        return report

    def close(self):
        for server in self.servers:
            server.kill()
        for ns in reversed(self.namespaces):
            ns.delete()
        self.namespaces = []


# The lab's policy: every grant the probes exercise, waived where the engine demands a waiver.
_GRANTS = {
    "pptp": """  - name: lab-pptp
    protocols: [pptp]
    clients: [{lan}]
    servers: [{server}]
""",
    "ipsec": """  - name: lab-ipsec
    protocols: [ipsec]
    clients: [{lan}]
    servers: [{server}]
    ipsec:
      nat_traversal: {natt}
      esp: {esp}
""",
    "l2tp": """  - name: lab-l2tp
    protocols: [l2tp]
    clients: [{lan}]
    servers: [{server}]
    l2tp:
      over_ipsec: false
""",
}
_WAIVERS = {
    "pptp": """  - rule: NP101
    grant: lab-pptp
    reason: probe lab exercises the PPTP NAT helper
    expires: 2099-12-31
""",
    "l2tp": """  - rule: NP103
    grant: lab-l2tp
    reason: probe lab exercises plain L2TP control
    expires: 2099-12-31
""",
}


def lab_policy(protocols=("pptp", "ipsec", "l2tp"), esp=True):
    """Policy YAML for this topology granting `protocols` from the whole LAN to the server;
    esp=True also grants raw ESP (nat_traversal: allowed)."""
    values = {"lan": LAN_NET, "server": SERVER, "esp": "true" if esp else "false",
              "natt": "allowed" if esp else "required"}
    text = """apiVersion: netpolicy.vpn_passthrough/v1
kind: PassthroughPolicy
metadata:
  name: probe-lab
  owner: netops@example.com
router:
  lan:
    interfaces: [lan0]
    networks: [{lan}]
  wan:
    interfaces: [wan0]
    nat: masquerade
grants:
""".format(**values)
    text += "".join(_GRANTS[p].format(**values) for p in protocols)
    waivers = [_WAIVERS[p] for p in protocols if p in _WAIVERS]
    if waivers:
        text += "waivers:\n" + "".join(waivers)
    return text


def render_ruleset(policy_text):
    """The collection's own path: engine check, then render_policy -> nftables.nft text."""
    from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (
        check_policy_text)
    from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import (
        render_policy)
    result = check_policy_text(policy_text)
    errors = [f for f in result.findings if f.severity == "error"]
    if not result.valid or errors:
        raise AssertionError("lab policy rejected: %s" % [
            (f.id, f.path, f.message) for f in result.findings])
    return render_policy(result.policy)["nftables.nft"]
