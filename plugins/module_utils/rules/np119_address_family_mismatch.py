# -*- coding: utf-8 -*-
# Copyright: netpolicy maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ..findings import ERROR
from .base import Rule


def check(ctx):
    for i, grant in enumerate(ctx.grants):
        if ctx.server_nets[i] is None:
            continue
        clients = set(n.version for n in ctx.client_nets[i])
        servers = set(n.version for n in ctx.server_nets[i])
        if not clients & servers:
            yield ("grants", i, "servers"), (
                "grant '%s' has only IPv%s clients and only IPv%s servers, so it matches "
                "nothing" % (grant["name"], "/".join(map(str, sorted(clients))),
                             "/".join(map(str, sorted(servers)))))


RULE = Rule("NP119", ERROR, "Clients and servers share no address family",
            "IPv4 clients cannot reach IPv6 servers through this router (no NAT64), and vice "
            "versa; such a grant matches no traffic.", check)
