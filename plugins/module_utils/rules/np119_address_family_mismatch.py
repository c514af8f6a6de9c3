# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from ..netaddr import parse_net
from .base import Rule


def _families(values):
    return set(parse_net(v).version for v in values)


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if grant["servers"] == "any":
            continue
        clients, servers = _families(grant["clients"]), _families(grant["servers"])
        if not clients & servers:
            yield ("grants", i, "servers"), (
                "grant '%s' has only IPv%s clients and only IPv%s servers, so it matches "
                "nothing" % (grant["name"], "/".join(map(str, sorted(clients))),
                             "/".join(map(str, sorted(servers)))))


RULE = Rule("NP119", ERROR, "Clients and servers share no address family",
            "IPv4 clients cannot reach IPv6 servers through this router (no NAT64), and vice "
            "versa; such a grant matches no traffic.", check)
