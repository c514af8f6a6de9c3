# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import WARNING
from ..netaddr import parse_net
from .base import Rule


def _raw_esp(grant):
    ipsec = grant["ipsec"]
    return ("ipsec" in grant["protocols"] and ipsec["esp"]
            and ipsec["nat_traversal"] == "allowed")


def check(ctx):
    if not ctx.nat:
        return
    # Count client addresses per server across all raw-ESP grants: two one-client grants to
    # the same server collide just like one grant with two clients.
    clients_per_server = {}
    esp_grants = [(i, g) for i, g in enumerate(ctx.grants) if _raw_esp(g)]
    for dummy, grant in esp_grants:
        count = sum(parse_net(c).num_addresses for c in grant["clients"])
        for server in grant["servers"] if grant["servers"] != "any" else ["any"]:
            clients_per_server[server] = clients_per_server.get(server, 0) + count
    for i, grant in esp_grants:
        servers = grant["servers"] if grant["servers"] != "any" else ["any"]
        crowded = [s for s in servers if clients_per_server[s] > 1]
        if crowded:
            yield ("grants", i, "ipsec", "esp"), (
                "grant '%s' allows raw ESP from more than one client to %s: behind NAT Linux "
                "tracks ESP per address pair, so only ONE client per server works at a time; "
                "make clients use NAT-T (nat_traversal: required)"
                % (grant["name"], ", ".join(crowded)))


RULE = Rule("NP113", WARNING, "Raw ESP from several clients to one server behind NAT",
            "ESP (IP protocol 50) has no ports. Linux conntrack tracks it per address pair, so "
            "behind one NAT address a second client's ESP to the same server collides with the "
            "first until that entry times out. NAT-T (RFC 3947/3948, UDP 4500) avoids this.",
            check, waivable=True)
