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


def fallback_ruleset(protocols=("pptp", "ipsec", "esp", "l2tp"), helper=True,
                     lan_net=LAN_NET, server=SERVER):
    """A hand-written ruleset following lab-facts.md, used where the collection's renderer is
    not importable. protocols: what the table grants (ipsec = IKE + NAT-T; esp = raw ESP)."""
    allow = []
    if "pptp" in protocols:
        allow.append("tcp dport 1723 accept")
    if "ipsec" in protocols:
        allow.append("udp dport { 500, 4500 } accept")
    if "esp" in protocols:
        allow.append("meta l4proto esp accept")
    if "l2tp" in protocols:
        allow.append("udp dport 1701 accept")
    pair = 'iifname "lan0" oifname "wan0" ip saddr %s ip daddr %s' % (lan_net, server)
    assign = ('iifname "lan0" ip saddr %s ip daddr %s tcp dport 1723 ct helper set "pptp"'
              % (lan_net, server)) if helper else "# no helper assignment (negative control)"
    return """table inet netpolicy_vpn_passthrough
delete table inet netpolicy_vpn_passthrough
table inet netpolicy_vpn_passthrough {
  ct helper pptp { type "pptp" protocol tcp; l3proto ip; }
  chain prerouting {
    type filter hook prerouting priority filter; policy accept;
    %(assign)s
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
%(allow)s
    iifname "lan0" oifname "wan0" meta l4proto { gre, esp, ah } counter drop
    iifname "lan0" oifname "wan0" tcp dport 1723 counter drop
    iifname "lan0" oifname "wan0" udp dport { 500, 4500, 1701 } counter drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" ip saddr %(lan)s masquerade
  }
}
""" % {"assign": assign, "lan": lan_net,
       "allow": "".join("    %s %s\n" % (pair, rule) for rule in allow)}
