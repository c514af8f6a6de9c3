"""Refuse lab subnets that would cut the host off: a podman network adds a host route, so its
subnet must not overlap a route the host already has, nor the addresses its package sources
(apt, pip index) resolve to. Exit 1 with the reason, 0 when every subnet is safe.

    python3 tools/lab/check_subnets.py 10.177.0.0/24 198.51.100.0/24 [--ignore-bridge NAME]
"""
import argparse
import glob
import ipaddress
import json
import re
import socket
import subprocess
import sys
from urllib.parse import urlparse

URI = re.compile(r"(?:^\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?|^\s*URIs:\s*)(\S+)", re.M)


def source_hosts():
    """Host names of the enabled apt sources and of a configured pip index."""
    texts = []
    for path in (["/etc/apt/sources.list"] + glob.glob("/etc/apt/sources.list.d/*.list")
                 + glob.glob("/etc/apt/sources.list.d/*.sources")
                 + ["/etc/pip.conf", "/etc/xdg/pip/pip.conf"]):
        try:
            with open(path) as handle:
                texts.append(handle.read())
        except OSError:
            continue
    hosts = set()
    for text in texts:
        for uri in URI.findall(text) + re.findall(r"index-url\s*=\s*(\S+)", text):
            if urlparse(uri).hostname:
                hosts.add(urlparse(uri).hostname)
    return sorted(hosts)


def host_routes(ignore):
    out = subprocess.run(["ip", "-j", "route", "show"], capture_output=True, text=True,
                         check=True).stdout
    for route in json.loads(out or "[]"):
        if route.get("dst", "default") != "default" and route.get("dev") not in ignore:
            yield route["dst"], route.get("dev")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("subnets", nargs="+")
    parser.add_argument("--ignore-dev", action="append", default=[],
                        help="interfaces whose routes are the lab's own (leftovers)")
    args = parser.parse_args(argv)
    problems = []
    subnets = [ipaddress.ip_network(s) for s in args.subnets]
    for dst, dev in host_routes(set(args.ignore_dev)):
        net = ipaddress.ip_network(dst, strict=False)
        problems += ["%s overlaps the host route %s (dev %s)" % (s, net, dev)
                     for s in subnets if s.version == net.version and s.overlaps(net)]
    for host in source_hosts():
        try:
            addrs = set(info[4][0] for info in socket.getaddrinfo(host, None))
        except socket.gaierror:
            continue
        for addr in addrs:
            ip = ipaddress.ip_address(addr.split("%")[0])
            problems += ["%s contains %s, where the package source %s resolves" % (s, ip, host)
                         for s in subnets if ip in s]
    for problem in problems:
        print("unsafe lab subnet: %s" % problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
